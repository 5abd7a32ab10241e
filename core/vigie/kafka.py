"""Kafka wiring shared by the services: broker and producer factories, topic creation, reading a
topic to its end. Consuming in batches is :mod:`vigie.processing`."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from faststream.kafka import KafkaBroker
from faststream.security import SASLScram256, SASLScram512
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ConfigResource,
    ConfigResourceType,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import BaseModel, ValidationError

from vigie.credentials import CredentialsError, KafkaClientConfig
from vigie.settings import CommonSettings, Replication, TopicNames
from vigie.topics import (
    ALL,
    DEVICE_TELEMETRY_INFIX,
    DLQ_SUFFIX,
    GROUP_PREFIXES,
    REGISTRY,
    SERVICE_PRINCIPALS,
    TELEMETRY,
)

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseModel)

JSON_HEADERS = {"content-type": "application/json"}


def require_credentials(settings: CommonSettings, service: str) -> None:
    """Stop a service at start, saying why, when its Kafka credentials are missing or unusable
    (there is no anonymous fallback); the message names settings, never secrets."""
    try:
        settings.kafka_client.ssl_context()
    except CredentialsError as exc:
        log.critical("Kafka credentials unusable: %s", exc)
        raise SystemExit(f"vigie {service}: Kafka credentials: {exc}") from exc


def make_broker(settings: CommonSettings, *, client_id: str) -> KafkaBroker:
    """The FastStream broker of a service, authenticated over TLS; its producer only confirms
    durable writes."""
    client = settings.kafka_client
    return KafkaBroker(
        list(client.bootstrap_servers),
        security=faststream_security(client),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        # A manufacturer's new device topic joins the telemetry subscriptions within this.
        metadata_max_age_ms=30_000,
        # aiokafka bounds a connection attempt (TCP, TLS, SASL) by this too (conn.py), and a
        # metadata refresh asks the known brokers one after the other (client.py
        # _metadata_update): a broker that died without resetting its connections (power or
        # network loss; a killed process on this host is refused at once) would hold each
        # refresh for the 40 s default before the next broker is asked. 15 s still covers a
        # JoinGroup, held by the coordinator for up to the 10 s session timeout.
        request_timeout_ms=15_000,
        logger=logging.getLogger(f"vigie.{client_id}.kafka"),
        log_level=logging.DEBUG,
    )


def faststream_security(client: KafkaClientConfig) -> SASLScram512 | SASLScram256:
    """FastStream's (aiokafka's) form of the client's SASL/SCRAM-over-TLS credentials."""
    kind = SASLScram512 if client.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return kind(
        username=client.username, password=client.password, ssl_context=client.ssl_context()
    )


# kafka-python clients through a broker's death. After each failed connection to a broker,
# kafka-python waits 50 ms doubling up to reconnect_backoff_max_ms (30 s by default; jittered
# +-20 %, kafka/net/manager.py update_backoff) before it tries that broker again. A dead leader
# stays in the metadata until the controller fences it, so the backoff climbs meanwhile, and a
# metadata refresh that finds no broker to ask backs off the same way (kafka/cluster.py ttl).
# Capped at 1 s, a client tries again every second: the restarted broker, or the first broker
# of the list that answers, is found within a second rather than half a minute.
_FAILOVER: dict[str, Any] = {"reconnect_backoff_max_ms": 1000}


