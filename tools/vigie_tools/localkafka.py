"""A real Apache Kafka (KRaft) from Apache's Maven Central jars, for local runs, tests and CI.

The cluster is secured, and that is the only configuration there is, so that what runs on a
laptop is what the services and their tests are written against:

- clients connect with SASL_SSL and SCRAM-SHA-512 only, on ``broker_port(node)``;
- controllers (``controller_port``) and brokers among themselves (``internal_port``) use mutual
  TLS with the brokers' certificate, mapped to the principal ``vigie-broker``: no listener takes
  an unauthenticated or unencrypted connection, and none needs a SCRAM user before it starts;
- the StandardAuthorizer denies what no ACL allows; ``vigie-admin`` (the operator) and
  ``vigie-broker`` are the only super users.

The CA and broker certificate are in ``<home>/tls/`` (:mod:`vigie_tools.kafkatls`), the
passwords in ``<home>/credentials/`` (:mod:`vigie_tools.kafkaacl`); ``start`` writes the
operator's ``<home>/admin.properties`` and ``<home>/clients/<principal>.properties`` for the
services, in the format :class:`vigie.credentials.KafkaClientConfig` reads.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.credentials import KafkaClientConfig, write_properties
from vigie.kafka import create_topics
from vigie.settings import Replication
from vigie.topics import TELEMETRY
from vigie_tools import kafkaacl, kafkatls

log = logging.getLogger(__name__)

# kafka-python 3 and aiokafka 0.14 speak the protocol versions Kafka 4 kept (KIP-896).
KAFKA_VERSION = "4.1.1"
POM = Path(__file__).with_name("localkafka_pom.xml")
# Data formatted under another layout (the unsecured 3.9 cluster) is not reused: its metadata
# has no admin user and its nodes expect plaintext peers. Bump when the layout changes.
LAYOUT = f"secured-1 kafka-{KAFKA_VERSION}"


class KafkaStartError(RuntimeError):
    """The broker could not be fetched, formatted or started."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where a local cluster lives and listens.

    Node ``n`` listens on three loopback ports: clients on ``base_port + 2n`` (SASL_SSL), the
    controller quorum on ``base_port + 2n + 1`` (mTLS) and the other brokers on
    ``base_port + 100 + n`` (mTLS). With the default base: 9092/9093/9192, 9094/9095/9193,
    9096/9097/9194.
    """

    nodes: int = 1
    home: Path = Path(".vigie/kafka")
    host: str = "127.0.0.1"
    base_port: int = 9092
    heap_mb: int = 768

    @property
    def root(self) -> Path:
        """Data of this cluster size (a 1-node and a 3-node cluster never share data)."""
        return self.home.resolve() / f"cluster-{self.nodes}"

    def broker_port(self, node: int) -> int:
        return self.base_port + 2 * node

    def controller_port(self, node: int) -> int:
        return self.base_port + 2 * node + 1

    def internal_port(self, node: int) -> int:
        """Inter-broker (replication) listener: mutual TLS, brokers only."""
        return self.base_port + 100 + node

    def ports(self, node: int) -> tuple[int, int, int]:
        return self.broker_port(node), self.controller_port(node), self.internal_port(node)

    @property
    def bootstrap_servers(self) -> str:
        """Comma-separated broker addresses."""
        return ",".join(f"{self.host}:{self.broker_port(i)}" for i in range(self.nodes))


@dataclass(frozen=True)
class NodeStatus:
    """One node of a local cluster."""

    node_id: int
    pid: int | None
    running: bool
    broker_port: int
    controller_port: int
    internal_port: int


def ensure_jars(home: Path = ClusterSpec().home) -> Path:
    """Fetch Kafka's jars with Maven once; returns the folder to put on the classpath."""
    lib = home.resolve() / f"lib-{KAFKA_VERSION}"
    marker = lib / ".complete"
    if marker.exists():
        return lib
    if shutil.which("mvn") is None or shutil.which("java") is None:
        raise KafkaStartError("Java 17+ and Maven are needed to fetch and run Apache Kafka")
    shutil.rmtree(lib, ignore_errors=True)
    lib.mkdir(parents=True)
    pom = lib.parent / f"pom-{KAFKA_VERSION}.xml"
    pom.write_text(POM.read_text().replace("@KAFKA_VERSION@", KAFKA_VERSION))
    log.info("fetching Apache Kafka %s jars from Maven Central (once)", KAFKA_VERSION)
    started = time.monotonic()
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise KafkaStartError(
            f"Maven could not fetch Kafka: {result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    marker.write_text(KAFKA_VERSION)
    log.info("Kafka jars ready in %.0f s", time.monotonic() - started)
    return lib


def _java(lib: Path, *args: str, heap_mb: int = 256, log4j: Path | None = None) -> list[str]:
    cmd = ["java", f"-Xms{heap_mb}m", f"-Xmx{heap_mb}m", "-XX:+UseG1GC", "-Djava.awt.headless=true"]
    if log4j is not None:
        cmd.append(f"-Dlog4j2.configurationFile={log4j}")
    return [*cmd, "-cp", f"{lib}/*", *args]


def _log4j2(folder: Path) -> str:
    """log4j 2 configuration (properties syntax, built into log4j-core): server.log per node."""
    return (
        "status = warn\n"
        "appender.file.type = RollingFile\n"
        "appender.file.name = file\n"
        f"appender.file.fileName = {folder / 'server.log'}\n"
        f"appender.file.filePattern = {folder / 'server.log'}.%i\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = [%d] %p %m (%c)%n\n"
        "appender.file.policies.type = Policies\n"
        "appender.file.policies.size.type = SizeBasedTriggeringPolicy\n"
        "appender.file.policies.size.size = 20MB\n"
        "appender.file.strategy.type = DefaultRolloverStrategy\n"
        "appender.file.strategy.max = 2\n"
        "rootLogger.level = INFO\n"
        "rootLogger.appenderRef.file.ref = file\n"
        "logger.state.name = state.change.logger\n"
        "logger.state.level = WARN\n"
        "logger.request.name = kafka.request.logger\n"
        "logger.request.level = WARN\n"
    )


def _node_dir(spec: ClusterSpec, node: int) -> Path:
    return spec.root / f"node-{node}"


def _write_config(spec: ClusterSpec, node: int, tls: kafkatls.TlsFiles) -> Path:
    folder = _node_dir(spec, node)
    folder.mkdir(parents=True, exist_ok=True)
    voters = ",".join(f"{i + 1}@{spec.host}:{spec.controller_port(i)}" for i in range(spec.nodes))
    replication = 3 if spec.nodes >= 3 else 1
    min_isr = 2 if spec.nodes >= 3 else 1
    client = f"CLIENT://{spec.host}:{spec.broker_port(node)}"
    internal = f"INTERNAL://{spec.host}:{spec.internal_port(node)}"
    properties: dict[str, Any] = {
        "process.roles": "broker,controller",
        "node.id": node + 1,
        "controller.quorum.voters": voters,
        "listeners": f"{client},CONTROLLER://{spec.host}:{spec.controller_port(node)},{internal}",
        "advertised.listeners": f"{client},{internal}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "INTERNAL",
        "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SSL,INTERNAL:SSL",
        # Clients: SCRAM-SHA-512 over TLS, nothing else.
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        # Brokers and controllers: the broker certificate on both ends (mutual TLS).
        "listener.name.controller.ssl.client.auth": "required",
        "listener.name.internal.ssl.client.auth": "required",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": tls.broker_keystore,
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": tls.ca_cert,
        "ssl.endpoint.identification.algorithm": "https",
        "ssl.enabled.protocols": "TLSv1.3,TLSv1.2",
        "ssl.principal.mapping.rules": (
            f"RULE:^{kafkatls.BROKER_DN}$/{kafkatls.BROKER_PRINCIPAL}/,DEFAULT"
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{kafkaacl.ADMIN};User:{kafkatls.BROKER_PRINCIPAL}",
        "log.dirs": folder / "data",
        "num.partitions": 3,
        "default.replication.factor": replication,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replication,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replication,
        "share.coordinator.state.topic.min.isr": min_isr,
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": 0,
        # Failover after a broker dies without a word (kill -9, power loss): its partitions keep
        # it as leader until the active controller fences it, when no heartbeat came for
        # broker.session.timeout.ms (Kafka's default 9000; a newly elected controller counts it
        # from its own activation). Until then every client retries against a dead leader. On
        # one host heartbeats travel over loopback, so 1 s heartbeats with a 4 s lease fence a
        # dead broker within ~4 s (~6.5 s when it was the active controller too: the quorum
        # first elects another after controller.quorum.fetch.timeout.ms, 2 s), and still leave
        # a live broker starved of CPU 3 missed heartbeats before it is fenced by mistake.
        "broker.heartbeat.interval.ms": 1000,
        "broker.session.timeout.ms": 4000,
        # The default 128 MB dedupe buffer does not fit the small heap used here.
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        "unclean.leader.election.enable": "false",
    }
    config = folder / "server.properties"
    # No secret in it (PEM key unencrypted at 0600, SCRAM users in the metadata log).
    config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
    (folder / "log4j.properties").unlink(missing_ok=True)
    (folder / "log4j2.properties").write_text(_log4j2(folder))
    return config


def _cluster_id(spec: ClusterSpec) -> str:
    path = spec.root / "cluster-id"
    if path.exists():
        return path.read_text().strip()
    spec.root.mkdir(parents=True, exist_ok=True)
    # Kafka's own format: 16 random bytes, URL-safe base64 without padding.
    cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
    path.write_text(cluster_id)
    return cluster_id


def _format(spec: ClusterSpec, lib: Path, node: int, config: Path) -> None:
    """Format a node's storage with the operator's SCRAM user in its first metadata (KIP-900).

    Nobody can authenticate to a new cluster, so the admin user must be there from the start:
    ``--add-scram`` at format time. Its password is not put on the command line, where any
    local user sees it (``ps``, /proc): the main class and its arguments go in a Java launcher
    argument file (``java @file``), owner-only and deleted as soon as the tool exits.
    """
    folder = _node_dir(spec, node)
    argfile = folder / "format.args"
    # Left over only if a format was killed: it must not outlive that call.
    argfile.unlink(missing_ok=True)
    if (folder / "data" / "meta.properties").exists():
        return
    secret = kafkaacl.password(spec.home, kafkaacl.ADMIN)
    argfile.touch(mode=0o600)
    try:
        argfile.write_text(
            "\n".join(
                [
                    "kafka.tools.StorageTool",
                    "format",
                    # "=" form: a cluster id may start with "-", which argparse reads as an option.
                    f"--cluster-id={_cluster_id(spec)}",
                    f"--config={config}",
                    "--ignore-formatted",
                    "--add-scram",
                    f"SCRAM-SHA-512=[name={kafkaacl.ADMIN},password={secret}]",
                ]
            )
            + "\n"
        )
        result = subprocess.run(
            [*_java(lib, log4j=config.with_name("log4j2.properties")), f"@{argfile}"],
            capture_output=True,
            text=True,
            check=False,
            umask=0o077,
        )
    finally:
        argfile.unlink(missing_ok=True)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).replace(secret, "<redacted>")
        raise KafkaStartError(f"formatting node {node} failed: {output}")


def _check_layout(spec: ClusterSpec) -> None:
    """Data of an older, unsecured layout is discarded (a local cluster's data is disposable)."""
    marker = spec.root / "layout"
    if marker.exists() and marker.read_text().strip() == LAYOUT:
        return
    if any(s.running for s in status(spec)):
        raise KafkaStartError(
            f"a Kafka cluster of an older layout runs in {spec.root}: stop it "
            f"(vigie kafka stop --nodes {spec.nodes}) and start again"
        )
    if spec.root.exists():
        log.warning("discarding %s: formatted by an older, unsecured layout", spec.root)
        shutil.rmtree(spec.root)
    spec.root.mkdir(parents=True, exist_ok=True)
    marker.write_text(LAYOUT + "\n")


def _pid(spec: ClusterSpec, node: int) -> int | None:
    path = _node_dir(spec, node) / "pid"
    if not path.exists():
        return None
    try:
        pid = int(path.read_text())
        # A broker this process started stays a zombie once it exited until it is reaped, and a
        # zombie still answers kill(pid, 0): reap it first.
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return None
        except ChildProcessError:
            pass  # not our child: started by another process
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def status(spec: ClusterSpec = ClusterSpec()) -> list[NodeStatus]:
    """Each node: its pid and whether it runs."""
    out = []
    for node in range(spec.nodes):
        pid = _pid(spec, node)
        out.append(NodeStatus(node, pid, pid is not None, *spec.ports(node)))
    return out


def start_node(spec: ClusterSpec, node: int) -> None:
    """Start one node (no-op if it runs); does not wait for the cluster."""
    _check_layout(spec)
    if _pid(spec, node) is not None:
        return
    for port in spec.ports(node):
        if _port_open(spec.host, port):
            raise KafkaStartError(
                f"port {port} is taken by another process: stop it, or use another base port"
            )
    lib = ensure_jars(spec.home)
    # Topic logs hold reports and the metadata log SCRAM records: the home is the owner's
    # alone, and the broker writes its files for the owner only (umask 077).
    spec.home.resolve().chmod(0o700)
    tls = _tls(spec)
    config = _write_config(spec, node, tls)
    _format(spec, lib, node, config)
    folder = _node_dir(spec, node)
    with (folder / "stdout.log").open("ab") as out:
        proc = subprocess.Popen(
            _java(
                lib,
                "kafka.Kafka",
                str(config),
                heap_mb=spec.heap_mb,
                log4j=folder / "log4j2.properties",
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o077,
        )
    (folder / "pid").write_text(str(proc.pid))


def _log_tail(spec: ClusterSpec) -> str:
    parts = []
    for node in range(spec.nodes):
        for name in ("stdout.log", "server.log"):
            path = _node_dir(spec, node) / name
            if path.exists():
                parts.append(f"--- node {node} {name}\n{path.read_text(errors='replace')[-1500:]}")
    return "\n".join(parts)


def wait_ready(spec: ClusterSpec, timeout: float = 120) -> None:
    """Wait until every broker answers the operator's metadata requests (an open port is not
    enough); the operator authenticates, so this also proves SCRAM and TLS work."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout
    # Refused connections are expected while the broker starts: keep them out of the logs.
    client_log = logging.getLogger("kafka")
    previous = client_log.level
    client_log.setLevel(logging.CRITICAL)
    try:
        _wait(spec, deadline, timeout, KafkaAdminClient)
    finally:
        client_log.setLevel(previous)


def _wait(spec: ClusterSpec, deadline: float, timeout: float, admin_class: Any) -> None:
    last: Any = None
    while time.monotonic() < deadline:
        dead = [s.node_id for s in status(spec) if not s.running]
        if dead:
            raise KafkaStartError(f"Kafka node(s) {dead} exited.\n{_log_tail(spec)}")
        try:
            admin = admin_class(
                **admin_config(spec).kafka_python(),
                client_id="vigie-readiness",
                request_timeout_ms=5000,
            )
            try:
                brokers = admin.describe_cluster()["brokers"]
            finally:
                admin.close()
            # A restarted cluster may list a broker from its previous run before that broker
            # listens again: every listener must accept connections too.
            closed = [
                n for n in range(spec.nodes) if not _port_open(spec.host, spec.broker_port(n))
            ]
            if len(brokers) >= spec.nodes and not closed:
                return
            last = f"{len(brokers)} of {spec.nodes} brokers registered, nodes {closed} closed"
        except Exception as exc:  # noqa: BLE001 - every failure means "not ready yet"
            last = exc
        time.sleep(0.5)
    # The operator's password is in the metadata formatted with the cluster: if the home's
    # credentials were made again since, only a wipe (a new format) brings them back together.
    hint = (
        f"If {kafkaacl.credentials_dir(spec.home)} was recreated after this cluster was "
        f"formatted, the operator cannot log in: vigie kafka stop/wipe --nodes {spec.nodes}."
    )
    raise KafkaStartError(
        f"Kafka not ready after {timeout:.0f} s ({last}). {hint}\n{_log_tail(spec)}"
    )


def start(spec: ClusterSpec = ClusterSpec(), timeout: float = 120) -> str:
    """Start the cluster (idempotent), wait until it answers, make sure the services' SCRAM
    users exist and write the client files; returns bootstrap servers."""
    # The nodes are formatted and launched side by side: one after the other, the JVMs' start
    # times add up (formatting a new node takes ~15 s on a loaded 2-core machine, three ~50 s).
    # What the nodes share is made once first: the layout marker, the jars, the cluster id.
    _check_layout(spec)
    ensure_jars(spec.home)
    _cluster_id(spec)
    with ThreadPoolExecutor(max_workers=spec.nodes) as pool:
        list(pool.map(lambda node: start_node(spec, node), range(spec.nodes)))
    wait_ready(spec, timeout)
    provision(spec)
    return spec.bootstrap_servers


def _tls(spec: ClusterSpec) -> kafkatls.TlsFiles:
    try:
        return kafkatls.ensure_tls(spec.home)
    except kafkatls.TlsError as exc:
        raise KafkaStartError(str(exc)) from exc


def client_config(spec: ClusterSpec, principal: str) -> KafkaClientConfig:
    """How ``principal`` connects to this cluster (its stored password, the cluster's CA)."""
    return KafkaClientConfig(
        bootstrap_servers=tuple(spec.bootstrap_servers.split(",")),
        username=principal,
        password=kafkaacl.password(spec.home, principal),
        ca_file=_tls(spec).ca_cert,
    )


def admin_config(spec: ClusterSpec) -> KafkaClientConfig:
    """The operator (``vigie-admin``, a super user) on this cluster."""
    return client_config(spec, kafkaacl.ADMIN)


def admin_properties(spec: ClusterSpec) -> Path:
    """Write (and return) ``<home>/admin.properties``: the operator's client file (0600), in
    librdkafka's names (``kcat -F``), and ``<home>/admin-java.properties`` beside it for Kafka's
    own tools (``kafka-configs.sh --command-config``)."""
    config = admin_config(spec)
    write_properties(spec.home.resolve() / "admin-java.properties", config.java_properties())
    return write_properties(spec.home.resolve() / "admin.properties", config.properties())


def client_properties(spec: ClusterSpec, principal: str) -> Path:
    """Write (and return) ``<home>/clients/<principal>.properties`` (0600)."""
    path = spec.home.resolve() / "clients" / f"{principal}.properties"
    return write_properties(path, client_config(spec, principal).properties())


def _admin(spec: ClusterSpec) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(
        **admin_config(spec).kafka_python(), client_id="vigie-provision", request_timeout_ms=15000
    )


def provision(spec: ClusterSpec) -> None:
    """Create or refresh the services' SCRAM users from the stored passwords, write the files.

    Upserting on every start keeps the cluster's users equal to the files, also after a wipe
    (users live in the cluster's metadata, passwords in the home, shared by cluster sizes).
    """
    admin = _admin(spec)
    try:
        kafkaacl.upsert_users(
            admin, {p: kafkaacl.password(spec.home, p) for p in kafkaacl.SERVICE_PRINCIPALS}
        )
    except kafkaacl.PrincipalError as exc:
        raise KafkaStartError(str(exc)) from exc
    finally:
        admin.close()
    admin_properties(spec)
    for principal in kafkaacl.SERVICE_PRINCIPALS:
        client_properties(spec, principal)


def issue_credentials(
    spec: ClusterSpec,
    role: str,
    name: str,
    *,
    out: Path,
    manufacturer: str | None = None,
    topic: str | None = None,
    timeout: float = 30,
) -> str:
    """Create or rotate (new password) a principal's SCRAM user and ACLs; write its file at
    ``out`` (0600) and return the principal. The cluster must run."""
    principal = kafkaacl.principal_for(role, name, manufacturer)
    if principal in (kafkaacl.ADMIN, kafkatls.BROKER_PRINCIPAL):
        raise KafkaStartError(f"{principal} is not issued with this command")
    if not all(s.running for s in status(spec)):
        raise KafkaStartError(f"the cluster is not running: vigie kafka start --nodes {spec.nodes}")
    try:
        if topic is not None:
            kafkaacl.check_topic(role, manufacturer, name, topic)
    except kafkaacl.PrincipalError as exc:
        raise KafkaStartError(str(exc)) from exc
    if role == "device":
        # The manufacturer's own topic: what arrives there is vouched for by this principal
        # alone, so consumers accept from it only this manufacturer's devices.
        topic = topic or kafkaacl.device_topic(manufacturer or name)
        create_topics(
            admin_config(spec),
            [(topic, TELEMETRY.partitions, TELEMETRY.config)],
            replication=Replication(),  # the cluster's defaults, written by _write_config
        )
    secret = kafkaacl.password(spec.home, principal, rotate=True)
    admin = _admin(spec)
    try:
        kafkaacl.upsert_users(admin, {principal: secret})
        kafkaacl.create_acls(admin, kafkaacl.role_acls(principal, role, topic=topic))
    except kafkaacl.PrincipalError as exc:
        raise KafkaStartError(str(exc)) from exc
    finally:
        admin.close()
    config = client_config(spec, principal)
    write_properties(out, config.properties())
    if principal in kafkaacl.SERVICE_PRINCIPALS:
        client_properties(spec, principal)
    _wait_usable(config, timeout)
    return principal


def _wait_usable(config: KafkaClientConfig, timeout: float) -> None:
    """Wait until the new credential authenticates: a new user reaches each broker's metadata
    a moment after the controller accepted it."""
    from kafka import KafkaConsumer

    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            consumer = KafkaConsumer(
                **config.kafka_python(),
                client_id="vigie-credentials-check",
                request_timeout_ms=5000,
            )
            try:
                consumer.topics()
            finally:
                consumer.close()
            return
        except Exception as exc:  # noqa: BLE001 - authentication fails until it propagated
            last = exc
            time.sleep(0.5)
    raise KafkaStartError(f"the new credential of {config.username} does not authenticate: {last}")


def stop_node(spec: ClusterSpec, node: int, timeout: float = 30) -> None:
    """Stop one node: SIGTERM, then SIGKILL after ``timeout``."""
    pid = _pid(spec, node)
    if pid is not None:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid(spec, node) is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid(spec, node) is not None:
            os.killpg(pid, signal.SIGKILL)
            time.sleep(0.5)
    (_node_dir(spec, node) / "pid").unlink(missing_ok=True)


def stop(spec: ClusterSpec = ClusterSpec(), timeout: float = 30) -> None:
    """Stop every node."""
    for node in range(spec.nodes):
        stop_node(spec, node, timeout)


def wipe(spec: ClusterSpec = ClusterSpec()) -> None:
    """Delete the cluster's data (it must be stopped)."""
    if any(s.running for s in status(spec)):
        raise KafkaStartError("stop the cluster before wiping it")
    shutil.rmtree(spec.root, ignore_errors=True)


def _run(args: argparse.Namespace) -> int:
    spec = ClusterSpec(nodes=args.nodes, home=Path(args.home), base_port=args.base_port)
    try:
        if args.kafka_command == "credentials":
            if not args.role or not args.name or not args.out:
                raise KafkaStartError("credentials needs --role, --name and --out")
            out = Path(args.out).resolve()
            try:
                existing = kafkaacl.principal_for(args.role, args.name, args.manufacturer)
            except kafkaacl.PrincipalError as exc:
                raise KafkaStartError(str(exc)) from exc
            rotated = (kafkaacl.credentials_dir(spec.home) / f"{existing}.password").exists()
            principal = issue_credentials(
                spec,
                args.role,
                args.name,
                out=out,
                manufacturer=args.manufacturer,
                topic=args.topic,
            )
            # The principal and the file: never the password.
            sys.stdout.write(f"{principal} {out}\n")
            if rotated:
                shared = (
                    " (shared by every device of this manufacturer)"
                    if args.role == "device"
                    else ""
                )
                sys.stderr.write(
                    f"vigie kafka: rotated: the previous password of {principal}{shared} "
                    "no longer works; hand over the new file\n"
                )
        elif args.kafka_command == "start":
            sys.stdout.write(start(spec) + "\n")
        elif args.kafka_command == "stop":
            stop(spec)
        elif args.kafka_command == "wipe":
            wipe(spec)
        elif args.kafka_command == "fetch":
            sys.stdout.write(str(ensure_jars(spec.home)) + "\n")
        else:
            for s in status(spec):
                state = f"running (pid {s.pid})" if s.running else "stopped"
                sys.stdout.write(
                    f"node {s.node_id}: {state}, broker {spec.host}:"
                    f"{s.broker_port} (SASL_SSL), controller {s.controller_port} (mTLS), "
                    f"inter-broker {s.internal_port} (mTLS)\n"
                )
    except (KafkaStartError, kafkaacl.PrincipalError) as exc:
        sys.stderr.write(f"vigie kafka: {exc}\n")
        return 1
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``vigie kafka start|stop|status|wipe|fetch|credentials``."""
    parser = subparsers.add_parser("kafka", help="the local Apache Kafka cluster (KRaft, secured)")
    parser.add_argument(
        "kafka_command", choices=["start", "stop", "status", "wipe", "fetch", "credentials"]
    )
    parser.add_argument("--nodes", type=int, choices=[1, 3], default=1)
    parser.add_argument("--home", default=str(ClusterSpec().home))
    parser.add_argument("--base-port", type=int, default=ClusterSpec().base_port)
    creds = parser.add_argument_group("credentials", "issue or rotate a client's SCRAM user")
    creds.add_argument("--role", choices=list(kafkaacl.ROLES))
    creds.add_argument("--name", help="regulator or service name; device name")
    creds.add_argument("--manufacturer", help="device principals are per manufacturer")
    creds.add_argument("--topic", help="topic of the role (default: telemetry / alerts)")
    creds.add_argument("--out", help="the client properties file to write (0600)")
    parser.set_defaults(func=_run)
