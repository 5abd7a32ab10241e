"""Kafka wiring shared by the services: broker and producer factories, topic creation, reading a
topic to its end. Consuming in batches is :mod:`vigie.processing`."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from faststream.kafka import KafkaBroker
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import BaseModel, ValidationError

from vigie.settings import CommonSettings
from vigie.topics import ALL, DLQ_SUFFIX

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseModel)

JSON_HEADERS = {"content-type": "application/json"}


def make_broker(settings: CommonSettings, *, client_id: str) -> KafkaBroker:
    """The FastStream broker of a service; its producer only confirms durable writes."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        logger=logging.getLogger(f"vigie.{client_id}.kafka"),
        log_level=logging.DEBUG,
    )


def make_producer(settings: CommonSettings, *, client_id: str, **overrides: Any) -> KafkaProducer:
    """A synchronous kafka-python producer (SDK, CLI, benchmarks): acks=all, idempotent."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "retries": 2**31 - 1,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def create_topics(
    bootstrap_servers: str,
    topics: Sequence[tuple[str, int, dict[str, str]]],
    *,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the (name, partitions, config) topics that do not exist; return those created.

    Replication follows the cluster size (3 when there are at least 3 brokers, with min ISR 2)
    so that the same call provisions a laptop broker and the fault-test cluster.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap_servers.split(","), client_id="vigie-admin"
            )
            break
        except Exception as exc:  # kafka-python raises several types while the broker starts
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kafka at {bootstrap_servers} is not reachable: {exc}") from exc
            time.sleep(0.5)
    try:
        brokers = len(admin.describe_cluster()["brokers"])
        replication = 3 if brokers >= 3 else 1
        min_isr = "2" if replication == 3 else "1"
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs={**config, "min.insync.replicas": min_isr},
            )
            for name, partitions, config in topics
            if name not in existing
        ]
        if wanted:
            # Another process may have created them first: that is the state we want.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
            log.info("topics created", extra={"topics": [t.name for t in wanted]})
        return [t.name for t in wanted]
    finally:
        admin.close()


def ensure_topics(settings: CommonSettings, *, timeout_s: float = 60.0) -> list[str]:
    """Create every topic of the platform and its dead-letter topic; return the names."""
    wanted: list[tuple[str, int, dict[str, str]]] = []
    for spec in ALL:
        name = settings.topics.name(spec)
        wanted.append((name, spec.partitions, spec.config))
        wanted.append((name + DLQ_SUFFIX, 1, spec.config))
    create_topics(settings.kafka_bootstrap_servers, wanted, timeout_s=timeout_s)
    return [settings.topics.name(spec) for spec in ALL]


class TopicUnavailable(Exception):
    """A topic could not be read to its end."""


def read_topic(
    settings: CommonSettings, topic: str, event: type[E], *, timeout_s: float = 10.0
) -> tuple[list[E], int]:
    """Every event on ``topic`` up to its end offsets now, oldest first per partition, and the
    number of records that did not validate as ``event``.

    Read without a consumer group: the callers (training, audit verification) need all of the
    topic every time and must not move anybody's offsets. A topic that does not exist yet
    reads as empty.
    """
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=int(timeout_s * 1000) + 1000,
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as exc:
        raise TopicUnavailable(f"Kafka unreachable at {settings.kafka_bootstrap_servers}") from exc
    events: list[E] = []
    invalid = 0
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return [], 0
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            batches = consumer.poll(timeout_ms=int(timeout_s * 1000))
            if not batches:
                raise TopicUnavailable(f"no progress reading {topic} in {timeout_s} s")
            for records in batches.values():
                for record in records:
                    try:
                        events.append(event.model_validate_json(record.value))
                    except ValidationError:
                        invalid += 1
    except KafkaError as exc:
        raise TopicUnavailable(f"{topic}: {exc}") from exc
    finally:
        consumer.close()
    return events, invalid
