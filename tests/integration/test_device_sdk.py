"""The device SDK on the real broker: nothing is lost when the broker dies mid-stream."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from kafka import KafkaConsumer

from tests.support.kafka import client_kwargs, fresh_namespace, operator, provision
from vigie.contracts import DeviceRef, TelemetryWindow
from vigie.settings import CommonSettings
from vigie_sdk import DeviceReporter, summarise_window
from vigie_tools import localkafka

DEVICE = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2.4")


def windows(n: int, offset: int = 0) -> list[TelemetryWindow]:
    rng = np.random.default_rng(offset)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        summarise_window(
            DEVICE,
            start + timedelta(hours=offset + i),
            start + timedelta(hours=offset + i + 1),
            scores=rng.beta(2, 5, 300).tolist(),
            features={"age": rng.normal(60, 12, 300).tolist()},
        )
        for i in range(n)
    ]


def test_windows_survive_a_broker_outage(kafka_bootstrap: str, tmp_path: Path) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    reporter = DeviceReporter(
        credentials=operator(kafka_bootstrap),
        spool_path=tmp_path / "spool",
        topic=settings.topics.telemetry,
        send_timeout_s=3,
        retry_interval_s=1,
    )
    before, during, after = windows(20), windows(15, 100), windows(10, 200)
    for w in before:
        assert reporter.send(w)
    spec = localkafka.ClusterSpec()
    localkafka.stop(spec)
    try:
        results = [reporter.send(w) for w in during]
        assert not any(results)
        assert len(reporter.spool) == 15
    finally:
        localkafka.start(spec)
    # The next send replays the spool first, in order, then sends the new windows.
    deadline = time.monotonic() + 60
    sent = reporter.send(after[0])
    while not sent and time.monotonic() < deadline:
        time.sleep(1)
        sent = reporter.replay() >= 0 and len(reporter.spool) == 0
    for w in after[1:]:
        assert reporter.send(w)
    reporter.close()
    assert len(reporter.spool) == 0

    consumer = KafkaConsumer(
        settings.topics.telemetry,
        **client_kwargs(kafka_bootstrap),
        group_id=None,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    received = [TelemetryWindow.model_validate_json(r.value) for r in consumer]
    consumer.close()
    expected = {w.event_id for w in before + during + after}
    assert {w.event_id for w in received} == expected  # none lost (a retry may repeat one)
