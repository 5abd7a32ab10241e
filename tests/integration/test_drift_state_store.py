"""Drift monitor state on the real compacted topic, carried from one triage instance to another."""

from __future__ import annotations

from services.triage.drift.monitor import DriftMonitor, MonitorPolicy, device_key
from services.triage.drift.store import LIVE, KafkaStateStore
from tests.support.kafka import fresh_namespace, provision
from tests.unit.test_drift_monitor import DEVICE, window
from vigie.contracts import DriftMonitorState
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
    key = device_key(DEVICE)
    records = second_store.records(key)
    stored = DriftMonitorState.model_validate_json(records[LIVE])
    assert stored.reference.windows == 3 and stored.version == 5
    assert second_store.version(key) == 5
    # The reference's three windows, once each, and the five windows taken.
    assert sorted(name.split("\x1f")[0] for name in records if name) == ["ref"] * 3 + ["seen"] * 5
    second = DriftMonitor(MonitorPolicy(), store=second_store)
    raised = second.observe_many([window(i, 75) for i in range(5, 8)])
    assert [s.current_window[0] for s in raised] == [window(5, 75).window_start]

    # The first instance gets the device back: it takes in the second's state (drift latched).
    assert first.observe_many([window(i, 75) for i in range(8, 10)]) == []
    assert first_store.version(key) == 10
    first_store.close()
    second_store.close()


def test_a_batch_writes_what_changed_and_the_stream_detector_moves_with_the_device(
    kafka_bootstrap: str,
) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    policy = MonitorPolicy(stream_detector="page_hinkley")
    errors = [10] * 30 + [120] * 10
    first_store = KafkaStateStore(settings)
    first = DriftMonitor(policy, store=first_store)
    assert first.observe_many([window(i, 60, errors=errors[i]) for i in range(3)]) == []
    after_reference = first_store.written_bytes
    assert first.observe_many([window(i, 60, errors=errors[i]) for i in range(3, 25)]) == []
    # 22 compared windows: one live state for the batch and a small record per window, not the
    # reference again (each reference window alone is over 10 KB).
    per_window = (first_store.written_bytes - after_reference) / 22
    assert per_window < 2048
    assert after_reference > 3 * 10_000

    # The errors rise while a second instance owns the device; it carries on from the first's
    # stream detector, so it detects the rise in the window a single instance would.
    second_store = KafkaStateStore(settings)
    second = DriftMonitor(policy, store=second_store)
    handed = [
        (i, s.subject)
        for i in range(25, 40)
        for s in second.observe_many([window(i, 60, errors=errors[i])])
    ]
    alone = DriftMonitor(policy)
    single = [
        (i, s.subject)
        for i in range(40)
        for s in alone.observe(window(i, 60, errors=errors[i]))
        if i >= 25
    ]
    assert handed == single and handed and handed[0][1] == "error_rate"
    # Not a fresh detector that happened to agree: it holds every error value seen since 0.
    key = device_key(DEVICE)
    carried, reference = second._devices[key].stream, alone._devices[key].stream
    assert carried is not None and reference is not None
    assert carried.snapshot() == reference.snapshot()
    assert second_store.version(key) == 40
    first_store.close()
    second_store.close()