def make_producer(settings: CommonSettings, *, client_id: str, **overrides: Any) -> KafkaProducer:
    """A synchronous kafka-python producer (CLI, state stores, benchmarks): acks=all,
    idempotent."""
    config: dict[str, Any] = {
        **settings.kafka_client.kafka_python(),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "retries": 2**31 - 1,
        # A record is failed only after this (Kafka's default, stated): a failover takes
        # seconds, so reaching it means the cluster lost its quorum or its in-sync replicas.
        "delivery_timeout_ms": 120_000,
        **_FAILOVER,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(settings: CommonSettings, *topics: str, **config: Any) -> KafkaConsumer:
    """A kafka-python consumer with the process's credentials."""
    return KafkaConsumer(*topics, **{**settings.kafka_client.kafka_python(), **_FAILOVER, **config})


def make_admin(client: KafkaClientConfig, *, timeout_s: float = 60.0) -> KafkaAdminClient:
    """An admin client, retried while the brokers start."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(**client.kafka_python(), **_FAILOVER, client_id="vigie-admin")
        except Exception as exc:  # kafka-python raises several types while the broker starts
            if time.monotonic() > deadline:
                servers = ",".join(client.bootstrap_servers)
                raise RuntimeError(f"Kafka at {servers} is not reachable: {exc}") from exc
            time.sleep(0.5)


class ReplicationError(RuntimeError):
    """Topics would have, or have, fewer copies than the deployment asks for."""


def _cluster_replication(admin: KafkaAdminClient, brokers: list[dict[str, Any]]) -> Replication:
    """The brokers' own ``default.replication.factor`` and ``min.insync.replicas``."""
    broker = str(brokers[0]["broker_id"])
    found = admin.describe_configs(
        [ConfigResource(ConfigResourceType.BROKER, broker)], config_filter="all"
    )
    configs = found.get("broker", {}).get(broker)
    if not configs:  # kafka-python drops a per-resource error: say what is missing
        raise PermissionError(
            f"cannot read broker {broker}'s replication defaults: the principal needs "
            "DescribeConfigs on the cluster"
        )
    return Replication(
        int(configs["default.replication.factor"]["value"]),
        int(configs["min.insync.replicas"]["value"]),
    )


def _replication_shortfalls(
    admin: KafkaAdminClient, names: Sequence[str], factor: int, min_insync: int
) -> list[str]:
    """What each of ``names`` lacks, e.g. "t: 1 replica(s) < 3"; empty when all is well.

    A topic created a moment ago (by another process) can show no partitions until the broker
    answering has its metadata: it is described again, for up to ten seconds, before counting.
    """
    problems: list[str] = []
    deadline = time.monotonic() + 10.0
    while True:
        described = admin.describe_topics(list(names))
        if all(t["partitions"] for t in described) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for topic in described:
        copies = min((len(p["replica_nodes"]) for p in topic["partitions"]), default=0)
        if copies < factor:
            problems.append(f"{topic['name']}: {copies} replica(s) < {factor}")
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs = admin.describe_configs(resources, config_filter="all").get("topic", {})
    for name in names:
        if name not in configs:  # kafka-python drops a per-resource error: say what is missing
            raise PermissionError(
                f"cannot read the settings of topic {name}: the principal needs DescribeConfigs"
            )
        value = int(configs[name].get("min.insync.replicas", {}).get("value", 0))
        if value < min_insync:
            problems.append(f"{name}: min.insync.replicas {value} < {min_insync}")
    return problems


def create_topics(
    client: KafkaClientConfig,
    topics: Sequence[tuple[str, int, dict[str, str]]],
    *,
    replication: Replication,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the (name, partitions, config) topics that do not exist; return those created.

    Every topic gets ``replication`` (the brokers' defaults where it says ``None``), whoever is
    up: with fewer live brokers than the factor nothing is created and :class:`ReplicationError`
    says why. Topics that exist with fewer copies or a lower ``min.insync.replicas`` are
    refused the same way: acknowledged writes would rest on fewer disks than the deployment
    promises.
    """
    admin = make_admin(client, timeout_s=timeout_s)
    try:
        brokers = admin.describe_cluster()["brokers"]
        defaults = replication
        if replication.factor is None or replication.min_insync is None:
            defaults = _cluster_replication(admin, brokers)
        factor = replication.factor or defaults.factor or 1
        min_insync = replication.min_insync or defaults.min_insync or 1
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=factor,
                topic_configs={**config, "min.insync.replicas": str(min_insync)},
            )
            for name, partitions, config in topics
            if name not in existing
        ]
        if wanted and len(brokers) < factor:
            raise ReplicationError(
                f"refusing to create {len(wanted)} topic(s) with replication factor {factor}: "
                f"{len(brokers)} broker(s) up (VIGIE_KAFKA_REPLICATION_FACTOR)"
            )
        if wanted:
            # Another process may have created them first: that is the state we want.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
            log.info(
                "topics created",
                extra={"topics": [t.name for t in wanted], "replication": factor},
            )
        # Kafka gave the new topics what was asked or refused them: the others are checked.
        created = {t.name for t in wanted}
        found = [name for name, _, _ in topics if name not in created]
        problems = _replication_shortfalls(admin, found, factor, min_insync) if found else []
        if problems:
            raise ReplicationError(
                "topics replicated less than asked (VIGIE_KAFKA_REPLICATION_FACTOR, "
                "VIGIE_KAFKA_MIN_INSYNC_REPLICAS): " + "; ".join(problems)
            )
        return [t.name for t in wanted]
    finally:
        admin.close()


def topic_acls(topics: TopicNames) -> list[ACL]:
    """Least-privilege ACLs of the services' principals on the topics of ``topics``.

    Each principal may describe, read or write exactly the topics its :class:`TopicSpec` names
    it for, and write the dead-letter topics of what it reads; consumer groups are bound to
    their principal by prefix. The registry alone may create and write subscription topics
    (``<alerts>.sub.<name>``). Everything else is refused (no ACL, no access).
    """
    acls: list[ACL] = []

    def allow(
        principal: str, op: ACLOperation, kind: ResourceType, name: str, pattern: Any
    ) -> None:
        acls.append(
            ACL(
                principal=f"User:{principal}",
                host="*",
                operation=op,
                permission_type=ACLPermissionType.ALLOW,
                resource_pattern=ResourcePattern(kind, name, pattern),
            )
        )

    literal, prefixed = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED
    for spec in ALL:
        name = topics.name(spec)
        for principal in spec.writers:
            allow(principal, ACLOperation.WRITE, ResourceType.TOPIC, name, literal)
            allow(principal, ACLOperation.DESCRIBE, ResourceType.TOPIC, name, literal)
        for principal in spec.readers:
            allow(principal, ACLOperation.READ, ResourceType.TOPIC, name, literal)
            allow(principal, ACLOperation.DESCRIBE, ResourceType.TOPIC, name, literal)
            allow(principal, ACLOperation.WRITE, ResourceType.TOPIC, name + DLQ_SUFFIX, literal)
            allow(principal, ACLOperation.DESCRIBE, ResourceType.TOPIC, name + DLQ_SUFFIX, literal)
    # Manufacturers' device telemetry topics: read by the telemetry consumers, written by the
    # manufacturer's own principal only (`vigie kafka credentials --role device`).
    devices = topics.telemetry + DEVICE_TELEMETRY_INFIX
    for principal in TELEMETRY.readers:
        allow(principal, ACLOperation.READ, ResourceType.TOPIC, devices, prefixed)
        allow(principal, ACLOperation.DESCRIBE, ResourceType.TOPIC, devices, prefixed)
    # The outbox relay creates them when it first publishes to one, and a restarted relay
    # checks the existing ones: both read replication settings (the brokers' defaults, the
    # topic's min.insync.replicas), hence DescribeConfigs on the cluster and on the prefix.
    subscriptions = topics.alerts + ".sub."
    for op in (
        ACLOperation.CREATE,
        ACLOperation.WRITE,
        ACLOperation.DESCRIBE,
        ACLOperation.DESCRIBE_CONFIGS,
    ):
        allow(REGISTRY, op, ResourceType.TOPIC, subscriptions, prefixed)
    allow(REGISTRY, ACLOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, "kafka-cluster", literal)
    for principal, prefixes in GROUP_PREFIXES.items():
        for prefix in prefixes:
            allow(principal, ACLOperation.READ, ResourceType.GROUP, prefix, prefixed)
    # Idempotent producers (acks=all, enable_idempotence) need this on the cluster.
    for principal in SERVICE_PRINCIPALS:
        allow(
            principal, ACLOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster", literal
        )
    return acls


def _acl_key(acl: ACL) -> tuple[str, int, int, int, str, int]:
    pattern = acl.resource_pattern
    return (
        acl.principal,
        int(acl.operation),
        int(acl.permission_type),
        int(pattern.resource_type),
        pattern.resource_name,
        int(pattern.pattern_type),
    )


def _wait_for_acls(admin: KafkaAdminClient, acls: Sequence[ACL], *, timeout_s: float) -> None:
    """Return once the broker's authorizer applies every ACL of ``acls``: they are committed
    to the metadata log first, and a service started the moment after must not be refused."""
    wanted = {_acl_key(a) for a in acls}
    query = ACLFilter(
        principal=None,
        host="*",
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )
    deadline = time.monotonic() + timeout_s
    while True:
        found, _error = admin.describe_acls(query)
        missing = wanted - {_acl_key(a) for a in found}
        if not missing:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(missing)} ACLs not applied by the broker in {timeout_s} s")
        time.sleep(0.2)


def ensure_topics(settings: CommonSettings, *, timeout_s: float = 60.0) -> list[str]:
    """Create every topic of the platform with its dead-letter topic, and the services'
    ACLs on them (idempotent); return the topic names."""
    wanted: list[tuple[str, int, dict[str, str]]] = []
    for spec in ALL:
        name = settings.topics.name(spec)
        wanted.append((name, spec.partitions, spec.config))
        wanted.append((name + DLQ_SUFFIX, 1, spec.config))
    create_topics(
        settings.kafka_client, wanted, replication=settings.replication, timeout_s=timeout_s
    )
    acls = topic_acls(settings.topics)
    admin = make_admin(settings.kafka_client, timeout_s=timeout_s)
    try:
        result = admin.create_acls(acls)
        if result.get("failed"):
            raise RuntimeError(f"ACLs not created: {result['failed']}")
        _wait_for_acls(admin, acls, timeout_s=timeout_s)
    finally:
        admin.close()
    return [settings.topics.name(spec) for spec in ALL]


class TopicUnavailable(Exception):
    """A topic could not be read to its end."""


def read_topic(
    settings: CommonSettings, topic: str, event: type[E], *, timeout_s: float | None = None
) -> tuple[list[E], int]:
    """Every event on ``topic`` up to its end offsets now, oldest first per partition, and the
    number of records that did not validate as ``event``.

    Read without a consumer group: the callers (training, audit verification) need all of the
    topic every time and must not move anybody's offsets. A topic that does not exist yet
    reads as empty. Missing credentials read as an unavailable topic: the callers fail closed.
    """
    timeout_s = settings.kafka_timeout_s if timeout_s is None else timeout_s
    try:
        client = settings.kafka_client.kafka_python()
    except CredentialsError as exc:
        raise TopicUnavailable(str(exc)) from exc
    try:
        consumer = KafkaConsumer(
            **client,
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
