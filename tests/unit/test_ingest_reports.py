"""Report submission logic: events carry no clear identifier; retries map to one report."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.ingest.form.views import field_errors, form_to_report
from services.ingest.reports.models import EXAMPLE_REPORT, ReportCreate
from services.ingest.reports.service import (
    IdempotencyConflict,
    IdempotencyStore,
    body_fingerprint,
    build_event,
    make_receipt,
    report_id_for,
    status_token,
    tracking_number,
)
from vigie.contracts import utcnow

KEY = b"unit-test-key"


def test_event_is_pseudonymised() -> None:
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    event = build_event(form, report_id=uuid.uuid4(), key=KEY)
    wire = event.model_dump_json()
    assert "40012345" not in wire
    assert event.patient_pseudonym is not None and event.patient_pseudonym.startswith("ps1:")
    assert "patient_identifier" not in wire


def test_same_idempotency_key_gives_same_report_and_status_link() -> None:
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    body = body_fingerprint(form)
    other = body_fingerprint(form.model_copy(update={"narrative": form.narrative + " (bis)"}))

    def rid(idempotency_key: str | None, fingerprint: str = body, key: bytes = KEY) -> uuid.UUID:
        return report_id_for(idempotency_key, fingerprint=fingerprint, key=key)

    assert rid("abc") == rid("abc")  # a retry, on any replica, after any restart
    assert rid("abc").version == 8 and rid("abc").variant == uuid.RFC_4122
    assert rid("abc") != rid("abd")
    assert rid("abc") != rid("abc", other)  # the key reused for another report: not merged
    assert rid("abc") != rid("abc", key=b"another deployment's key")
    assert rid(None) != rid(None)
    first = build_event(form, report_id=rid("abc"), key=KEY)
    again = build_event(form, report_id=rid("abc"), key=KEY)
    assert first.report_id == again.report_id
    assert first.tracking_number == again.tracking_number
    assert first.status_token_hash == again.status_token_hash
    receipt = make_receipt(first, registry_url="http://r/", key=KEY)
    token = receipt.status_url.rsplit("/", 1)[1]
    assert hashlib.sha256(token.encode()).hexdigest() == first.status_token_hash


def test_tracking_number_format() -> None:
    number = tracking_number(uuid.UUID("ffffffff-ffff-4fff-8fff-ffffffffffff"))
    assert number == "VG-ZZZZ-ZZZZ"
    assert status_token(uuid.uuid4(), key=KEY) != status_token(uuid.uuid4(), key=KEY)


def test_idempotency_store_detects_a_different_body() -> None:
    store = IdempotencyStore(max_entries=2)
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    receipt = make_receipt(
        build_event(form, report_id=uuid.uuid4(), key=KEY), registry_url="http://r", key=KEY
    )
    store.put("k", body_fingerprint(form), receipt)
    assert store.get("k", body_fingerprint(form)) == receipt
    other = form.model_copy(update={"narrative": "Something else entirely happened."})
    with pytest.raises(IdempotencyConflict):
        store.get("k", body_fingerprint(other))
    store.put("k2", "x", receipt)
    store.put("k3", "x", receipt)
    assert store.get("k", body_fingerprint(form)) is None  # bounded: oldest evicted


def test_future_awareness_date_is_refused() -> None:
    data = {
        **EXAMPLE_REPORT,
        "awareness_date": (utcnow().date() + timedelta(days=2)).isoformat(),
        "event_date": None,
    }
    with pytest.raises(ValidationError, match="awareness_date cannot be in the future"):
        ReportCreate.model_validate(data)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        ReportCreate.model_validate({**EXAMPLE_REPORT, "patient_name": "Jean Dupont"})


FORM = {
    "lang": "fr",
    "submission_id": "2f9c6a0e-1d7b-4c55-9a8e-3b1f0c2d4e5f",
    "kind": "adverse_event",
    "reporter_role": "physician",
    "device_name": "Lung Nodule AI",
    "device_manufacturer": "Acme Imaging",
    "device_model_version": "3.1",
    "awareness_date": "2026-11-20",
    "outcome": "serious_deterioration",
    "language": "fr",
    "narrative": "Le logiciel n'a pas signalé un nodule de 14 mm ; diagnostic retardé.",
}


def test_the_form_as_a_browser_sends_it_is_a_valid_report() -> None:
    # The hidden submission id is the idempotency key of the submission, not a report field.
    report = ReportCreate.model_validate(form_to_report(FORM, "fr"))
    assert report.device.name == "Lung Nodule AI"


def test_form_errors_on_fields_not_shown_reach_the_top_of_the_page() -> None:
    with pytest.raises(ValidationError) as short:
        ReportCreate.model_validate(form_to_report({**FORM, "narrative": "court"}, "fr"))
    assert set(field_errors(short.value)) == {"narrative"}
    with pytest.raises(ValidationError) as extra:
        ReportCreate.model_validate({**form_to_report(FORM, "fr"), "debug": "1"})
    assert field_errors(extra.value)["__all__"].startswith("debug: ")
