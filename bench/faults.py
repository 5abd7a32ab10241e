"""Fault suite: the real stack through kill -9, a broker loss, a database outage, poison records
and client retries, counted at the end from the registry database and the topics.

Each scenario feeds reports while a fault strikes, waits until the pipeline settles, then
counts from what the platform holds, never from the sender's bookkeeping: the rows of the
registry database (each report carries a unique tag in its establishment), the
reports topic, the dead-letter topics and the alert topic. It prints one JSON line:

- ``sent``: reports the feeder tried to submit; ``accepted``: acknowledged by Kafka (producer)
  or by ingest (202);
- ``recorded``: rows of the scenario's reports in the registry; ``lost``: accepted reports with
  no row; ``duplicated``: rows beyond the first of a report (the same submission under two ids);
- ``dead_lettered``: records of the scenario on ``<topic>.dlq``; ``alerts``: serious cases with
  their alert on the alert topic (``alerts_missing`` those without);
- ``recovery_s``: from the fault (the restart of what was killed or stopped; the kill itself
  for a broker, which the cluster must survive) until a report sent after the fault began is
  recorded, so it includes the backlog ahead of that report when the feed outpaces the
  pipeline; ``stall_s``: the longest time after the fault with no report recorded (how long the
  pipeline stood still); ``drain_s``: from the end of the feed until every accepted report is
  recorded.

The services run as ``vigie run`` runs them (``python -m vigie_tools serve <service>``, each with
its own Kafka principal) against the project's local Kafka and PostgreSQL. Servers listen on
fixed loopback ports and keep their data under ``./.vigie``: run the suite where neither
collides with another stack, e.g. in a private network namespace and working directory::

    mkdir -p /tmp/faults && cd /tmp/faults && unshare -n sh -c \
        'ip link set lo up && exec python -m bench.faults --reports 20000'

(``unshare -rn`` as a non-root user; as root, ``-r`` would keep PostgreSQL from switching to
its own user). Kafka's jars are fetched from Maven Central once into ``./.vigie/kafka``
(``python -m vigie_tools kafka fetch``), which needs the network: fetch them before entering
the namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import sqlalchemy
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from bench.common import machine, say
from services.ingest.reports.service import tracking_number
from services.registry.db import upgrade_url
from services.triage.reports.service import TriagePolicy, triage_batch
from vigie.contracts import (
    DeviceRef,
    Language,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    ReportSubmitted,
    Severity,
)
from vigie.kafka import ensure_topics, make_producer
from vigie.settings import CommonSettings
from vigie_tools import localkafka, localpg
from vigie_tools.commands import stop_services, wait_http

SERVICES = ("registry", "triage", "ingest")
SINGLE_NODE = (
    "kill-ingest",
    "kill-triage",
    "kill-registry",
    "postgres-outage",
    "poison",
    "http-retries",
)
CLUSTER = ("broker-failover",)
SCENARIOS = SINGLE_NODE + CLUSTER
# Scenarios fed over HTTP through ingest; the others write to the reports topic directly.
OVER_HTTP = ("kill-ingest", "http-retries", "broker-failover")
# The 3-node cluster listens away from the single node (client ports 29092, 29094, 29096).
CLUSTER_BASE_PORT = 29092

_TAG = re.compile(rb"fx-[a-z0-9-]+?-\d+(?:-\d{7}|p-[a-z0-9-]+)")
_OUTCOMES = list(ReportedOutcome)
_NARRATIVES = (
    "The decision-support software recommended a dose twice the usual; the nurse noticed "
    "before administration.",
    "Le logiciel n'a pas signalé un nodule visible sur le scanner; diagnostic retardé.",
    "The sepsis score stayed low while the patient deteriorated; transfer to intensive care.",
    "The triage assistant froze during the night shift and the queue was handled by hand.",
)
# Reports without harm read as such, so that some cases are not serious and raise no alert.
_BENIGN = (
    "A typo in the label of the export screen; no patient involved.",
    "L'affichage du tableau de bord était lent ce matin, sans conséquence pour les patients.",
    "The colour of a button changed after the update; no patient involved, no delay.",
)


# --- reports ----------------------------------------------------------------------------------


def tag(prefix: str, seq: int) -> str:
    """The unique tag of report ``seq`` of a scenario (zero-padded: tags sort as they were sent)."""
    return f"{prefix}{seq:07d}"


def report_form(tag_: str, seq: int, **overrides: Any) -> dict[str, Any]:
    """A report as a reporter submits it to ingest, tagged in its establishment; keyword
    arguments replace fields."""
    outcome = _OUTCOMES[seq % len(_OUTCOMES)]
    harmless = outcome in (ReportedOutcome.NO_HARM, ReportedOutcome.UNKNOWN)
    texts = _BENIGN if harmless else _NARRATIVES
    form: dict[str, Any] = {
        "kind": list(ReportKind)[seq % len(ReportKind)].value,
        "reporter_role": ReporterRole.PHYSICIAN.value,
        "establishment": tag_,
        "country": "FR",
        "device": {
            "name": f"Device {seq % 40}",
            "manufacturer": f"Maker {seq % 7}",
            "model_version": "1.0",
        },
        "awareness_date": date(2026, 10, 1 + seq % 28).isoformat(),
        "outcome": outcome.value,
        "language": Language.EN.value,
        # The tag stays out of the narrative: the model reads it ("kill" reads as a death).
        "narrative": texts[seq % len(texts)],
    }
    form.update(overrides)
    return form


def report_event(tag_: str, seq: int, **overrides: Any) -> ReportSubmitted:
    """The same report as it travels on the reports topic (as ingest would publish it)."""
    form = report_form(tag_, seq, **overrides)
    report_id = uuid.uuid4()
    return ReportSubmitted(
        **{**form, "device": DeviceRef(**form["device"])},
        report_id=report_id,
        tracking_number=tracking_number(report_id),
    )


def poison_stem(prefix: str) -> str:
    """Tag prefix of a scenario's poison records (apart from its reports' ``prefix``)."""
    return prefix.rstrip("-") + "p-"


def tags_in(*parts: bytes | None) -> set[str]:
    """Tags found in a record's key and value."""
    return {m.decode() for part in parts if part for m in _TAG.findall(part)}


