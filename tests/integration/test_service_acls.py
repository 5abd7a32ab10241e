"""Least privilege on the real cluster: each service principal may write exactly the topics
whose ``writers`` name it, and read exactly those whose ``readers`` do (ACLs made with the
topics by ``ensure_topics``). A forged triaged report from anyone but triage is refused by the
broker before the registry could see it."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from tests.support.kafka import client_kwargs, fresh_namespace, provision
from vigie.credentials import KafkaClientConfig
from vigie.kafka import create_topics
from vigie.settings import CommonSettings, Replication
from vigie.topics import ALERTS, ALL, DLQ_SUFFIX, REGISTRY, SERVICE_PRINCIPALS
from vigie_tools import localkafka

pytestmark = pytest.mark.kafka


def _client(principal: str, bootstrap: str) -> dict[str, Any]:
    path = localkafka.client_properties(localkafka.ClusterSpec(), principal)
    return KafkaClientConfig.from_properties(path, bootstrap_servers=bootstrap).kafka_python()


def _can_write(client: dict[str, Any], topic: str) -> bool:
    producer = KafkaProducer(**client, acks="all", max_block_ms=8000)
    try:
        producer.send(topic, b"probe", key=b"probe").get(timeout=15)
        return True
    except TopicAuthorizationFailedError:
        return False
    finally:
        producer.close(timeout=5)


def _can_read(client: dict[str, Any], topic: str) -> bool:
    """Whether the client gets the probe records the operator wrote to ``topic``."""
    consumer = KafkaConsumer(**client, group_id=None, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in range(_partitions(topic))]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        return any(any(consumer.poll(timeout_ms=500).values()) for _ in range(4))
    except TopicAuthorizationFailedError:
        return False
    finally:
        consumer.close()


PARTITIONS: dict[str, int] = {}


def _partitions(topic: str) -> int:
    return PARTITIONS[topic]


def _provision_with_probes(settings: CommonSettings) -> None:
    """Topics and ACLs, and one record per partition written by the operator: a principal
    that may read a topic gets them back, one that may not gets nothing."""
    provision(settings)
    operator = KafkaProducer(**client_kwargs(settings.kafka_bootstrap_servers), acks="all")
    for spec in ALL:
        topic = settings.topics.name(spec)
        PARTITIONS[topic] = spec.partitions
        for partition in range(spec.partitions):
            operator.send(topic, b"probe", key=b"probe", partition=partition)
    operator.flush()
    operator.close()


def test_each_service_writes_and_reads_exactly_its_topics(kafka_bootstrap: str) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    _provision_with_probes(settings)
    for principal in SERVICE_PRINCIPALS:
        client = _client(principal, kafka_bootstrap)
        writes = {s.name for s in ALL if _can_write(client, settings.topics.name(s))}
        reads = {s.name for s in ALL if _can_read(client, settings.topics.name(s))}
        assert writes == {s.name for s in ALL if principal in s.writers}, principal
        assert reads == {s.name for s in ALL if principal in s.readers}, principal
        # Dead letters of what it reads, and nothing else's.
        for spec in ALL:
            dlq = settings.topics.name(spec) + DLQ_SUFFIX
            assert _can_write(client, dlq) == (principal in spec.readers), (principal, dlq)


def test_a_consumer_group_belongs_to_its_principal(kafka_bootstrap: str) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    _provision_with_probes(settings)
    ingest = _client("vigie-ingest", kafka_bootstrap)
    triage = _client("vigie-triage", kafka_bootstrap)
    # Triage may read reports, but not in the registry's group: no offsets to move for others.
    consumer = KafkaConsumer(
        settings.topics.reports, **triage, group_id="vigie-registry", enable_auto_commit=False
    )
    try:
        with pytest.raises((GroupAuthorizationFailedError, KafkaError)):
            for _ in range(10):
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close()
    # Ingest reads nothing at all.
    assert not _can_read(ingest, settings.topics.reports)


def test_the_registry_creates_and_checks_subscription_topics_as_itself(
    kafka_bootstrap: str,
) -> None:
    """The outbox relay creates a subscription topic the first time it publishes to it, and
    after a restart checks the existing one, as the registry's own principal: both need the
    brokers' replication defaults and the topic's settings (DescribeConfigs), or the relay
    would retry its oldest batch for ever and publish nothing behind it."""
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    path = localkafka.client_properties(localkafka.ClusterSpec(), REGISTRY)
    registry = KafkaClientConfig.from_properties(path, bootstrap_servers=kafka_bootstrap)
    topic = f"{settings.topics.alerts}.sub.ansm"
    wanted = [(topic, 1, dict(ALERTS.config))]
    assert create_topics(registry, wanted, replication=Replication(None, None)) == [topic]
    # A restarted relay does not know it made the topic: it checks it instead.
    assert create_topics(registry, wanted, replication=Replication(None, None)) == []
    assert _can_write(registry.kafka_python(), topic)
    # Nobody else may make one.
    ingest = KafkaClientConfig.from_properties(
        localkafka.client_properties(localkafka.ClusterSpec(), "vigie-ingest"),
        bootstrap_servers=kafka_bootstrap,
    )
    with pytest.raises(TopicAuthorizationFailedError):
        create_topics(ingest, [(f"{topic}-x", 1, {})], replication=Replication(1, 1))
