"""Triage's health listener: live at once, ready only while its consumers run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import ValidationError

from services.triage.app import health_app
from services.triage.drift import handlers as drift_handlers
from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from services.triage.drift.store import FileStore
from services.triage.reports import handlers as reports_handlers
from services.triage.settings import TriageSettings


def test_ready_only_while_every_consumer_runs(tmp_path: Path) -> None:
    settings = TriageSettings(triage_use_model=False)
    # The service's two routers on an in-memory broker (no Kafka).
    broker = KafkaBroker(settings.kafka_bootstrap_servers)
    broker.include_router(reports_handlers.router(settings, None))
    monitor = DriftMonitor(MonitorPolicy(), store=FileStore(tmp_path))
    broker.include_router(drift_handlers.router(settings, monitor))
    transport = httpx.ASGITransport(app=health_app(broker, None))

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://triage") as client:
            answers = [await client.get("/healthz"), await client.get("/readyz")]
            async with TestKafkaBroker(broker):
                answers.append(await client.get("/readyz"))
            answers.append(await client.get("/readyz"))
            return answers

    live, before, running, after = asyncio.run(scenario())
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert before.status_code == 503
    assert before.json()["consumers"] == {"vigie-triage": False, "vigie-drift": False}
    assert running.status_code == 200, running.json()
    assert running.json() == {
        "model": None,
        "consumers": {"vigie-triage": True, "vigie-drift": True},
        "kafka": True,
    }
    assert after.status_code == 503


def test_the_health_listener_follows_the_loopback_rule() -> None:
    with pytest.raises(ValidationError, match=r"VIGIE_TRIAGE_HEALTH_HOST=0\.0\.0\.0"):
        TriageSettings(triage_health_host="0.0.0.0")
    # No listener, nothing exposed.
    assert TriageSettings(triage_health_host="0.0.0.0", triage_health_port=0)
    assert TriageSettings(triage_health_host="0.0.0.0", pseudonym_key="k" * 32)