# --- the stack --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_database(spec: localpg.PgSpec, name: str) -> str:
    """Create an empty database on the local PostgreSQL; return its URL."""
    admin = f"host={spec.host} port={spec.port} user=vigie dbname=vigie"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return spec.url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Stack:
    """Ingest, triage and registry, started as ``vigie run`` starts them, on a topic namespace
    and a registry database of their own; every scenario run on it tags its reports apart."""

    spec: localkafka.ClusterSpec
    database_url: str
    workdir: Path
    pg: localpg.PgSpec | None = None
    namespace: str = field(default_factory=lambda: f"faults{uuid.uuid4().hex[:8]}")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    runs: int = 0

    @property
    def settings(self) -> CommonSettings:
        """The operator's view of the stack (provisioning, feeding, counting)."""
        return CommonSettings(
            kafka_bootstrap_servers=self.spec.bootstrap_servers,
            kafka_client_properties=localkafka.admin_properties(self.spec),
            topic_namespace=self.namespace,
        )

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['ingest']}"

    @property
    def database(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"

    def env(self, service: str) -> dict[str, str]:
        """The environment of one service: every broker, its own principal, this namespace."""
        registry = f"http://127.0.0.1:{self.ports['registry']}"
        env = {
            **os.environ,
            "VIGIE_KAFKA_BOOTSTRAP_SERVERS": self.spec.bootstrap_servers,
            "VIGIE_KAFKA_CLIENT_PROPERTIES": str(
                localkafka.client_properties(self.spec, f"vigie-{service}")
            ),
            "VIGIE_TOPIC_NAMESPACE": self.namespace,
            "VIGIE_DATABASE_URL": self.database_url,
            "VIGIE_LOG_LEVEL": "WARNING",
            "VIGIE_INGEST_PORT": str(self.ports["ingest"]),
            "VIGIE_REGISTRY_PORT": str(self.ports["registry"]),
            "VIGIE_REGISTRY_PUBLIC_URL": registry,
            "VIGIE_REGISTRY_INTERNAL_URL": registry,
            "VIGIE_TRIAGE_METRICS_PORT": str(self.ports["triage"]),
            # Ingest's and the registry's metrics listeners are not read here; off, so that a
            # restarted process never waits for its predecessor's port.
            "VIGIE_INGEST_METRICS_PORT": "0",
            "VIGIE_REGISTRY_METRICS_PORT": "0",
            # The suite's HTTP clients submit hundreds of reports from one address.
            "VIGIE_INGEST_RATE_LIMIT": "",
            "VIGIE_TRIAGE_GROUP_ID": f"vigie-triage-{self.namespace}",
            "VIGIE_DRIFT_GROUP_ID": f"vigie-drift-{self.namespace}",
            "VIGIE_REGISTRY_GROUP_ID": f"vigie-registry-{self.namespace}",
            "VIGIE_TRIAGE_SELF_SPOOL": str(self.workdir / "triage-telemetry.spool"),
            "VIGIE_DRIFT_STATE_DIR": str(self.workdir / "drift"),
        }
        return env

    def ready_url(self, service: str) -> str:
        path = "/metrics" if service == "triage" else "/readyz"
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def spawn(self, service: str) -> None:
        """Start one service (``python -m vigie_tools serve <service>``), logging beside."""
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{service}.log").open("ab") as out:
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", "vigie_tools", "serve", service],
                env=self.env(service),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, service: str, timeout_s: float = 180) -> None:
        wait_http(self.ready_url(service), timeout_s=timeout_s, procs=[self.procs[service]])

    def kill(self, service: str) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or committed on the way out."""
        proc = self.procs[service]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def start(self) -> None:
        """Topics, dead-letter topics and ACLs, the database migrated, then the three
        services, ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        upgrade_url(self.database_url)
        self.ports = {service: free_port() for service in SERVICES}
        ensure_topics(self.settings)
        for service in SERVICES:
            self.spawn(service)
        for service in SERVICES:
            self.wait_ready(service)

    def stop(self) -> None:
        stop_services(list(self.procs.values()))

    def next_prefix(self, scenario: str) -> str:
        """Tag prefix of a scenario's reports, unique on this stack."""
        self.runs += 1
        return f"fx-{scenario}-{self.runs}-"

    def log_tail(self, service: str, chars: int = 3000) -> str:
        path = self.workdir / "logs" / f"{service}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


