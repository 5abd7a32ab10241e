"""The registry's model versions of catalogue devices, which the report form offers: from the
devices' own telemetry only, readable without a token, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.usage import record_usage
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, TelemetryWindow

TEMPUS = {"name": "Tempus ECG-AF", "manufacturer": "Tempus Labs, Inc."}


@pytest.fixture
def app_client(database_url: str) -> Iterator[TestClient]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        yield client


def window(device: DeviceRef, day: int, *, reference: bool = False) -> TelemetryWindow:
    start = datetime(2026, 11, day, tzinfo=UTC)
    return TelemetryWindow(
        device=device,
        window_start=start,
        window_end=start + timedelta(hours=1),
        n_predictions=40,
        reference=reference,
    )


def test_versions_come_from_the_catalogue_devices_telemetry_only(app_client: TestClient) -> None:
    engine = app_client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        record_usage(
            session,
            [
                window(DeviceRef(**TEMPUS, model_version="2.0"), 5),
                window(DeviceRef(**TEMPUS, model_version="1.4"), 2),
                window(DeviceRef(**TEMPUS, model_version="2.0"), 6),
                # A reference window is validation data, not a version in use.
                window(DeviceRef(**TEMPUS, model_version="0.9-beta"), 1, reference=True),
                # A device the catalogue lacks: its name is not public data.
                window(DeviceRef(name="Home-made AI", manufacturer="Acme", model_version="7"), 3),
            ],
        )
        # A version a reporter typed is free text from anyone: never offered to others.
        record_triaged(
            session,
            [triaged(device=DeviceRef(**TEMPUS, model_version="Dr Martin's laptop"))],
            alerts_topic="vigie.alerts.v1",
        )
    answer = app_client.get("/api/v1/devices/catalogue/model-versions")  # no token
    assert answer.status_code == 200
    assert answer.json() == {
        "items": [{"device_id": "DEV_00001", "model_versions": ["1.4", "2.0"]}]
    }


def test_the_rest_of_the_catalogue_api_still_needs_a_token(app_client: TestClient) -> None:
    assert app_client.get("/api/v1/devices").status_code == 401
    assert app_client.get("/api/v1/devices/DEV_00001").status_code == 401
