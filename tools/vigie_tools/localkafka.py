"""A real Apache Kafka (KRaft) from Apache's Maven Central jars, for local runs, tests and CI."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# 3.9 keeps the old protocol versions that aiokafka and kafka-python still use.
KAFKA_VERSION = "3.9.1"
POM = Path(__file__).with_name("localkafka_pom.xml")


class KafkaStartError(RuntimeError):
    """The broker could not be fetched, formatted or started."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where a local cluster lives and listens."""

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
        cmd.append(f"-Dlog4j.configuration=file:{log4j}")
    return [*cmd, "-cp", f"{lib}/*", *args]


def _node_dir(spec: ClusterSpec, node: int) -> Path:
    return spec.root / f"node-{node}"


def _write_config(spec: ClusterSpec, node: int) -> Path:
    folder = _node_dir(spec, node)
    folder.mkdir(parents=True, exist_ok=True)
    voters = ",".join(f"{i + 1}@{spec.host}:{spec.controller_port(i)}" for i in range(spec.nodes))
    replication = 3 if spec.nodes >= 3 else 1
    min_isr = 2 if spec.nodes >= 3 else 1
    properties = {
        "process.roles": "broker,controller",
        "node.id": node + 1,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{spec.host}:{spec.broker_port(node)},"
        f"CONTROLLER://{spec.host}:{spec.controller_port(node)}",
        "advertised.listeners": f"PLAINTEXT://{spec.host}:{spec.broker_port(node)}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": folder / "data",
        "num.partitions": 3,
        "default.replication.factor": replication,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replication,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": min_isr,
        "auto.create.topics.enable": "false",
        "group.initial.rebalance.delay.ms": 0,
        # The default 128 MB dedupe buffer does not fit the small heap used here.
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        "unclean.leader.election.enable": "false",
    }
    config = folder / "server.properties"
    config.write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
    (folder / "log4j.properties").write_text(
        "log4j.rootLogger=INFO, file\n"
        "log4j.appender.file=org.apache.log4j.RollingFileAppender\n"
        f"log4j.appender.file.File={folder / 'server.log'}\n"
        "log4j.appender.file.MaxFileSize=20MB\nlog4j.appender.file.MaxBackupIndex=2\n"
        "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n"
        "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n\n"
        "log4j.logger.kafka=INFO\nlog4j.logger.org.apache.kafka=INFO\n"
        "log4j.logger.state.change.logger=WARN\nlog4j.logger.kafka.request.logger=WARN\n"
    )
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
    if (_node_dir(spec, node) / "data" / "meta.properties").exists():
        return
    result = subprocess.run(
        _java(
            lib,
            "kafka.tools.StorageTool",
            "format",
            # "=" form: a cluster id may start with "-", which argparse would read as an option.
            f"--cluster-id={_cluster_id(spec)}",
            f"--config={config}",
            "--ignore-formatted",
            log4j=config.with_name("log4j.properties"),
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise KafkaStartError(f"formatting node {node} failed: {result.stdout}{result.stderr}")


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
        out.append(
            NodeStatus(
                node, pid, pid is not None, spec.broker_port(node), spec.controller_port(node)
            )
        )
    return out


def start_node(spec: ClusterSpec, node: int) -> None:
    """Start one node (no-op if it runs); does not wait for the cluster."""
    if _pid(spec, node) is not None:
        return
    for port in (spec.broker_port(node), spec.controller_port(node)):
        if _port_open(spec.host, port):
            raise KafkaStartError(
                f"port {port} is taken by another process: stop it, or use another base port"
            )
    lib = ensure_jars(spec.home)
    config = _write_config(spec, node)
    _format(spec, lib, node, config)
    folder = _node_dir(spec, node)
    with (folder / "stdout.log").open("ab") as out:
        proc = subprocess.Popen(
            _java(
                lib,
                "kafka.Kafka",
                str(config),
                heap_mb=spec.heap_mb,
                log4j=folder / "log4j.properties",
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
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
    """Wait until every broker answers metadata requests (an open port is not enough)."""
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
                bootstrap_servers=spec.bootstrap_servers.split(","),
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
    raise KafkaStartError(f"Kafka not ready after {timeout:.0f} s ({last}).\n{_log_tail(spec)}")


def start(spec: ClusterSpec = ClusterSpec(), timeout: float = 120) -> str:
    """Start the cluster (idempotent) and wait until it answers; returns bootstrap servers."""
    for node in range(spec.nodes):
        start_node(spec, node)
    wait_ready(spec, timeout)
    return spec.bootstrap_servers


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
    spec = ClusterSpec(nodes=args.nodes, home=Path(args.home))
    try:
        if args.kafka_command == "start":
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
                    f"{s.broker_port}, controller {s.controller_port}\n"
                )
    except KafkaStartError as exc:
        sys.stderr.write(f"vigie kafka: {exc}\n")
        return 1
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``vigie kafka start|stop|status|wipe|fetch``."""
    parser = subparsers.add_parser("kafka", help="the local Apache Kafka broker (KRaft)")
    parser.add_argument("kafka_command", choices=["start", "stop", "status", "wipe", "fetch"])
    parser.add_argument("--nodes", type=int, choices=[1, 3], default=1)
    parser.add_argument("--home", default=str(ClusterSpec().home))
    parser.set_defaults(func=_run)
