"""Helpers for tests on the real broker: fresh topic namespaces, producing and draining."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from vigie.credentials import KafkaClientConfig
from vigie.kafka import ensure_topics
from vigie.settings import CommonSettings


def fresh_namespace() -> str:
    """A topic namespace no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}"


def provision(settings: CommonSettings) -> None:
    """Create the namespace's topics and dead-letter topics."""
    ensure_topics(settings)


def operator(bootstrap: str) -> KafkaClientConfig:
    """The operator's credentials (``VIGIE_KAFKA_CLIENT_PROPERTIES``) for ``bootstrap``."""
    return CommonSettings(kafka_bootstrap_servers=bootstrap).kafka_client


def client_kwargs(bootstrap: str) -> dict[str, Any]:
    """kafka-python keyword arguments of the operator's client for ``bootstrap``."""
    return operator(bootstrap).kafka_python()


def producer(bootstrap: str) -> KafkaProducer:
    """A plain kafka-python producer (acks=all), as any external client would use."""
    return KafkaProducer(**client_kwargs(bootstrap), acks="all", linger_ms=5)


def drain(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[Any]], bool],
    timeout_s: float = 60,
) -> list[Any]:
    """Read ``topic`` from the start until ``until(records)`` holds or time runs out."""
    consumer = KafkaConsumer(
        topic,
        **client_kwargs(bootstrap),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and not until(records):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` up to its end offsets now: the exact count, duplicates included
    (``drain`` stops as soon as its condition holds)."""
    consumer = KafkaConsumer(**client_kwargs(bootstrap), group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
