"""The project's Kafka is secured: who cannot connect, and what each role may do once connected.

A real single-node cluster of its own (own home, own ports), started through ``localkafka``
exactly as ``vigie kafka start`` does; it fails, never skips, when Kafka cannot start.
"""

from __future__ import annotations

import logging
import socket
import ssl
import stat
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ACLOperation, ACLResourcePatternType, NewTopic, ResourceType
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
)

from vigie.credentials import KafkaClientConfig, read_properties
from vigie_tools import kafkaacl, localkafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TELEMETRY = "vigie.telemetry.v1"
REPORTS = "vigie.reports.v1"
TRIAGED = "vigie.reports.triaged.v1"
ALERTS = "vigie.alerts.v1"
SIGNALS = "vigie.signals.v1"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Iterator[localkafka.ClusterSpec]:
    """A fresh secured cluster: new CA, new passwords, formatted with the admin user."""
    spec = localkafka.ClusterSpec(
        nodes=1, home=tmp_path_factory.mktemp("kafka-home"), base_port=19492, heap_mb=512
    )
    try:
        localkafka.start(spec, timeout=180)
        admin = KafkaAdminClient(**localkafka.admin_config(spec).kafka_python())
        try:
            admin.create_topics(
                [NewTopic(t, 1, 1) for t in (TELEMETRY, REPORTS, TRIAGED, ALERTS, SIGNALS)]
            )
        finally:
            admin.close()
        yield spec
    finally:
        localkafka.stop(spec)