@contextlib.contextmanager
def running_stack(
    spec: localkafka.ClusterSpec, *, database: str, workdir: Path, pg: localpg.PgSpec | None
) -> Iterator[Stack]:
    """A started stack on a fresh namespace and database (PostgreSQL needs ``pg`` running)."""
    namespace = f"faults{uuid.uuid4().hex[:8]}"
    if database == "postgresql":
        assert pg is not None, "the registry on PostgreSQL needs a server"
        url = postgres_database(pg, namespace)
    else:
        url = f"sqlite:///{workdir / namespace / 'registry.db'}"
    stack = Stack(spec, url, workdir / namespace, pg=pg, namespace=namespace)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


# --- what the platform holds ------------------------------------------------------------------


class Registry:
    """The registry database, read as the scenarios count: rows per tag."""

    def __init__(self, url: str) -> None:
        self.engine = sqlalchemy.create_engine(url, pool_pre_ping=True)

    def _scalar(self, sql: str, **params: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text(sql), params).scalar_one())

    def recorded_since(self, prefix: str, seq: int) -> int:
        """Rows of reports ``seq`` and after of the scenario."""
        return self._scalar(
            "SELECT count(*) FROM report WHERE establishment >= :low AND establishment <= :high",
            low=tag(prefix, seq),
            high=tag(prefix, 9_999_999),
        )

    def count(self, prefix: str) -> int:
        """Rows of the scenario's reports."""
        return self._scalar(
            "SELECT count(*) FROM report WHERE establishment LIKE :pattern", pattern=prefix + "%"
        )

    def rows(self, prefix: str) -> dict[str, list[tuple[uuid.UUID, bool]]]:
        """Each tag of the scenario recorded, with the report id and seriousness of its rows."""
        out: dict[str, list[tuple[uuid.UUID, bool]]] = {}
        with self.engine.connect() as conn:
            result = conn.execute(
                sqlalchemy.text(
                    "SELECT establishment, report_id, serious_incident FROM report "
                    "WHERE establishment LIKE :pattern"
                ),
                {"pattern": prefix + "%"},
            )
            for establishment, report_id, serious in result:
                out.setdefault(establishment, []).append((uuid.UUID(str(report_id)), bool(serious)))
        return out

    def close(self) -> None:
        self.engine.dispose()


def end_offsets(settings: CommonSettings, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """Where each partition of ``topics`` ends now (a scenario reads from there)."""
    consumer = KafkaConsumer(**settings.kafka_client.kafka_python(), group_id=None)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return dict(consumer.end_offsets(partitions))
    finally:
        consumer.close()


def read_from(
    settings: CommonSettings, start: dict[TopicPartition, int], *, timeout_s: float = 60
) -> list[Any]:
    """Every record from ``start`` to each partition's end now, without a consumer group."""
    consumer = KafkaConsumer(
        **settings.kafka_client.kafka_python(), group_id=None, enable_auto_commit=False
    )
    records: list[Any] = []
    try:
        partitions = list(start)
        consumer.assign(partitions)
        end = consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, start[tp])
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {sorted({tp.topic for tp in partitions})} stalled")
            for batch in consumer.poll(timeout_ms=1000, max_records=5000).values():
                records.extend(
                    r for r in batch if r.offset < end[TopicPartition(r.topic, r.partition)]
                )
    finally:
        consumer.close()
    return records


@dataclass(frozen=True)
class Marks:
    """Ends of the topics a scenario counts from, taken before it starts."""

    reports: dict[TopicPartition, int]
    dead_letters: dict[TopicPartition, int]
    alerts: dict[TopicPartition, int]

    @classmethod
    def take(cls, settings: CommonSettings) -> Marks:
        topics = settings.topics
        return cls(
            reports=end_offsets(settings, [topics.reports]),
            dead_letters=end_offsets(
                settings, [topics.reports + ".dlq", topics.reports_triaged + ".dlq"]
            ),
            alerts=end_offsets(settings, [topics.alerts]),
        )


@dataclass(frozen=True)
class DeadLetter:
    """A record of the scenario found on a dead-letter topic."""

    tag: str
    topic: str
    reason: str
    error: str


def dead_letters(settings: CommonSettings, marks: Marks, prefix: str) -> list[DeadLetter]:
    """The scenario's records on the dead-letter topics (found by their tag)."""
    found = []
    for record in read_from(settings, marks.dead_letters):
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        for found_tag in tags_in(record.key, record.value):
            if found_tag.startswith((prefix, poison_stem(prefix))):
                found.append(
                    DeadLetter(
                        found_tag,
                        record.topic,
                        headers.get("vigie-dlq-reason", ""),
                        headers.get("vigie-dlq-error", ""),
                    )
                )
    return found


