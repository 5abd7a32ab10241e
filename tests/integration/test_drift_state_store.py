"""Drift monitor state on the real compacted topic, carried from one triage instance to another."""

from __future__ import annotations

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy, device_key
from services.triage.drift.store import KafkaStateStore
from tests.support.kafka import fresh_namespace, provision
from tests.unit.test_drift_monitor import DEVICE, window
from vigie.settings import CommonSettings


def test_the_next_instance_carries_on_from_the_topic(kafka_bootstrap: str) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    first_store = KafkaStateStore(settings)
    first = DriftMonitor(MonitorPolicy(), store=first_store)
    assert first.observe_many([window(i, 60) for i in range(5)]) == []

    # A second instance, started afterwards, reads the reference from the topic alone.
    second_store = KafkaStateStore(settings)
    stored = second_store.get(device_key(DEVICE))
    assert stored is not None and stored.reference.windows == 3 and stored.version == 5
    second = DriftMonitor(MonitorPolicy(), store=second_store)
    raised = second.observe_many([window(i, 75) for i in range(5, 8)])
    assert [s.current_window[0] for s in raised] == [window(5, 75).window_start]

    # The first instance gets the device back: it takes in the second's state (drift latched).
    assert first.observe_many([window(i, 75) for i in range(8, 10)]) == []
    assert first_store.get(device_key(DEVICE)).version == 10  # type: ignore[union-attr]
    first_store.close()
    second_store.close()
