"""The project's own Kafka: a three-node KRaft cluster loses nothing when a node dies."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from vigie_tools import localkafka

# It starts a cluster of its own (Java, Kafka's jars): no fixture shows it, so it says so itself.
pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# Its own ports, so it runs beside the single-node broker the other tests use.
SPEC = localkafka.ClusterSpec(nodes=3, base_port=29092, heap_mb=384)


def test_three_nodes_acks_all_survives_a_dead_node() -> None:
    bootstrap = localkafka.start(SPEC, timeout=180)
    try:
        assert len(bootstrap.split(",")) == 3
        assert all(node.running for node in localkafka.status(SPEC))
        # The cluster is secured: every client authenticates (here as the operator).
        client = localkafka.admin_config(SPEC).kafka_python()
        assert client["bootstrap_servers"] == bootstrap.split(",")
        topic = "fault.test.v1"
        admin = KafkaAdminClient(**client)
        try:
            if topic not in admin.list_topics():
                admin.create_topics(
                    [NewTopic(topic, 3, 3, topic_configs={"min.insync.replicas": "2"})]
                )
        finally:
            admin.close()
        # Metadata refreshed every second: the producer finds a partition's new leader quickly
        # even when the old leader vanished without answering NOT_LEADER.
        producer = KafkaProducer(
            **client,
            acks="all",
            retries=50,
            request_timeout_ms=15000,
            metadata_max_age_ms=1000,
        )
        for i in range(200):
            producer.send(topic, key=str(i).encode(), value=f"before-{i}".encode())
        producer.flush()

        localkafka.stop_node(SPEC, 1)
        assert [n.running for n in localkafka.status(SPEC)] == [True, False, True]
        # min.insync.replicas=2 with two nodes left: acks=all writes still succeed.
        futures = [
            producer.send(topic, key=str(i).encode(), value=f"during-{i}".encode())
            for i in range(200)
        ]
        producer.flush()
        assert all(f.get(timeout=30) for f in futures)
        producer.close()

        localkafka.start_node(SPEC, 1)
        localkafka.wait_ready(SPEC, timeout=180)
        consumer = KafkaConsumer(
            topic,
            **client,
            group_id=None,
            auto_offset_reset="earliest",
            consumer_timeout_ms=10_000,
        )
        values = {record.value.decode() for record in consumer}
        consumer.close()
        expected = {f"before-{i}" for i in range(200)} | {f"during-{i}" for i in range(200)}
        assert values == expected
    finally:
        localkafka.stop(SPEC)