def alerted_reports(settings: CommonSettings, marks: Marks) -> Counter[uuid.UUID]:
    """Serious-incident alerts on the alert topic, per report id (the relay may repeat one)."""
    alerted: Counter[uuid.UUID] = Counter()
    for record in read_from(settings, marks.alerts):
        alert = json.loads(record.value)
        if alert.get("alert_type") == "serious_incident" and alert.get("report_id"):
            alerted[uuid.UUID(alert["report_id"])] += 1
    return alerted


# --- feeding ----------------------------------------------------------------------------------


class Feeder(threading.Thread):
    """Submits ``n`` tagged reports at ``rate`` per second in its own thread."""

    def __init__(self, stack: Stack, prefix: str, n: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.prefix, self.n, self.rate = stack, prefix, n, rate
        self.sent = 0
        self.accepted: set[str] = set()
        self.failed = 0
        self.retries = 0
        self.errors: Counter[str] = Counter()
        # Answers that refuse a report for good (HTTP 4xx), by status.
        self.refused: Counter[int] = Counter()
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    def accepted_from(self, first_seq: int) -> int:
        """Reports accepted among those sent from ``first_seq`` on."""
        with self._lock:
            return sum(1 for t in self.accepted if int(t[-7:]) >= first_seq)

    def accept(self, tag_: str) -> None:
        with self._lock:
            self.accepted.add(tag_)

    def fail(self, why: str) -> None:
        with self._lock:
            self.failed += 1
            self.errors[why] += 1

    def due(self, seq: int, started: float) -> float:
        """Seconds until report ``seq`` is due (the feed is paced, not a burst)."""
        return started + seq / self.rate - time.monotonic()


class KafkaFeeder(Feeder):
    """Writes reports to the reports topic as ingest would (acks=all, idempotent producer)."""

    def run(self) -> None:
        settings = self.stack.settings
        producer = make_producer(settings, client_id="vigie-faults", linger_ms=5)
        started = time.monotonic()
        try:
            for seq in range(self.n):
                if self.stopped.is_set():
                    break
                pause = self.due(seq, started)
                if pause > 0:
                    time.sleep(pause)
                tag_ = tag(self.prefix, seq)
                event = report_event(tag_, seq)
                future = producer.send(
                    settings.topics.reports,
                    key=event.report_id.bytes,
                    value=event.model_dump_json().encode(),
                )
                future.add_callback(lambda _meta, t=tag_: self.accept(t))
                future.add_errback(lambda exc: self.fail(type(exc).__name__))
                self.sent += 1
            producer.flush()
        finally:
            producer.close()


class HttpFeeder(Feeder):
    """Submits reports to ingest's REST API from concurrent clients.

    With ``retry``, a client retries a timeout, a refused connection or a 5xx with backoff until
    ``give_up_s``; with ``idempotent`` every request of a report carries one submission nonce
    as its ``Idempotency-Key`` (a retry is then the same report): an anonymous caller's key
    must be one the server issued.
    """

    def __init__(
        self,
        stack: Stack,
        prefix: str,
        n: int,
        rate: float,
        *,
        retry: bool,
        idempotent: bool,
        clients: int = 8,
        timeout_s: float = 15.0,
        give_up_s: float = 600.0,
    ) -> None:
        super().__init__(stack, prefix, n, rate)
        self.retry, self.idempotent = retry, idempotent
        self.clients, self.timeout_s, self.give_up_s = clients, timeout_s, give_up_s

    def run(self) -> None:
        asyncio.run(self._feed())

    async def _feed(self) -> None:
        started = time.monotonic()
        seqs = iter(range(self.n))
        async with httpx.AsyncClient(base_url=self.stack.ingest_url, timeout=self.timeout_s) as c:

            async def client() -> None:
                for seq in seqs:
                    if self.stopped.is_set():
                        return
                    pause = self.due(seq, started)
                    if pause > 0:
                        await asyncio.sleep(pause)
                    self.sent += 1
                    await self._submit(c, seq)

            await asyncio.gather(*(client() for _ in range(self.clients)))

    async def _submit(self, client: httpx.AsyncClient, seq: int) -> None:
        tag_ = tag(self.prefix, seq)
        headers: dict[str, str] = {}
        body = report_form(tag_, seq)
        deadline = time.monotonic() + self.give_up_s
        attempt = 0
        while True:
            try:
                if self.idempotent and not headers:
                    issued = await client.post("/api/v1/submission-nonces")
                    issued.raise_for_status()
                    headers = {"Idempotency-Key": issued.json()["nonce"]}
                response = await client.post("/api/v1/reports", json=body, headers=headers)
            except httpx.HTTPStatusError as exc:  # the nonce request failed: retried as a 5xx is
                error = f"HTTP {exc.response.status_code}"
            except httpx.TransportError as exc:  # timeouts, refused and reset connections
                error = type(exc).__name__
            else:
                if response.status_code == 202:
                    self.accept(tag_)
                    return
                if response.status_code < 500:
                    self.refused[response.status_code] += 1
                    return
                error = f"HTTP {response.status_code}"
            if not self.retry or time.monotonic() > deadline:
                self.fail(error)
                return
            with self._lock:
                self.retries += 1
                self.errors[error] += 1
            attempt += 1
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt))


