"""Registry on SQLite and PostgreSQL: idempotent recording, outbox, role checks, pagination."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.cases.models import Case
from services.registry.outbox import OutboxEvent, pending
from services.registry.reports.models import Report
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import Alert, DeviceRef, ReportedOutcome

ALERTS = "vigie.alerts.v1"


@pytest.fixture
def app_client(database_url: str) -> Iterator[TestClient]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        yield client


def session_of(client: TestClient) -> Session:
    return Session(client.app.state.engine)  # type: ignore[attr-defined]


def token(client: TestClient, role: Role, manufacturer: str | None = None) -> dict[str, str]:
    with session_of(client) as session:
        secret = create_token(session, role=role, manufacturer=manufacturer)
    return {"Authorization": f"Bearer {secret}"}


def test_redelivered_reports_are_recorded_once(app_client: TestClient) -> None:
    serious = triaged(outcome=ReportedOutcome.DEATH)
    harmless = triaged()
    with session_of(app_client) as session:
        first = record_triaged(session, [serious, harmless, serious], alerts_topic=ALERTS)
        again = record_triaged(session, [harmless, serious], alerts_topic=ALERTS)
        assert (first.inserted, first.duplicates, first.alerts) == (2, 1, 1)
        assert (again.inserted, again.duplicates, again.alerts) == (0, 2, 0)
        assert session.exec(select(func.count()).select_from(Report)).one() == 2
        assert session.exec(select(func.count()).select_from(Case)).one() == 2
        outbox = pending(session, 10)
    assert len(outbox) == 1
    alert = Alert.model_validate_json(outbox[0].payload)
    assert alert.report_id == serious.report.report_id
    assert alert.deadline == serious.regulatory.deadline
    assert alert.obligations[0].article == "Art. 87(5)"


def test_role_matrix(app_client: TestClient) -> None:
    acme = triaged(device=DeviceRef(name="Lung", manufacturer="Acme", model_version="1"))
    other = triaged(device=DeviceRef(name="Skin", manufacturer="Globex", model_version="2"))
    with session_of(app_client) as session:
        record_triaged(session, [acme, other], alerts_topic=ALERTS)
    acme_id, other_id = acme.report.report_id, other.report.report_id
    headers = {
        "regulator": token(app_client, Role.REGULATOR),
        "admin": token(app_client, Role.ADMIN),
        "manufacturer": token(app_client, Role.MANUFACTURER, "ACME"),
        "clinician": token(app_client, Role.CLINICIAN),
        "device": token(app_client, Role.DEVICE),
    }
    # role -> (status of acme's report, status of the other maker's report, ids listed)
    expected = {
        "regulator": (200, 200, {acme_id, other_id}),
        "admin": (200, 200, {acme_id, other_id}),
        "manufacturer": (200, 404, {acme_id}),
        "clinician": (404, 404, set()),
        "device": (403, 403, None),
    }
    for role, (own, foreign, listed) in expected.items():
        h = headers[role]
        r_own = app_client.get(f"/api/v1/reports/{acme_id}", headers=h)
        r_foreign = app_client.get(f"/api/v1/reports/{other_id}", headers=h)
        assert (role, r_own.status_code, r_foreign.status_code) == (role, own, foreign)
        if foreign != 200:
            assert "Globex" not in r_foreign.text and "narrative" not in r_foreign.text
        r_list = app_client.get("/api/v1/reports", headers=h)
        if listed is None:
            assert r_list.status_code == 403
        else:
            assert r_list.status_code == 200
            assert {uuid.UUID(i["report_id"]) for i in r_list.json()["items"]} == listed
    assert app_client.get(f"/api/v1/reports/{acme_id}").status_code == 401
    bad = {"Authorization": "Bearer vg_not-a-token"}
    assert app_client.get("/api/v1/reports", headers=bad).status_code == 401


def test_tokens_are_stored_hashed(app_client: TestClient) -> None:
    h = token(app_client, Role.REGULATOR)
    secret = h["Authorization"].split()[1]
    with session_of(app_client) as session:
        from services.registry.auth.models import ApiToken

        stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.model_dump_json()


def test_filters_and_keyset_pagination(app_client: TestClient) -> None:
    events = [
        triaged(outcome=ReportedOutcome.DEATH if i % 3 == 0 else ReportedOutcome.NO_HARM)
        for i in range(25)
    ]
    with session_of(app_client) as session:
        record_triaged(session, events, alerts_topic=ALERTS)
    h = token(app_client, Role.REGULATOR)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        page = app_client.get("/api/v1/reports", headers=h, params=params).json()
        seen += [item["report_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25 and len(set(seen)) == 25
    deaths = app_client.get(
        "/api/v1/reports", headers=h, params={"severity": "death", "limit": 100}
    ).json()["items"]
    assert len(deaths) == 9
    assert all(item["severity"] == "death" and item["deadline"] for item in deaths)
    bad = app_client.get("/api/v1/reports", headers=h, params={"severity": "catastrophic"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "severity"]


def test_status_link_shows_status_and_nothing_else(app_client: TestClient) -> None:
    secret = "a" * 32
    event = triaged(status_token_hash=hashlib.sha256(secret.encode()).hexdigest())
    with session_of(app_client) as session:
        record_triaged(session, [event], alerts_topic=ALERTS)
    response = app_client.get(f"/api/v1/status/{secret}")
    assert response.status_code == 200
    assert set(response.json()) == {"tracking_number", "received_at", "case_status", "last_update"}
    assert response.json()["case_status"] == "triaged"
    assert app_client.get(f"/api/v1/status/{'b' * 32}").status_code == 404
    page = app_client.get(f"/status/{secret}?lang=en")
    assert page.status_code == 200 and event.report.tracking_number in page.text


def test_outbox_rows_are_unique_per_alert(app_client: TestClient) -> None:
    with session_of(app_client) as session:
        record_triaged(
            session, [triaged(outcome=ReportedOutcome.DEATH) for _ in range(3)], alerts_topic=ALERTS
        )
        ids = [row.event_id for row in session.exec(select(OutboxEvent))]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_device_catalogue_is_seeded_and_learns_model_versions(app_client: TestClient) -> None:
    h = token(app_client, Role.MANUFACTURER, "Acme")
    found = app_client.get("/api/v1/devices", headers=h, params={"q": "tempus ecg-af"}).json()
    assert [d["submission_number"] for d in found["items"]] == ["K233549"]
    assert found["items"][0]["risk_class"] == "II (FDA 510(k))"
    catalogued = DeviceRef(
        name="Tempus ECG-AF",
        manufacturer="Tempus Labs, Inc.",
        model_version="2.1",
        udi_di="00860004567890",
    )
    unknown = DeviceRef(
        name="Homegrown triage bot", manufacturer="CHU Exemple", model_version="0.3"
    )

    def record(*devices: DeviceRef) -> None:
        with session_of(app_client) as session:
            record_triaged(session, [triaged(device=d) for d in devices], alerts_topic=ALERTS)

    record(catalogued, catalogued, unknown)
    tempus = app_client.get("/api/v1/devices/DEV_00001", headers=h).json()
    assert tempus["model_versions"] == ["2.1"] and tempus["udi_di"] == "00860004567890"
    bot = app_client.get("/api/v1/devices", headers=h, params={"q": "homegrown"}).json()["items"]
    assert bot[0]["source"] == "reported" and bot[0]["model_versions"] == ["0.3"]
    # One batch naming the same unknown device in another case, twice, with a new version.
    shouted = DeviceRef(
        name="HOMEGROWN TRIAGE BOT", manufacturer="chu exemple", model_version="0.4"
    )
    record(shouted, unknown, shouted)
    bots = app_client.get("/api/v1/devices", headers=h, params={"q": "homegrown"}).json()["items"]
    assert len(bots) == 1 and bots[0]["model_versions"] == ["0.3", "0.4"]
    assert app_client.get("/api/v1/devices").status_code == 401


def test_subscriptions_are_for_regulators_and_private(app_client: TestClient) -> None:
    regulator = token(app_client, Role.REGULATOR)
    other_regulator = token(app_client, Role.REGULATOR)
    body = {"name": "ansm-serious", "severities": ["death", "serious"], "country": "FR"}
    created = app_client.post("/api/v1/subscriptions", headers=regulator, json=body)
    assert created.status_code == 201
    assert created.json()["topic"] == "vigie.alerts.v1.sub.ansm-serious"
    assert app_client.post("/api/v1/subscriptions", headers=regulator, json=body).status_code == 409
    maker = token(app_client, Role.MANUFACTURER, "Acme")
    assert (
        app_client.post(
            "/api/v1/subscriptions", headers=maker, json={**body, "name": "spy"}
        ).status_code
        == 403
    )
    bad = app_client.post(
        "/api/v1/subscriptions",
        headers=regulator,
        json={"name": "Bad Name!", "severities": ["catastrophic"]},
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} >= {("body", "name")}
    sub_id = created.json()["sub_id"]
    assert app_client.get("/api/v1/subscriptions", headers=other_regulator).json() == []
    assert (
        app_client.get(
            f"/api/v1/subscriptions/{sub_id}/deliveries", headers=other_regulator
        ).status_code
        == 404
    )
    assert (
        app_client.get(f"/api/v1/subscriptions/{sub_id}/deliveries", headers=regulator).json() == []
    )
