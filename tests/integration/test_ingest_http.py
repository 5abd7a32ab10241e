"""Ingest over HTTP against the real broker: receipts only after Kafka, errors with fields."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from services.common.deid import load_scrubber
from services.ingest.app import create_app
from services.ingest.reports.models import EXAMPLE_REPORT
from services.ingest.reports.nonces import issue_nonce
from services.ingest.settings import IngestSettings
from tests.support.kafka import drain, fresh_namespace, provision, read_all
from vigie.contracts import ReportSubmitted, utcnow
from vigie.rules.privacy import scrub


@pytest.fixture
def ingest(kafka_bootstrap: str) -> Iterator[tuple[TestClient, IngestSettings]]:
    settings = IngestSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=fresh_namespace(),
        ingest_max_body_bytes=8192,
    )
    provision(settings)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def test_accepted_report_is_on_kafka_without_identifiers(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    response = client.post("/api/v1/reports", json=EXAMPLE_REPORT)
    assert response.status_code == 202
    receipt = response.json()
    assert re.fullmatch(r"VG-[0-9A-Z]{4}-[0-9A-Z]{4}", receipt["tracking_number"])
    assert receipt["status_url"].startswith("http://127.0.0.1:8001/status/")
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 1
    )
    assert len(records) == 1
    event = ReportSubmitted.model_validate_json(records[0].value)
    assert str(event.report_id) == receipt["report_id"]
    assert records[0].key == event.report_id.bytes
    assert b"40012345" not in records[0].value
    assert event.patient_pseudonym is not None


def nonce(client: TestClient) -> str:
    """A submission nonce, the Idempotency-Key of an anonymous submission."""
    issued = client.post("/api/v1/submission-nonces")
    assert issued.status_code == 201
    value: str = issued.json()["nonce"]
    return value


def test_idempotency_key_returns_the_same_receipt(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    headers = {"Idempotency-Key": nonce(client)}
    first = client.post("/api/v1/reports", json=EXAMPLE_REPORT, headers=headers)
    again = client.post("/api/v1/reports", json=EXAMPLE_REPORT, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    changed = {**EXAMPLE_REPORT, "narrative": "A different report under the same key."}
    conflict = client.post("/api/v1/reports", json=changed, headers=headers)
    assert conflict.status_code == 409
    records = drain(
        settings.kafka_bootstrap_servers,
        settings.topics.reports,
        until=lambda r: len(r) >= 2,
        timeout_s=5,
    )
    assert len(records) == 1


def test_an_anonymous_key_must_be_a_submission_nonce(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    for key in ("0b7f7a52-5d8c-4b7e-9d55-1c2f8b1e2f3a", "n1.forged", nonce(client)[:-4] + "AAAA"):
        refused = client.post(
            "/api/v1/reports", json=EXAMPLE_REPORT, headers={"Idempotency-Key": key}
        )
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert error["loc"] == ["header", "idempotency-key"]
        assert "/api/v1/submission-nonces" in error["msg"]
    # Another deployment's nonce (another secret) is not this one's.
    other = IngestSettings(pseudonym_key="another deployment's secret, 32+ chars")
    with TestClient(create_app(other)) as elsewhere:
        foreign = nonce(elsewhere)
    assert (
        client.post(
            "/api/v1/reports", json=EXAMPLE_REPORT, headers={"Idempotency-Key": foreign}
        ).status_code
        == 422
    )
    assert read_all(settings.kafka_bootstrap_servers, settings.topics.reports) == []


def test_a_retry_on_another_replica_or_after_a_restart_is_the_same_report(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    headers = {"Idempotency-Key": nonce(client)}
    first = client.post("/api/v1/reports", json=EXAMPLE_REPORT, headers=headers)
    changed = {**EXAMPLE_REPORT, "narrative": "A different report under the same key."}
    # Other replicas (or this one restarted): they remember nothing of the first.
    with TestClient(create_app(settings)) as other:
        retried = other.post("/api/v1/reports", json=EXAMPLE_REPORT, headers=headers)
        # The replica that saw the key refuses another body under it...
        assert other.post("/api/v1/reports", json=changed, headers=headers).status_code == 409
    with TestClient(create_app(settings)) as third:
        # ...one that did not makes it a report of its own rather than dropping it.
        reused = third.post("/api/v1/reports", json=changed, headers=headers)
    assert first.status_code == retried.status_code == reused.status_code == 202
    assert retried.json()["report_id"] == first.json()["report_id"]
    assert retried.json()["tracking_number"] == first.json()["tracking_number"]
    # Status links are random: the retry's receipt has a link of its own (both work once the
    # registry recorded the report; see test_ingest_idempotency).
    assert retried.json()["status_url"] != first.json()["status_url"]
    assert reused.json()["report_id"] != first.json()["report_id"]
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 3
    )
    ids = [str(ReportSubmitted.model_validate_json(r.value).report_id) for r in records]
    # The registry records a report id once: two reports, the retry folded into the first.
    assert sorted(ids) == sorted([first.json()["report_id"]] * 2 + [reused.json()["report_id"]])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "rumour"}, ["body", "kind"]),
        ({"narrative": "short"}, ["body", "narrative"]),
        ({"device": {"name": "X"}}, ["body", "device", "manufacturer"]),
        ({"country": "France"}, ["body", "country"]),
        ({"patient_name": "Jean Dupont"}, ["body", "patient_name"]),
    ],
)
def test_invalid_reports_get_field_errors(
    ingest: tuple[TestClient, IngestSettings], change: dict[str, Any], field: list[str]
) -> None:
    client, _ = ingest
    response = client.post("/api/v1/reports", json={**EXAMPLE_REPORT, **change})
    assert response.status_code == 422
    assert field in [error["loc"] for error in response.json()["detail"]]


def test_oversized_and_malformed_bodies_are_refused(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, _ = ingest
    huge = {**EXAMPLE_REPORT, "narrative": "x" * 10_000}
    assert client.post("/api/v1/reports", json=huge).status_code == 413

    def chunks() -> Iterator[bytes]:
        body = json.dumps(huge).encode()
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    chunked = client.post(
        "/api/v1/reports", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    broken = client.post(
        "/api/v1/reports", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422


def test_form_in_both_languages_with_accessible_errors(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    french = client.get("/")
    assert french.status_code == 200 and '<html lang="fr">' in french.text
    assert '<label for="narrative">Description de l&#39;incident *</label>' in french.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Submit the report" in english.text
    assert (
        client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).text.count(
            "Submit the report"
        )
        == 1
    )

    form = {
        "lang": "en",
        "kind": "adverse_event",
        "reporter_role": "nurse",
        "device_name": "Sepsis Watch",
        "device_manufacturer": "Acme Health",
        "device_model_version": "2.0",
        "awareness_date": "2026-11-01",
        "outcome": "injury",
        "narrative": "short",
    }
    invalid = client.post("/", data=form)
    assert invalid.status_code == 422
    assert 'aria-invalid="true"' in invalid.text and 'id="narrative-error"' in invalid.text
    assert 'value="Sepsis Watch"' in invalid.text  # what was typed is kept

    form["narrative"] = "The early-warning score stayed low while the patient became septic."
    done = client.post("/", data=form)
    assert done.status_code == 202
    number = re.search(r'id="tracking-number">([^<]+)<', done.text)
    assert number is not None
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 1
    )
    assert ReportSubmitted.model_validate_json(records[0].value).tracking_number == number[1]


def submission_id(page: str) -> str:
    found = re.search(r'name="submission_id" value="([^"]+)"', page)
    assert found is not None
    return found[1]


FORM = {
    "lang": "fr",
    "kind": "adverse_event",
    "reporter_role": "physician",
    "establishment": "CHU de Bordeaux",
    "device_name": "Sepsis Watch",
    "device_manufacturer": "Acme Health",
    "device_model_version": "2.0",
    "awareness_date": "2026-11-01",
    "outcome": "injury",
    "narrative": "Score resté bas, patient transféré en réanimation. IPP 40012345, "
    "joignable au 06 12 34 56 78 ou marie.dupont@example.org.",
}


def test_the_confirmation_shows_what_was_sent(ingest: tuple[TestClient, IngestSettings]) -> None:
    client, settings = ingest
    page = client.get("/")
    key = submission_id(page.text)
    assert key.startswith("n1.")
    assert submission_id(client.get("/").text) != key  # one nonce per displayed form
    done = client.post("/", data={**FORM, "submission_id": key})
    assert done.status_code == 202
    assert "Ce qui a été transmis" in done.text
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 1
    )
    [event] = [ReportSubmitted.model_validate_json(r.value) for r in records]
    shown = re.search(r'id="sent-narrative">([^<]*)<', done.text)
    assert shown is not None and html.unescape(shown[1]) == event.narrative
    for identifier in ("40012345", "06 12 34 56 78", "marie.dupont@example.org"):
        assert identifier not in done.text
    assert 'id="sent-establishment">' in done.text
    # A double click is the same submission: the same receipt, one report.
    again = client.post("/", data={**FORM, "submission_id": key})
    assert re.findall(r'id="tracking-number">([^<]+)<', again.text) == re.findall(
        r'id="tracking-number">([^<]+)<', done.text
    )
    english_form = client.get("/?lang=en").text
    english = client.post(
        "/", data={**FORM, "lang": "en", "submission_id": submission_id(english_form)}
    )
    assert "What was sent" in english.text


def test_an_expired_form_is_shown_again_with_a_fresh_nonce(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    expired, _ = issue_nonce(
        key=settings.submission_nonce_key_bytes, ttl_s=60, now=utcnow() - timedelta(hours=1)
    )
    page = client.post("/", data={**FORM, "submission_id": expired})
    assert page.status_code == 422
    assert "Ce formulaire a expiré" in page.text
    assert 'value="Sepsis Watch"' in page.text  # what was typed is kept
    fresh = submission_id(page.text)
    assert fresh != expired
    assert client.post("/", data={**FORM, "submission_id": fresh}).status_code == 202


def test_operations_endpoints(ingest: tuple[TestClient, IngestSettings]) -> None:
    client, _ = ingest
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post("/api/v1/reports", json=EXAMPLE_REPORT)
    # Metrics have a listener of their own (VIGIE_INGEST_METRICS_PORT), not the public port.
    assert client.get("/metrics").status_code == 404
    assert "vigie_reports_accepted_total" in generate_latest().decode()


def test_a_catalogue_id_is_kept_only_when_the_catalogue_agrees(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    """An API client may not pass a device of its own for a catalogue device: the id it
    claims is dropped unless the name and manufacturer are that entry's; a device spelled as
    the catalogue spells it gets its id."""
    client, settings = ingest
    catalogue = "Tempus ECG-AF", "Tempus Labs, Inc."
    sent = [
        ({"name": "My own AI", "manufacturer": "Acme", "catalogue_id": "DEV_00001"}, None),
        ({"name": catalogue[0], "manufacturer": catalogue[1]}, "DEV_00001"),
        (
            {"name": catalogue[0], "manufacturer": catalogue[1], "catalogue_id": "DEV_00002"},
            "DEV_00001",
        ),
    ]
    for device, _ in sent:
        body = {**EXAMPLE_REPORT, "device": {**EXAMPLE_REPORT["device"], **device}}
        response = client.post("/api/v1/reports", json=body)
        assert response.status_code == 202, response.text
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 3
    )
    published = {
        (e.device.name, e.device.catalogue_id)
        for e in (ReportSubmitted.model_validate_json(r.value) for r in records)
    }
    assert published == {(d["name"], expected) for d, expected in sent}


def test_scrubbing_processes_send_on_what_the_serving_process_would(kafka_bootstrap: str) -> None:
    settings = IngestSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=fresh_namespace(),
        ingest_scrub_processes=1,
    )
    provision(settings)
    report = {
        **EXAMPLE_REPORT,
        "establishment": "Clinique du Dr Jean Moreau",
        "narrative": "Mme Jeanne ROUSSEAU, née le 12/03/1947, IPP 40012345, joignable au "
        "06 12 34 56 78 : le logiciel n'a pas signalé le nodule.",
    }
    with TestClient(create_app(settings)) as client:
        first = client.post("/api/v1/reports", json=report)
        again = client.post("/api/v1/reports", json=report)
    assert first.status_code == again.status_code == 202
    scrubber = load_scrubber()
    key, version = settings.pseudonym_key_bytes, settings.pseudonym_key_version
    for receipt in (first.json(), again.json()):
        assert receipt["narrative"] == scrub(
            scrubber.scrub(report["narrative"], key=key, language="fr", version=version),
            key=key,
            version=version,
        )
        assert receipt["establishment"] == scrubber.scrub(
            report["establishment"], key=key, language="fr", version=version
        )
    records = drain(
        settings.kafka_bootstrap_servers, settings.topics.reports, until=lambda r: len(r) >= 2
    )
    assert len(records) == 2
    for record in records:
        for identifier in (b"ROUSSEAU", b"12/03/1947", b"40012345", b"06 12 34 56 78", b"Moreau"):
            assert identifier not in record.value