def _refused(caplog: pytest.LogCaptureFixture, **config: Any) -> str:
    """Try to bootstrap with ``config``; assert it cannot, return what kafka-python logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kafka"), pytest.raises(KafkaTimeoutError):
        KafkaAdminClient(bootstrap_timeout_ms=4000, request_timeout_ms=3000, **config)
    return caplog.text


def _cli_credentials(spec: localkafka.ClusterSpec, out: Path, *args: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigie_tools",
            "kafka",
            "credentials",
            *args,
            "--out",
            str(out),
            "--home",
            str(spec.home),
            "--base-port",
            str(spec.base_port),
            "--nodes",
            str(spec.nodes),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    password = read_properties(out)["sasl.password"]
    assert password not in result.stdout + result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    principal, path = result.stdout.split()
    assert Path(path) == out.resolve()
    return principal


def _assert_cannot_read(client: dict[str, Any], topic: str, *, visible: set[str]) -> None:
    """``topic`` is hidden from the client (no DESCRIBE) and reading it yields nothing."""
    consumer = KafkaConsumer(**client, group_id=None, auto_offset_reset="earliest")
    try:
        assert consumer.topics() == visible
        consumer.subscribe([topic])
        try:
            records = [consumer.poll(timeout_ms=500) for _ in range(6)]
        except TopicAuthorizationFailedError:
            records = []
        assert not any(records)
        assert consumer.assignment() == set()
    finally:
        consumer.close()


def test_plaintext_connection_gets_no_kafka_answer(spec: localkafka.ClusterSpec) -> None:
    # An ApiVersions request in clear on the client port: the TLS listener never answers it.
    client_id = b"plain"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    with socket.create_connection((spec.host, spec.broker_port(0)), timeout=5) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        try:
            answer = sock.recv(64)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    # Either nothing, or a TLS record (0x15 alert / 0x16 handshake), never a Kafka response.
    assert answer == b"" or answer[0] in (0x15, 0x16), answer


def test_plaintext_and_tls_without_sasl_are_refused(
    spec: localkafka.ClusterSpec, caplog: pytest.LogCaptureFixture
) -> None:
    servers = spec.bootstrap_servers.split(",")
    _refused(caplog, bootstrap_servers=servers, security_protocol="PLAINTEXT")
    ca = localkafka.admin_config(spec).ssl_context()
    _refused(caplog, bootstrap_servers=servers, security_protocol="SSL", ssl_context=ca)
    # The controller and inter-broker listeners want a client certificate from the CA.
    for port in (spec.controller_port(0), spec.internal_port(0)):
        _refused(
            caplog,
            bootstrap_servers=[f"{spec.host}:{port}"],
            security_protocol="SSL",
            ssl_context=ca,
        )


def test_wrong_password_is_refused(
    spec: localkafka.ClusterSpec, caplog: pytest.LogCaptureFixture
) -> None:
    config = localkafka.admin_config(spec).kafka_python()
    config["sasl_plain_password"] = "not-the-password"
    # The broker answers the SCRAM exchange with an authentication error, or closes at once.
    refusal = ("SaslAuthenticationFailedError", "socket disconnected")
    assert any(r in _refused(caplog, **config) for r in refusal)
    config["sasl_plain_username"] = "nobody"
    assert any(r in _refused(caplog, **config) for r in refusal)
    # Control: the same client with the right password gets in.
    admin = KafkaAdminClient(**localkafka.admin_config(spec).kafka_python())
    admin.close()


def test_unknown_ca_is_refused(
    spec: localkafka.ClusterSpec, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(tmp_path / "k"), "-out", str(tmp_path / "ca.crt"), "-subj", "/CN=x"),
        ],
        check=True,
        capture_output=True,
    )
    other = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    with (
        pytest.raises(ssl.SSLCertVerificationError),
        socket.create_connection((spec.host, spec.broker_port(0)), timeout=5) as sock,
    ):
        other.wrap_socket(sock, server_hostname=spec.host)
    config = localkafka.admin_config(spec).kafka_python()
    config["ssl_context"] = other
    assert "CERTIFICATE_VERIFY_FAILED" in _refused(caplog, **config)


def test_admin_lists_topics_and_files_are_private(spec: localkafka.ClusterSpec) -> None:
    admin = KafkaAdminClient(**localkafka.admin_config(spec).kafka_python())
    try:
        assert {TELEMETRY, REPORTS, ALERTS} <= set(admin.list_topics())
    finally:
        admin.close()
    home = spec.home
    private = [
        home / "tls" / "ca.key",
        home / "tls" / "broker.key",
        home / "admin.properties",
        *[home / "clients" / f"{p}.properties" for p in kafkaacl.SERVICE_PRINCIPALS],
        *(home / "credentials").glob("*.password"),
    ]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # Every service can authenticate with the file written for it.
    for principal in kafkaacl.SERVICE_PRINCIPALS:
        config = KafkaClientConfig.from_properties(home / "clients" / f"{principal}.properties")
        consumer = KafkaConsumer(**config.kafka_python())
        consumer.topics()
        consumer.close()
    # No password on a broker's command line, nor in its configuration or logs.
    secrets = [f.read_text().strip() for f in (home / "credentials").glob("*.password")]
    node = home.resolve() / "cluster-1" / "node-0"
    pid = int((node / "pid").read_text())
    exposed = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    exposed += (node / "server.properties").read_text() + (node / "server.log").read_text()
    assert not [s for s in secrets if s in exposed]


def test_device_writes_telemetry_only(spec: localkafka.ClusterSpec, tmp_path: Path) -> None:
    out = tmp_path / "device.properties"
    principal = _cli_credentials(
        spec, out, "--role", "device", "--name", "pump-7", "--manufacturer", "Acme Medical"
    )
    assert principal == "device-acme-medical"
    device = KafkaClientConfig.from_properties(out).kafka_python()
    # Its manufacturer's own topic; the file holds only what librdkafka (kcat -F) accepts.
    own = TELEMETRY + ".device.acme-medical"
    assert set(read_properties(out)) == {
        "bootstrap.servers",
        "security.protocol",
        "sasl.mechanism",
        "sasl.username",
        "sasl.password",
        "ssl.ca.location",
    }

    producer = KafkaProducer(**device, acks="all", max_block_ms=10_000)
    try:
        assert producer.send(own, b"window").get(timeout=30).topic == own
        # Not the shared telemetry topic (written by ingest and triage, which vouch for the
        # device's manufacturer), not the triaged reports.
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(TELEMETRY, b"window").get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(TRIAGED, b"forged triage").get(timeout=30)
    finally:
        producer.close()

    consumer = KafkaConsumer(own, **device, group_id=None, auto_offset_reset="earliest")
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            for _ in range(20):
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close()
    # Reports are not even described to it: no metadata, so nothing to fetch.
    _assert_cannot_read(device, REPORTS, visible={own})

    # Rotation: a new password, the old one stops working.
    old = KafkaClientConfig.from_properties(out)
    _cli_credentials(
        spec, out, "--role", "device", "--name", "pump-7", "--manufacturer", "Acme Medical"
    )
    assert KafkaClientConfig.from_properties(out).password != old.password
    with pytest.raises(KafkaTimeoutError):
        KafkaAdminClient(**old.kafka_python(), bootstrap_timeout_ms=4000)


def test_regulator_reads_its_topic_with_its_groups_only(
    spec: localkafka.ClusterSpec, tmp_path: Path
) -> None:
    admin_producer = KafkaProducer(**localkafka.admin_config(spec).kafka_python())
    admin_producer.send(ALERTS, b"alert-1").get(timeout=30)
    admin_producer.close()

    out = tmp_path / "regulator.properties"
    principal = _cli_credentials(spec, out, "--role", "regulator", "--name", "ANSM France")
    assert principal == "regulator-ansm-france"
    regulator = KafkaClientConfig.from_properties(out).kafka_python()

    consumer = KafkaConsumer(
        ALERTS,
        **regulator,
        group_id=f"{principal}.alerts",
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    try:
        assert [r.value for r in consumer] == [b"alert-1"]
        consumer.commit()
    finally:
        consumer.close()

    _assert_cannot_read(regulator, SIGNALS, visible={ALERTS})

    # Neither a service's group nor another regulator's whose name starts like its own
    # (regulator-ansm-france-lyon.*): the group prefix ends with a "." no slug contains.
    for group in ("vigie-registry-alerts", f"{principal}-lyon.alerts"):
        consumer = KafkaConsumer(ALERTS, **regulator, group_id=group, auto_offset_reset="earliest")
        try:
            with pytest.raises(GroupAuthorizationFailedError):
                for _ in range(20):
                    consumer.poll(timeout_ms=500)
        finally:
            consumer.close()

    producer = KafkaProducer(**regulator, enable_idempotence=False, max_block_ms=10_000)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(ALERTS, b"forged alert").get(timeout=30)
    finally:
        producer.close()


def test_role_acls_are_least_privilege() -> None:
    device = {
        (a.operation, a.resource_pattern.resource_type, a.resource_pattern.resource_name)
        for a in kafkaacl.role_acls("device-acme", "device", topic=kafkaacl.device_topic("Acme"))
    }
    assert device == {
        (ACLOperation.WRITE, ResourceType.TOPIC, TELEMETRY + ".device.acme"),
        (ACLOperation.DESCRIBE, ResourceType.TOPIC, TELEMETRY + ".device.acme"),
        (ACLOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster"),
    }
    regulator = kafkaacl.role_acls("regulator-x", "regulator", topic="vigie.signals.v1")
    groups = [a for a in regulator if a.resource_pattern.resource_type == ResourceType.GROUP]
    assert [(g.operation, g.resource_pattern.pattern_type) for g in groups] == [
        (ACLOperation.READ, ACLResourcePatternType.PREFIXED)
    ]
    assert groups[0].resource_pattern.resource_name == "regulator-x."
    assert {a.resource_pattern.resource_name for a in regulator} == {
        "vigie.signals.v1",
        "regulator-x.",
    }
    assert all(a.principal.startswith("User:regulator-x") for a in regulator)
    assert kafkaacl.role_acls("vigie-ingest", "service") == []
    # Operators cannot hand out more than the role: a device writes its own device topic (in
    # any namespace), a regulator reads alerts or a subscription topic.
    kafkaacl.check_topic("device", "Gamma", "x", "ns1.vigie.telemetry.v1.device.gamma")
    kafkaacl.check_topic("regulator", None, "ansm", "vigie.alerts.v1.sub.ansm")
    for role, topic in (
        ("device", "vigie.alerts.v1.sub.device.gamma"),
        ("device", "vigie.telemetry.v1.device.delta"),
        ("regulator", "vigie.reports.v1"),
        ("regulator", "vigie.alerts.v1.dlq"),
    ):
        with pytest.raises(kafkaacl.PrincipalError):
            kafkaacl.check_topic(role, "Gamma", "ansm", topic)
    assert kafkaacl.principal_for("service", "ingest") == "vigie-ingest"
