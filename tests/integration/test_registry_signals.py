"""Signals in the registry, on SQLite and PostgreSQL: drift storage and access, trends with usage,
disproportionality, and statistical alerts raised once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.outbox import OutboxEvent
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import record_drift
from services.registry.signals.statistics import scan
from services.registry.signals.usage import record_usage
from tests.support.factories import triaged
from vigie.contracts import (
    AiSuggestionCategory,
    DeviceRef,
    DriftDetected,
    SignalSeverity,
    TelemetryWindow,
)

ALERTS = "vigie.alerts.v1"
T0 = datetime(2026, 11, 2, tzinfo=UTC)
ACME = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2.4")
GLOBEX = DeviceRef(name="Lung CAD", manufacturer="Globex", model_version="1.0")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as c:
        yield c


def session_of(client: TestClient) -> Session:
    return Session(client.app.state.engine)  # type: ignore[attr-defined]


def auth(client: TestClient, role: Role, manufacturer: str | None = None) -> dict[str, str]:
    with session_of(client) as session:
        return {
            "Authorization": f"Bearer {create_token(session, role=role, manufacturer=manufacturer)}"
        }


def drift(device: DeviceRef, hour: int, severity: SignalSeverity) -> DriftDetected:
    return DriftDetected(
        signal_id=uuid.uuid4(),
        device=device,
        detector="psi",
        subject="feature:age",
        statistic=0.9,
        threshold=0.25,
        reference_window=(T0, T0 + timedelta(hours=3)),
        current_window=(T0 + timedelta(hours=hour), T0 + timedelta(hours=hour + 1)),
        severity=severity,
        summary="age drifted",
    )


def test_drift_signals_stored_once_alerted_when_severe_and_scoped(client: TestClient) -> None:
    high, low, other = (
        drift(ACME, 8, SignalSeverity.HIGH),
        drift(ACME, 9, SignalSeverity.LOW),
        drift(GLOBEX, 8, SignalSeverity.HIGH),
    )
    with session_of(client) as session:
        first = record_drift(session, [high, low, other, high], alerts_topic=ALERTS, country="FR")
        again = record_drift(session, [high], alerts_topic=ALERTS, country="FR")
        assert (first.inserted, first.duplicates, first.alerts) == (3, 1, 2)
        assert (again.inserted, again.alerts) == (0, 0)
        drift_alerts = [
            e for e in session.exec(select(OutboxEvent)) if '"alert_type":"drift"' in e.payload
        ]
        assert len(drift_alerts) == 2

    regulator = client.get("/api/v1/signals/drift", headers=auth(client, Role.REGULATOR)).json()
    assert {s["signal_id"] for s in regulator} == {
        str(high.signal_id),
        str(low.signal_id),
        str(other.signal_id),
    }
    acme = auth(client, Role.MANUFACTURER, "ACME")
    own = client.get("/api/v1/signals/drift", headers=acme).json()
    assert {s["signal_id"] for s in own} == {str(high.signal_id), str(low.signal_id)}
    assert client.get(f"/api/v1/signals/drift/{other.signal_id}", headers=acme).status_code == 404
    only_high = client.get("/api/v1/signals/drift?severity=high", headers=acme).json()
    assert [s["signal_id"] for s in only_high] == [str(high.signal_id)]
    for role in (Role.CLINICIAN, Role.DEVICE):
        headers = auth(client, role)
        assert client.get("/api/v1/signals/drift", headers=headers).status_code == 403
        assert client.get("/api/v1/signals/trends", headers=headers).status_code == 403
    assert client.get("/api/v1/signals/drift").status_code == 401
    # The signal is linked to the catalogue entry and its model version.
    device = client.get(
        f"/api/v1/devices/{regulator[0]['device_id']}", headers=auth(client, Role.REGULATOR)
    ).json()
    assert device["model_versions"]


def test_trend_per_use_and_disproportionality_raise_alerts_once(client: TestClient) -> None:
    today = date.today()
    monday = today - timedelta(days=today.weekday())
    events = []
    # Acme: 2 reports a week for 10 weeks, then 12 this week; Globex steady.
    for weeks_ago in range(11):
        day = monday - timedelta(weeks=weeks_ago)
        n = 12 if weeks_ago == 0 else 2
        events += [triaged(device=ACME, awareness_date=day) for _ in range(n)]
        events += [triaged(device=GLOBEX, awareness_date=day) for _ in range(3)]
    # Acme's reports are mostly "bias against a group"; other devices' rarely.
    events = [
        e.model_copy(update={"triage": e.triage.model_copy(update={"category": category})})
        for e, category in zip(
            events,
            (
                (
                    AiSuggestionCategory.BIAS_AGAINST_GROUP
                    if e.report.device.manufacturer == "Acme" and i % 3 == 0
                    else AiSuggestionCategory.MISSED_FINDING
                )
                for i, e in enumerate(events)
            ),
            strict=True,
        )
    ]
    usage = [
        TelemetryWindow(
            device=ACME,
            window_start=datetime.combine(monday - timedelta(weeks=w), datetime.min.time(), UTC),
            window_end=datetime.combine(monday - timedelta(weeks=w), datetime.min.time(), UTC)
            + timedelta(hours=1),
            n_predictions=1000,
        )
        for w in range(1, 11)
    ]
    with session_of(client) as session:
        record_triaged(session, events, alerts_topic=ALERTS)
        assert record_usage(session, usage) == 10
        assert record_usage(session, usage) == 0  # redelivered windows count once

    headers = auth(client, Role.REGULATOR)
    trends = {
        t["device_name"]: t for t in client.get("/api/v1/signals/trends", headers=headers).json()
    }
    acme = trends["Sepsis Watch"]
    this_week = acme["weeks"][-1]
    assert this_week["reports"] == 12 and this_week["flagged"]
    assert acme["flagged_weeks"] == [this_week["week"]]
    assert acme["weeks"][-2]["usage"] == 1000 and acme["weeks"][-2]["rate_per_1000_uses"] == 2.0
    assert trends["Lung CAD"]["flagged_weeks"] == []

    rows = client.get("/api/v1/signals/disproportionality", headers=headers).json()
    flagged = [(r["device_name"], r["category"]) for r in rows if r["flagged"]]
    assert flagged == [("Sepsis Watch", "bias_against_group")]
    bias = rows[0]
    assert bias["prr"] >= 2 and bias["chi2"] >= 4 and bias["reports"] >= 3
    assert bias["ror_ci95"][0] < bias["ror"] < bias["ror_ci95"][1]
    globex = client.get(
        "/api/v1/signals/disproportionality", headers=auth(client, Role.MANUFACTURER, "Globex")
    ).json()
    assert {r["device_name"] for r in globex} == {"Lung CAD"}

    with session_of(client) as session:
        assert scan(session, alerts_topic=ALERTS, country="FR") == 2
        assert scan(session, alerts_topic=ALERTS, country="FR") == 0
        stat_alerts = [
            e
            for e in session.exec(select(OutboxEvent))
            if '"alert_type":"statistical_signal"' in e.payload
        ]
        assert len(stat_alerts) == 2