def feeder_for(stack: Stack, scenario: str, prefix: str, n: int, rate: float) -> Feeder:
    """How a scenario's reports are submitted."""
    if scenario == "kill-ingest":
        # What a 202 guarantees, with nobody retrying: every acknowledged report is recorded.
        return HttpFeeder(stack, prefix, n, rate, retry=False, idempotent=False)
    if scenario in OVER_HTTP:
        return HttpFeeder(stack, prefix, n, rate, retry=True, idempotent=True)
    return KafkaFeeder(stack, prefix, n, rate)


# --- waiting on the platform ------------------------------------------------------------------


def poll(check: Callable[[], bool], *, timeout_s: float, every_s: float = 0.2) -> bool:
    """Whether ``check`` came true within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)


def wait_sent(feeder: Feeder, count: int) -> None:
    """Until the feeder submitted ``count`` reports (the fault strikes mid-stream)."""
    poll(lambda: feeder.sent >= count or not feeder.is_alive(), timeout_s=3600, every_s=0.05)


def recovery(
    registry: Registry, feeder: Feeder, first_seq: int, since: float, *, timeout_s: float
) -> float | None:
    """Seconds from ``since`` until a report sent after the fault (``first_seq`` on) is
    recorded; None if none was within ``timeout_s``, or if the feed ended with none of them
    accepted (nothing to wait for)."""

    def progressed() -> bool:
        if not feeder.is_alive() and feeder.accepted_from(first_seq) == 0:
            return True
        with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
            return registry.recorded_since(feeder.prefix, first_seq) > 0
        return False

    if poll(progressed, timeout_s=timeout_s) and feeder.accepted_from(first_seq):
        return round(time.monotonic() - since, 2)
    return None


def settle(
    registry: Registry, prefix: str, accepted: set[str], *, stall_s: float
) -> dict[str, list[tuple[uuid.UUID, bool]]]:
    """The scenario's rows once every accepted report is recorded, or once nothing more was
    recorded for ``stall_s``."""
    last = -1
    changed = time.monotonic()
    while True:
        rows = registry.rows(prefix)
        if accepted <= rows.keys():
            return rows
        total = sum(len(r) for r in rows.values())
        if total != last:
            last, changed = total, time.monotonic()
        elif time.monotonic() - changed > stall_s:
            return rows
        time.sleep(0.5)


class Progress(threading.Thread):
    """Samples how many of the scenario's reports are recorded, to tell how long the pipeline
    stood still after the fault (whatever backlog it had to work through)."""

    def __init__(self, registry: Registry, prefix: str, every_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.registry, self.prefix, self.every_s = registry, prefix, every_s
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            # The database may be the fault: no sample while it is down.
            with contextlib.suppress(sqlalchemy.exc.SQLAlchemyError):
                self.samples.append((time.monotonic(), self.registry.count(self.prefix)))
            self.done.wait(self.every_s)

    def longest_stall(self, since: float) -> float | None:
        """Longest time from ``since`` without a report recorded, up to the last one recorded."""
        rises = [
            t
            for (t, n), (_, before) in zip(self.samples[1:], self.samples, strict=False)
            if n > before and t > since
        ]
        if not rises:
            return None
        return round(max(b - a for a, b in zip([since, *rises[:-1]], rises, strict=True)), 1)


# --- faults -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One scenario under way: its stack, tags, feeder and what it measured."""

    stack: Stack
    scenario: str
    prefix: str
    feeder: Feeder
    registry: Registry
    outage_s: float
    timeout_s: float
    figures: dict[str, Any] = field(default_factory=dict)
    struck: float | None = None

    def strike(self) -> int:
        """Note that the fault strikes now (the first time); returns the next report's seq."""
        if self.struck is None:
            self.struck = time.monotonic()
        return self.feeder.sent

    def recovered(self, first_seq: int, since: float) -> float | None:
        self.figures.setdefault("first_after_fault", first_seq)
        return recovery(self.registry, self.feeder, first_seq, since, timeout_s=self.timeout_s)


