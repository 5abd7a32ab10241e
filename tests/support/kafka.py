"""Helpers for tests on the real broker: fresh topic namespaces, producing and draining."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

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
