"""The project's own Kafka: a three-node KRaft cluster carries on when a partition leader dies.

The leader of the partitions being written is killed with SIGKILL (no controlled shutdown, no
leadership handed over) while a kafka-python producer and a FastStream pipeline, both made by
the services' own factories and bootstrapped on all three brokers, are writing and reading.
Nothing acknowledged may be lost, and the idempotent producer must not duplicate anything.

Recovery times are printed, never asserted: they depend on the machine's load.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest
from faststream.kafka import KafkaRouter
from kafka import TopicPartition
from kafka.admin import NewTopic
from pydantic import BaseModel

from vigie.kafka import make_admin, make_broker, make_consumer, make_producer
from vigie.processing import BatchStep, Output, subscribe
from vigie.settings import CommonSettings
from vigie_tools import kafkaacl, localkafka

# It starts a cluster of its own (Java, Kafka's jars): no fixture shows it, so it says so itself.
pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# Its own ports, so it runs beside the single-node broker the other tests use.
SPEC = localkafka.ClusterSpec(nodes=3, base_port=29092, heap_mb=384)
PARTITIONS = 3
RATE = 200  # records per second
BEFORE_S = 3.0  # of writing before the kill
AFTER_S = 10.0  # of writing after it: longer than a failover takes on an idle machine
# Liveness bounds, not performance assertions: far above any failover seen, under the
# producer's delivery timeout.
SETTLE_S = 100.0


class Numbered(BaseModel):
    i: int


def operator_settings(bootstrap: str) -> CommonSettings:
    """The operator's credential on this cluster, as a service reads its settings."""
    admin = localkafka.admin_config(SPEC)
    return CommonSettings(
        kafka_bootstrap_servers=bootstrap,
        kafka_sasl_username=admin.username,
        kafka_sasl_password_file=kafkaacl.credentials_dir(SPEC.home) / f"{admin.username}.password",
        kafka_ssl_ca_file=admin.ca_file,
    )


def partitions(settings: CommonSettings, topic: str) -> dict[int, dict[str, Any]]:
    """Partition -> its leader's and in-sync replicas' node ids."""
    admin = make_admin(settings.kafka_client)
    try:
        [described] = admin.describe_topics([topic])
        return {
            p["partition_index"]: {"leader": p["leader_id"], "isr": sorted(p["isr_nodes"])}
            for p in described["partitions"]
        }
    finally:
        admin.close()


def leaders(settings: CommonSettings, topic: str) -> dict[int, int]:
    """Partition -> node id of its leader."""
    return {p: state["leader"] for p, state in partitions(settings, topic).items()}


def read_ids(settings: CommonSettings, topic: str) -> list[int]:
    """Every record's number on ``topic``, to its end."""
    consumer = make_consumer(settings, group_id=None, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        ids: list[int] = []
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < end[tp] for tp in parts):
            assert time.monotonic() < deadline, f"{topic} could not be read to its end"
            for records in consumer.poll(timeout_ms=2000).values():
                ids.extend(json.loads(r.value)["i"] for r in records)
        return ids
    finally:
        consumer.close()