def kill_and_restart(run: Run, service: str) -> None:
    """SIGKILL ``service`` a third into the feed and start it again at once."""
    wait_sent(run.feeder, run.feeder.n // 3)
    first = run.strike()
    run.stack.kill(service)
    run.stack.spawn(service)
    restarted = time.monotonic()
    run.figures["recovery_s"] = run.recovered(first, restarted)
    run.figures["restarts"] = {service: 1}


def kill_ingest_repeatedly(run: Run) -> None:
    """SIGKILL ingest at a quarter, half and three quarters of the feed, restarting each time."""
    recoveries: list[float | None] = []
    for quarter in (1, 2, 3):
        wait_sent(run.feeder, run.feeder.n * quarter // 4)
        first = run.strike()
        run.stack.kill("ingest")
        run.stack.spawn("ingest")
        recoveries.append(run.recovered(first, time.monotonic()))
    run.figures["recoveries_s"] = recoveries
    measured = [r for r in recoveries if r is not None]
    run.figures["recovery_s"] = max(measured) if len(measured) == len(recoveries) else None
    run.figures["restarts"] = {"ingest": 3}


def stop_postgres(run: Run) -> None:
    """Stop PostgreSQL a third into the feed for ``outage_s``, then start it again."""
    pg = run.stack.pg
    if pg is None or run.stack.database != "postgresql":
        raise ValueError("postgres-outage needs the registry on PostgreSQL")
    wait_sent(run.feeder, run.feeder.n // 3)
    first = run.strike()
    stopped = time.monotonic()
    localpg.stop(pg)
    # The outage itself: the database stays down this long while reports keep coming.
    time.sleep(max(0.0, run.outage_s - (time.monotonic() - stopped)))
    localpg.start(pg)
    back = time.monotonic()
    run.figures["fault_s"] = round(back - stopped, 1)
    run.figures["recovery_s"] = run.recovered(first, back)


def partition_leader(stack: Stack, topic: str, partition: int = 0) -> int:
    """Node index (0-based) of the broker leading ``topic``'s ``partition``."""
    admin = KafkaAdminClient(**stack.settings.kafka_client.kafka_python(), client_id="vigie-faults")
    try:
        [described] = admin.describe_topics([topic])
    finally:
        admin.close()
    [leader] = [
        p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition
    ]
    return int(leader) - 1


def kill_partition_leader(run: Run) -> None:
    """SIGKILL the leader of the reports topic's first partition a third into the feed; the
    cluster must carry on with two nodes; then start the node again."""
    spec = run.stack.spec
    topic = run.stack.settings.topics.reports
    wait_sent(run.feeder, run.feeder.n // 3)
    node = partition_leader(run.stack, topic)
    pid = localkafka.status(spec)[node].pid
    assert pid is not None, f"node {node} is not running"
    first = run.strike()
    killed = time.monotonic()
    os.killpg(pid, signal.SIGKILL)
    run.figures["recovery_s"] = run.recovered(first, killed)
    run.figures["killed_node"] = node
    run.figures["new_leader"] = partition_leader(run.stack, topic)
    localkafka.start_node(spec, node)
    localkafka.wait_ready(spec)
    run.figures["fault_s"] = round(time.monotonic() - killed, 1)


@dataclass(frozen=True)
class Poison:
    """A record no consumer can process, where it is written and where it must end."""

    kind: str
    topic: str
    value: bytes | None
    dlq: str
    reason: str


def poison_records(stack: Stack, prefix: str) -> list[Poison]:
    """Poison of every kind known to have stopped a consumer or to need isolating."""
    topics = stack.settings.topics
    reports, triaged = topics.reports, topics.reports_triaged
    stem = poison_stem(prefix)

    def valid(kind: str, **overrides: Any) -> bytes:
        return report_event(stem + kind, 0, **overrides).model_dump_json().encode()

    def patched(kind: str, path: tuple[str, ...], value: Any) -> bytes:
        data = json.loads(valid(kind))
        where = data
        for step in path[:-1]:
            where = where[step]
        where[path[-1]] = value
        return json.dumps(data, ensure_ascii=False).encode()

    def untrusted(kind: str) -> bytes:
        # Triaged below its reported outcome: only a broken or forged triage writes this.
        event = report_event(stem + kind, 0, outcome=ReportedOutcome.DEATH.value)
        [done] = triage_batch(
            [event], classifier=None, key=stack.settings.pseudonym_key_bytes, policy=TriagePolicy()
        )
        forged = done.model_copy(
            update={"triage": done.triage.model_copy(update={"severity": Severity.OTHER})}
        )
        return forged.model_dump_json().encode()

    rdlq, tdlq = reports + ".dlq", triaged + ".dlq"
    found = [
        Poison(
            "undecodable",
            reports,
            b"\xff\xfe\x00" + (stem + "undecodable").encode(),
            rdlq,
            "not_json",
        ),
        Poison("empty", reports, None, rdlq, "empty"),
        Poison(
            "not-a-report",
            reports,
            json.dumps({"tag": stem + "not-a-report"}).encode(),
            rdlq,
            "schema",
        ),
        Poison("json-array", reports, json.dumps([stem + "json-array"]).encode(), rdlq, "schema"),
        Poison(
            "awareness-9999-12-31",
            reports,
            patched("awareness-9999-12-31", ("awareness_date",), "9999-12-31"),
            rdlq,
            "schema",
        ),
        Poison(
            "impossible-date",
            reports,
            patched("impossible-date", ("awareness_date",), "2026-02-30"),
            rdlq,
            "schema",
        ),
        Poison(
            "manufacturer-200-eszett",
            reports,
            patched("manufacturer-200-eszett", ("device", "manufacturer"), "ß" * 200),
            rdlq,
            "schema",
        ),
        Poison(
            "narrative-too-long",
            reports,
            patched(
                "narrative-too-long", ("narrative",), stem + "narrative-too-long " + "x" * 20_000
            ),
            rdlq,
            "schema",
        ),
        Poison(
            "triaged-undecodable",
            triaged,
            b"\x80" + (stem + "triaged-undecodable").encode(),
            tdlq,
            "not_json",
        ),
        Poison(
            "triaged-below-outcome", triaged, untrusted("triaged-below-outcome"), tdlq, "untrusted"
        ),
    ]
    # The contract refuses control characters (PostgreSQL would refuse a NUL in text).
    nul = stem + "nul-in-narrative"
    found.append(
        Poison(
            "nul-in-narrative",
            reports,
            patched("nul-in-narrative", ("narrative",), f"The display froze\x00 twice. {nul}."),
            rdlq,
            "schema",
        )
    )
    return found


def http_poison(stack: Stack, prefix: str) -> dict[str, int]:
    """Poison offered to ingest's public API: the status it answers for each."""
    stem = poison_stem(prefix)
    offers: dict[str, dict[str, Any]] = {
        "http-awareness-9999-12-31": {"awareness_date": "9999-12-31"},
        "http-manufacturer-200-eszett": {
            "device": {"name": "Device 1", "manufacturer": "ß" * 200, "model_version": "1.0"}
        },
    }
    nul = stem + "http-nul-in-narrative"
    offers["http-nul-in-narrative"] = {"narrative": f"The display froze\x00 twice. {nul}."}
    statuses = {}
    with httpx.Client(base_url=stack.ingest_url, timeout=30) as client:
        for kind, overrides in offers.items():
            body = report_form(stem + kind, 0, **overrides)
            statuses[kind] = client.post("/api/v1/reports", json=body).status_code
    return statuses


def inject_poison(run: Run) -> None:
    """Write every kind of poison a third into the feed; the feed goes on around them."""
    wait_sent(run.feeder, run.feeder.n // 3)
    poisons = poison_records(run.stack, run.prefix)
    producer = make_producer(run.stack.settings, client_id="vigie-faults-poison")
    first = run.strike()
    injected = time.monotonic()
    try:
        for p in poisons:
            key = (poison_stem(run.prefix) + p.kind).encode()
            producer.send(p.topic, key=key, value=p.value)
        producer.flush()
    finally:
        producer.close()
    expected = {p.kind: f"{p.dlq} {p.reason}" for p in poisons}
    answers = http_poison(run.stack, run.prefix)
    run.figures["poison"] = expected
    run.figures["http_poison"] = answers
    run.figures["recovery_s"] = run.recovered(first, injected)


FAULTS: dict[str, Callable[[Run], None]] = {
    "kill-ingest": lambda run: kill_and_restart(run, "ingest"),
    "kill-triage": lambda run: kill_and_restart(run, "triage"),
    "kill-registry": lambda run: kill_and_restart(run, "registry"),
    "postgres-outage": stop_postgres,
    "poison": inject_poison,
    "http-retries": kill_ingest_repeatedly,
    "broker-failover": kill_partition_leader,
}


# --- a scenario -------------------------------------------------------------------------------


def run_scenario(
    stack: Stack,
    scenario: str,
    *,
    reports: int,
    rate: float,
    outage_s: float = 60.0,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """Feed ``reports`` at ``rate``/s, strike with ``scenario``'s fault mid-stream, settle,
    and count from the registry and the topics; returns the scenario's JSON figures."""
    settings = stack.settings
    prefix = stack.next_prefix(scenario)
    marks = Marks.take(settings)
    registry = Registry(stack.database_url)
    feeder = feeder_for(stack, scenario, prefix, reports, rate)
    run = Run(stack, scenario, prefix, feeder, registry, outage_s, timeout_s)
    progress = Progress(registry, prefix)
    started = time.monotonic()
    progress.start()
    feeder.start()
    try:
        FAULTS[scenario](run)
    except BaseException:
        feeder.stopped.set()  # interrupted or failed: no point feeding the rest
        raise
    finally:
        feeder.join()
    fed = time.monotonic()
    # Services killed by the fault must be back before counting (their restart is the fault's).
    for service in SERVICES:
        stack.wait_ready(service)
    rows = settle(registry, prefix, feeder.accepted, stall_s=timeout_s / 2)
    progress.done.set()
    progress.join()
    if run.struck is not None:
        run.figures["stall_s"] = progress.longest_stall(run.struck)
    drained = set(feeder.accepted) <= rows.keys()
    drain_s = round(time.monotonic() - fed, 1) if drained else None
    figures = count(run, marks, rows)
    figures["accepted_after_fault"] = feeder.accepted_from(run.figures.get("first_after_fault", 0))
    registry.close()
    return {
        "scenario": scenario,
        "database": stack.database,
        "brokers": stack.spec.nodes,
        "sent": feeder.sent,
        **figures,
        "drain_s": drain_s,
        **run.figures,
        "client_retries": feeder.retries,
        "client_failed": feeder.failed,
        "client_errors": dict(feeder.errors),
        "client_refused": dict(feeder.refused),
        "duration_s": round(time.monotonic() - started, 1),
    }


def count(run: Run, marks: Marks, rows: dict[str, list[tuple[uuid.UUID, bool]]]) -> dict[str, Any]:
    """The figures of a settled scenario, from the database and the topics."""
    settings = run.stack.settings
    accepted = run.feeder.accepted
    on_topic: Counter[str] = Counter()
    for record in read_from(settings, marks.reports):
        on_topic.update(t for t in tags_in(record.value) if t.startswith(run.prefix))
    serious = {rid for found in rows.values() for rid, is_serious in found if is_serious}
    # The outbox relays after the commit: give it the time to publish what was committed.
    alerted: Counter[uuid.UUID] = Counter()

    def all_alerted() -> bool:
        nonlocal alerted
        alerted = alerted_reports(settings, marks)
        return serious <= alerted.keys()

    poll(all_alerted, timeout_s=120, every_s=2)
    letters = dead_letters(settings, marks, run.prefix)
    poison = run.figures.get("poison")
    if poison:
        expected = {poison_stem(run.prefix) + kind for kind in poison}

        def all_dead_lettered() -> bool:
            nonlocal letters
            letters = dead_letters(settings, marks, run.prefix)
            return expected <= {d.tag for d in letters}

        poll(all_dead_lettered, timeout_s=120, every_s=2)
    good_letters = [d for d in letters if d.tag.startswith(run.prefix)]
    figures: dict[str, Any] = {
        "accepted": len(accepted),
        "recorded": sum(len(r) for r in rows.values()),
        "lost": len(accepted - rows.keys()),
        "duplicated": sum(len(r) - 1 for r in rows.values() if len(r) > 1),
        "recorded_unacknowledged": len(rows.keys() - accepted),
        "accepted_not_on_topic": len(accepted - on_topic.keys()),
        "copies_on_topic": sum(c - 1 for c in on_topic.values() if c > 1),
        "dead_lettered": len(letters),
        "dead_lettered_good": len(good_letters),
        "serious": len(serious),
        "alerts": len(serious & alerted.keys()),
        "alerts_missing": len(serious - alerted.keys()),
        "alerts_repeated": sum(c - 1 for rid, c in alerted.items() if rid in serious and c > 1),
    }
    if poison:
        figures.update(check_poison(run, letters, poison))
    return figures


def check_poison(run: Run, letters: list[DeadLetter], poison: dict[str, str]) -> dict[str, Any]:
    """Where each poison record ended, against where it must."""
    stem = poison_stem(run.prefix)
    ended: dict[str, list[str]] = {}
    for letter in letters:
        if letter.tag.startswith(stem):
            ended.setdefault(letter.tag[len(stem) :], []).append(f"{letter.topic} {letter.reason}")
    misplaced = {
        kind: ended.get(kind, []) for kind, where in poison.items() if ended.get(kind) != [where]
    }
    recorded = run.registry.rows(stem)
    return {
        "poison_sent": len(poison),
        "poison_dead_lettered": sum(1 for kind in poison if kind in ended),
        "poison_misplaced": misplaced,
        "poison_recorded": sorted(recorded),
        "poison_errors": {
            letter.tag[len(stem) :]: letter.error[:120]
            for letter in letters
            if letter.tag.startswith(stem)
        },
    }


# --- the suite --------------------------------------------------------------------------------


def run_suite(
    scenarios: Sequence[str],
    *,
    reports: int,
    rate: float,
    outage_s: float,
    database: str,
    workdir: Path,
    emit: Callable[[dict[str, Any]], None],
) -> list[dict[str, Any]]:
    """Start what the scenarios need (Kafka, PostgreSQL), run them, stop what was started."""
    results: list[dict[str, Any]] = []
    pg = localpg.PgSpec()
    pg_started = False
    if database == "postgresql":
        pg_started = not localpg.is_ready(pg)
        localpg.start(pg)
    try:
        groups = [
            (localkafka.ClusterSpec(), [s for s in scenarios if s in SINGLE_NODE]),
            (
                localkafka.ClusterSpec(nodes=3, base_port=CLUSTER_BASE_PORT),
                [s for s in scenarios if s in CLUSTER],
            ),
        ]
        for spec, chosen in groups:
            if not chosen:
                continue
            kafka_started = not all(node.running for node in localkafka.status(spec))
            localkafka.start(spec)
            try:
                with running_stack(spec, database=database, workdir=workdir, pg=pg) as stack:
                    for scenario in chosen:
                        result = run_scenario(
                            stack, scenario, reports=reports, rate=rate, outage_s=outage_s
                        )
                        results.append(result)
                        emit(result)
            finally:
                if kafka_started:
                    localkafka.stop(spec)
    finally:
        if pg_started:
            localpg.stop(pg)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=20_000, help="reports per scenario")
    parser.add_argument(
        "--scenario", action="append", choices=SCENARIOS, help="repeatable; default: all"
    )
    parser.add_argument("--rate", type=float, default=300.0, help="reports submitted per second")
    parser.add_argument("--outage-s", type=float, default=60.0, help="PostgreSQL outage")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    scenarios = args.scenario or list(SCENARIOS)
    if args.database == "sqlite" and "postgres-outage" in scenarios:
        scenarios.remove("postgres-outage")
    workdir = Path(tempfile.mkdtemp(prefix="vigie-faults-"))
    say(f"machine: {machine()}")
    say(f"scenarios: {', '.join(scenarios)}; {args.reports} reports each; logs under {workdir}")
    results = run_suite(
        scenarios,
        reports=args.reports,
        rate=args.rate,
        outage_s=args.outage_s,
        database=args.database,
        workdir=workdir,
        emit=lambda result: say(json.dumps(result, sort_keys=True, ensure_ascii=False)),
    )
    failed = [
        r["scenario"]
        for r in results
        if r["lost"] or r["duplicated"] or r.get("poison_misplaced") or r["alerts_missing"]
    ]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
