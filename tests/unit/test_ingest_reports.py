"""Report submission logic: events carry no clear identifier; retries map to one report."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.ingest.form.views import field_errors, form_to_report
from services.ingest.reports.models import EXAMPLE_REPORT, ReportCreate
from services.ingest.reports.nonces import InvalidNonce, check_nonce, issue_nonce
from services.ingest.reports.service import (
    NONCE_SCOPE,
    IdempotencyConflict,
    IdempotencyStore,
    body_fingerprint,
    build_event,
    hash_status_token,
    make_receipt,
    new_status_token,
    principal_scope,
    report_id_for,
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


def test_same_idempotency_key_gives_same_report_within_its_scope() -> None:
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    body = body_fingerprint(form)
    other = body_fingerprint(form.model_copy(update={"narrative": form.narrative + " (bis)"}))
    alice, bob = principal_scope("ps1:" + "a" * 32), principal_scope("ps1:" + "b" * 32)

    def rid(
        idempotency_key: str | None,
        fingerprint: str = body,
        key: bytes = KEY,
        scope: str = alice,
    ) -> uuid.UUID:
        return report_id_for(idempotency_key, scope=scope, fingerprint=fingerprint, key=key)

    assert rid("abc") == rid("abc")  # a retry, on any replica, after any restart
    assert rid("abc").version == 8 and rid("abc").variant == uuid.RFC_4122
    assert rid("abc") != rid("abd")
    assert rid("abc") != rid("abc", other)  # the key reused for another report: not merged
    assert rid("abc") != rid("abc", key=b"another deployment's key")
    # Another party's key is another party's report, whatever the body.
    assert rid("abc") != rid("abc", scope=bob)
    assert rid("abc") != rid("abc", scope=NONCE_SCOPE)
    assert rid(None) != rid(None)


def test_status_tokens_are_random_and_only_their_hash_travels() -> None:
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    report_id = uuid.uuid4()
    token, again = new_status_token(), new_status_token()
    assert token != again and len(token) >= 43  # 32 random bytes
    first = build_event(form, report_id=report_id, key=KEY, status_token=token)
    retried = build_event(form, report_id=report_id, key=KEY, status_token=again)
    assert first.report_id == retried.report_id
    assert first.tracking_number == retried.tracking_number
    assert first.status_token_hash == hash_status_token(token)
    assert retried.status_token_hash == hash_status_token(again)
    assert token not in first.model_dump_json()
    receipt = make_receipt(first, registry_url="http://r/", status_token=token)
    link_token = receipt.status_url.rsplit("/", 1)[1]
    assert hashlib.sha256(link_token.encode()).hexdigest() == first.status_token_hash
    assert build_event(form, report_id=report_id, key=KEY).status_token_hash is None


def test_receipt_shows_what_was_sent() -> None:
    form = ReportCreate.model_validate(
        {**EXAMPLE_REPORT, "narrative": EXAMPLE_REPORT["narrative"] + " Tél. 06 12 34 56 78."}
    )
    event = build_event(form, report_id=uuid.uuid4(), key=KEY, status_token="t")
    receipt = make_receipt(event, registry_url="http://r", status_token="t")
    assert receipt.narrative == event.narrative and "06 12 34 56 78" not in receipt.narrative
    assert receipt.establishment == event.establishment == EXAMPLE_REPORT["establishment"]


def test_pseudonyms_carry_the_key_version() -> None:
    form = ReportCreate.model_validate(
        {**EXAMPLE_REPORT, "narrative": EXAMPLE_REPORT["narrative"] + " IPP 12345678."}
    )
    event = build_event(form, report_id=uuid.uuid4(), key=KEY, pseudonym_version=2)
    assert event.patient_pseudonym is not None and event.patient_pseudonym.startswith("ps2:")
    assert "[ps2:" in event.narrative


def test_tracking_number_format() -> None:
    number = tracking_number(uuid.UUID("ffffffff-ffff-4fff-8fff-ffffffffffff"))
    assert number == "VG-ZZZZ-ZZZZ"


def test_idempotency_store_detects_a_different_body_within_a_scope() -> None:
    store = IdempotencyStore(max_entries=2)
    form = ReportCreate.model_validate(EXAMPLE_REPORT)
    receipt = make_receipt(
        build_event(form, report_id=uuid.uuid4(), key=KEY),
        registry_url="http://r",
        status_token="t",
    )
    store.put("alice", "k", body_fingerprint(form), receipt)
    assert store.get("alice", "k", body_fingerprint(form)) == receipt
    # Another party using the same key gets nothing of the first's (nor a conflict).
    assert store.get("bob", "k", body_fingerprint(form)) is None
    other = form.model_copy(update={"narrative": "Something else entirely happened."})
    assert store.get("bob", "k", body_fingerprint(other)) is None
    with pytest.raises(IdempotencyConflict):
        store.get("alice", "k", body_fingerprint(other))
    store.put("alice", "k2", "x", receipt)
    store.put("alice", "k3", "x", receipt)
    assert store.get("alice", "k", body_fingerprint(form)) is None  # bounded: oldest evicted


def test_submission_nonces_are_unpredictable_signed_and_expire() -> None:
    now = utcnow()
    nonce, expires = issue_nonce(key=KEY, ttl_s=60, now=now)
    assert nonce != issue_nonce(key=KEY, ttl_s=60, now=now)[0]
    assert expires > now
    check_nonce(nonce, key=KEY, now=now)  # any replica, no store
    with pytest.raises(InvalidNonce, match="expired"):
        check_nonce(nonce, key=KEY, now=now + timedelta(seconds=120))
    with pytest.raises(InvalidNonce, match="not issued"):
        check_nonce(nonce, key=b"another deployment's key", now=now)
    tampered = nonce[:-2] + ("AA" if not nonce.endswith("AA") else "BB")
    with pytest.raises(InvalidNonce):
        check_nonce(tampered, key=KEY, now=now)
    for garbage in ("", "n1.", "n1.!!!", "2f9c6a0e-1d7b-4c55-9a8e-3b1f0c2d4e5f", "n1." + "A" * 54):
        with pytest.raises(InvalidNonce):
            check_nonce(garbage, key=KEY, now=now)


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
    assert set(field_errors(short.value, "fr")) == {"narrative"}
    with pytest.raises(ValidationError) as extra:
        ReportCreate.model_validate({**form_to_report(FORM, "fr"), "debug": "1"})
    assert field_errors(extra.value, "fr")["__all__"].startswith("debug: ")
