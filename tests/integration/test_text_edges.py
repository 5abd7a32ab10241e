"""Text no encoding can write, and secrets in paths: a lone UTF-16 surrogate sent in JSON
("\\ud800") is a field error (422), never a 500, on both services' APIs; the status-link secrets
of the registry's status page and ingest's follow-up form never reach a log in clear."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app as create_ingest
from services.ingest.reports.models import EXAMPLE_REPORT
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.support.kafka import fresh_namespace, provision
from vigie.logs import _RedactSecrets

SURROGATE = "\\ud800"  # as JSON writes it: the six characters, not a character


def _with(body: Mapping[str, object], field: str) -> bytes:
    """``body`` as JSON with ``field`` set to a lone surrogate."""
    marker = "@@surrogate@@"
    return json.dumps({**body, field: marker}).replace(marker, SURROGATE + "x").encode()


@pytest.fixture
def ingest(kafka_bootstrap: str) -> Iterator[TestClient]:
    settings = IngestSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    with TestClient(create_ingest(settings)) as client:
        yield client


def test_a_lone_surrogate_is_a_field_error_at_ingest(ingest: TestClient) -> None:
    headers = {"content-type": "application/json"}
    for field in ("narrative", "establishment", "country"):
        body = _with(EXAMPLE_REPORT, field)
        response = ingest.post("/api/v1/reports", content=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert [e["loc"][-1] for e in response.json()["detail"]] == [field]
    follow_up = {"status_token": "x" * 43, "text": "ok"}
    for field in ("text", "outcome", "status_token"):
        body = _with(follow_up, field)
        response = ingest.post("/api/v1/follow-ups", content=body, headers=headers)
        assert response.status_code == 422, (field, response.text)
        assert field in {e["loc"][-1] for e in response.json()["detail"]}


def test_a_lone_surrogate_is_a_field_error_at_the_registry(database_url: str) -> None:
    app = create_registry(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/status-links/check",
            content=_with({}, "token"),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "token"]]


def test_status_link_secrets_are_redacted_from_access_logs() -> None:
    secret = "s3cr3t-Secret_value"
    redact = _RedactSecrets()
    for path in (f"/status/{secret}", f"/follow-up/{secret}?lang=fr"):
        access = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5000", "GET", path, "1.1", 200),
            None,
        )
        assert redact.filter(access)
        assert secret not in access.getMessage()
        assert "<redacted>" in access.getMessage()
        plain = logging.LogRecord("x", logging.INFO, __file__, 1, f"GET {path}", None, None)
        assert redact.filter(plain)
        assert secret not in plain.getMessage()
