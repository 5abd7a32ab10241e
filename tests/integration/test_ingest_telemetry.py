"""Telemetry over HTTP: devices that cannot reach Kafka send windows through ingest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as create_registry
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.settings import RegistrySettings
from tests.support.kafka import drain, fresh_namespace, provision
from tests.support.registry_db import migrated_sqlite
from tests.support.servers import serving
from vigie.contracts import DeviceRef, TelemetryWindow
from vigie_sdk import HttpReporter, summarise_window

DEVICE = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2.4")


def window(hour: int) -> TelemetryWindow:
    start = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=hour)
    return summarise_window(
        DEVICE,
        start,
        start + timedelta(hours=1),
        scores=[0.1, 0.4, 0.8] * 100,
        features={"age": [50.0, 60.0, 70.0]},
    )


def test_http_reporter_through_ingest(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = IngestSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    registry = create_registry(
        RegistrySettings(database_url=migrated_sqlite(tmp_path / "r.db")), consume=False
    )
    with serving(registry) as registry_url:
        with Session(registry.state.engine) as session:
            device = create_token(session, role=Role.DEVICE, manufacturer="ACME")
            other = create_token(session, role=Role.DEVICE, manufacturer="Globex")
            clinician = create_token(session, role=Role.CLINICIAN)
        ingest = create_ingest(settings.model_copy(update={"registry_internal_url": registry_url}))
        with serving(ingest) as ingest_url:
            # Ingest down first: windows wait in the spool, then go in order.
            down = HttpReporter(
                ingest_url="http://127.0.0.1:9",
                token=device,
                spool_path=tmp_path / "spool",
                timeout_s=2,
            )
            assert not down.send(window(0), window(1))
            assert len(down.spool) == 2
            down.close()
            reporter = HttpReporter(
                ingest_url=ingest_url, token=device, spool_path=tmp_path / "spool"
            )
            assert reporter.send(window(2))
            assert len(reporter.spool) == 0

            for bad_token, expected in ((other, 403), (clinician, 403), ("vg_nope", 401)):
                refused = HttpReporter(
                    ingest_url=ingest_url,
                    token=bad_token,
                    spool_path=tmp_path / f"s{expected}{bad_token[:4]}",
                )
                try:
                    refused.send(window(3))
                except ValueError as exc:
                    assert str(expected) in str(exc)
                else:
                    raise AssertionError(f"token should have been refused with {expected}")
                refused.close()
            import httpx

            invalid = httpx.post(
                f"{ingest_url}/api/v1/telemetry",
                json={"device": {}},
                headers={"Authorization": f"Bearer {device}"},
            )
            assert invalid.status_code == 422
            fields = {tuple(e["loc"]) for e in invalid.json()["detail"]}
            assert ("body", "window_start") in fields
            reporter.close()

    records = drain(kafka_bootstrap, settings.topics.telemetry, until=lambda r: len(r) >= 3)
    received = [TelemetryWindow.model_validate_json(r.value) for r in records]
    assert [w.window_start.hour for w in received] == [0, 1, 2]
    assert all(r.key == b"Acme|Sepsis Watch|2.4" for r in records)
