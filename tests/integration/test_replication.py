"""Topics get the replication asked for, or are refused: never whatever happens to be up."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient

from tests.support.kafka import client_kwargs, fresh_namespace, operator
from vigie.kafka import ReplicationError, create_topics, ensure_topics
from vigie.settings import CommonSettings, Replication


def _topics(bootstrap: str, prefix: str) -> list[str]:
    admin = KafkaAdminClient(**client_kwargs(bootstrap))
    try:
        return sorted(t for t in admin.list_topics() if t.startswith(prefix))
    finally:
        admin.close()


def test_more_replicas_than_brokers_up_creates_nothing(kafka_bootstrap: str) -> None:
    namespace = fresh_namespace()
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=namespace,
        kafka_replication_factor=3,
        kafka_min_insync_replicas=2,
    )
    with pytest.raises(ReplicationError, match="replication factor 3: 1 broker"):
        ensure_topics(settings)
    assert _topics(kafka_bootstrap, namespace) == []


def test_existing_topics_replicated_less_than_asked_are_refused(kafka_bootstrap: str) -> None:
    client = operator(kafka_bootstrap)
    topic = f"{fresh_namespace()}.replicated"
    # The brokers' defaults: one node, one copy, min.insync.replicas 1.
    assert create_topics(client, [(topic, 2, {})], replication=Replication()) == [topic]
    assert create_topics(client, [(topic, 2, {})], replication=Replication(1, 1)) == []
    with pytest.raises(ReplicationError, match=f"{topic}: 1 replica\\(s\\) < 2"):
        create_topics(client, [(topic, 2, {})], replication=Replication(2, 1))
    with pytest.raises(ReplicationError, match=f"{topic}: min.insync.replicas 1 < 2"):
        create_topics(client, [(topic, 2, {})], replication=Replication(1, 2))