class Feed:
    """A kafka-python producer from ``make_producer`` writing numbered records at RATE/s."""

    def __init__(self, settings: CommonSettings, topic: str) -> None:
        self.settings, self.topic = settings, topic
        self.sent = 0
        self.acks: dict[int, tuple[int, float, float]] = {}  # i -> (partition, sent, acked)
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.killed_at: float | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        producer = make_producer(self.settings, client_id="vigie-failover-test")
        try:
            started = time.monotonic()
            while not self.stop.is_set():
                i, at = self.sent, time.monotonic()
                future = producer.send(
                    self.topic, key=str(i).encode(), value=Numbered(i=i).model_dump_json().encode()
                )
                future.add_callback(self._acked, i, at)
                future.add_errback(self._failed, i)
                self.sent += 1
                time.sleep(max(0.0, started + self.sent / RATE - time.monotonic()))
            producer.flush(timeout=SETTLE_S)
        finally:
            producer.close(timeout=10)

    def _acked(self, i: int, at: float, metadata: Any) -> None:
        with self._lock:
            self.acks[i] = (metadata.partition, at, time.monotonic())

    def _failed(self, i: int, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(f"{i}: {type(exc).__name__}: {exc}")


async def wait_for(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} not within {timeout_s:.0f} s"
        await asyncio.sleep(0.1)


async def failover(settings: CommonSettings, source: str, sink: str) -> dict[str, Any]:
    """Write, kill -9 the leader of ``source``'s partition 0, write on; return the figures."""
    processed: dict[int, float] = {}

    def remember(events: list[Numbered]) -> None:
        now = time.monotonic()
        for event in events:
            processed.setdefault(event.i, now)

    # A step as the services run one: consume a batch, publish, commit after the acks.
    step: BatchStep[Numbered, list[Numbered]] = BatchStep(
        service="failover-test",
        event=Numbered,
        work=lambda events: events,
        outputs=lambda events: [Output(sink, str(e.i).encode(), e) for e in events],
        after=remember,
    )
    router = KafkaRouter()
    subscribe(router, source, step, group_id=f"failover-{source}", max_records=100)
    broker = make_broker(settings, client_id="vigie-failover-test")
    broker.include_router(router)
    await broker.start()
    feed = Feed(settings, source)
    writer = asyncio.create_task(asyncio.to_thread(feed.run))
    try:
        await asyncio.sleep(BEFORE_S)
        await wait_for(lambda: len(processed) > 0, SETTLE_S, "the pipeline's first record")
        before = await asyncio.to_thread(leaders, settings, source)
        victim = before[0]
        pid = localkafka.status(SPEC)[victim - 1].pid
        assert pid is not None, f"node {victim - 1} does not run"
        killed_at = time.monotonic()
        os.killpg(pid, signal.SIGKILL)
        sent_before = feed.sent
        await asyncio.sleep(AFTER_S)
        feed.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(writer), SETTLE_S)
        except TimeoutError:
            state = await asyncio.to_thread(partitions, settings, source)
            unacked = feed.sent - len(feed.acks)
            raise AssertionError(
                f"{unacked} records unacknowledged {SETTLE_S:.0f} s after the writing stopped "
                f"(node {victim - 1} killed); partitions now: {state}; errors: {feed.errors[:3]}"
            ) from None
        await wait_for(lambda: len(processed) >= len(feed.acks), SETTLE_S, "the pipeline's drain")
    finally:
        feed.stop.set()
        await broker.stop()
    assert localkafka.status(SPEC)[victim - 1].running is False
    survivors = await asyncio.to_thread(partitions, settings, source)
    # Records written after the kill to the partitions the dead node led.
    dead = {p for p, node in before.items() if node == victim}
    after = [(i, a) for i, a in feed.acks.items() if i >= sent_before and a[0] in dead]
    relayed = [processed[i] for i, _ in after if i in processed]
    return {
        "victim_node": victim - 1,
        "partitions_led": sorted(dead),
        "partitions_after": survivors,
        "sent": feed.sent,
        "acked": len(feed.acks),
        "errors": feed.errors[:5],
        "produce_recovery_s": round(min(a[2] for _, a in after) - killed_at, 2) if after else None,
        "longest_ack_wait_s": round(max(a[2] - a[1] for a in feed.acks.values()), 2),
        "pipeline_recovery_s": round(min(relayed) - killed_at, 2) if relayed else None,
    }


def test_pipeline_survives_kill_9_of_the_partition_leader(
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    bootstrap = localkafka.start(SPEC, timeout=180)
    try:
        settings = operator_settings(bootstrap)
        # Every client knows all three brokers: losing the one it first met changes nothing.
        assert settings.kafka_client.bootstrap_servers == tuple(bootstrap.split(","))
        assert len(settings.kafka_client.bootstrap_servers) == 3
        run = uuid.uuid4().hex[:8]
        source, sink = f"failover.in.{run}", f"failover.out.{run}"
        admin = make_admin(settings.kafka_client)
        try:
            admin.create_topics(
                [
                    NewTopic(name, PARTITIONS, 3, topic_configs={"min.insync.replicas": "2"})
                    for name in (source, sink)
                ]
            )
        finally:
            admin.close()
        figures = asyncio.run(failover(settings, source, sink))

        assert not figures["errors"], figures["errors"]
        assert figures["acked"] == figures["sent"]
        # The idempotent producer: every record once, none lost, none written twice by a retry.
        written = read_ids(settings, source)
        assert Counter(written) == Counter(range(figures["sent"]))
        # The pipeline is at-least-once (a batch is consumed again if its commit was lost with
        # the group coordinator): nothing lost; copies are counted, not forbidden.
        relayed = read_ids(settings, sink)
        assert set(relayed) == set(range(figures["sent"]))
        figures["relayed_copies"] = len(relayed) - len(set(relayed))
    finally:
        localkafka.stop(SPEC, timeout=5)
    figures["test_s"] = round(time.monotonic() - started, 1)
    with capsys.disabled():
        print("\nfailover:", json.dumps(figures))
