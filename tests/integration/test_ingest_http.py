"""Ingest over HTTP against the real broker: receipts only after Kafka, errors with fields."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest

from services.ingest.app import create_app
from services.ingest.reports.models import EXAMPLE_REPORT
from services.ingest.settings import IngestSettings
from tests.support.kafka import drain, fresh_namespace, provision
from vigie.contracts import ReportSubmitted


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


def test_idempotency_key_returns_the_same_receipt(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    headers = {"Idempotency-Key": "0b7f7a52-5d8c-4b7e-9d55-1c2f8b1e2f3a"}
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


def test_a_retry_on_another_replica_or_after_a_restart_is_the_same_report(
    ingest: tuple[TestClient, IngestSettings],
) -> None:
    client, settings = ingest
    headers = {"Idempotency-Key": "retried-elsewhere"}
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
    assert retried.json()["status_url"] == first.json()["status_url"]
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


def test_operations_endpoints(ingest: tuple[TestClient, IngestSettings]) -> None:
    client, _ = ingest
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post("/api/v1/reports", json=EXAMPLE_REPORT)
    # Metrics have a listener of their own (VIGIE_INGEST_METRICS_PORT), not the public port.
    assert client.get("/metrics").status_code == 404
    assert "vigie_reports_accepted_total" in generate_latest().decode()
