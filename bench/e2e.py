"""End-to-end throughput: reports/s from Kafka to registry commit, against raw Kafka consume.

Runs against a stack it starts itself in a folder of its own: a Kafka broker (and PostgreSQL
when asked), then triage and registry as separate processes (as `vigie run` starts them), one
or more of each in the same consumer groups, on a fresh topic namespace and database per
configuration. The references are measured on the same broker in the same run: a bare aiokafka
loop (the services' client) and Kafka's own ConsumerPerformance. Everything it started is
stopped on the way out, whatever happened.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy.exc
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.common import (
    aiokafka_connection,
    finish,
    machine,
    median,
    percentile,
    restore_environment,
    say,
)
from bench.telemetry import consumer_performance, private_cluster
from services.ingest.reports.models import EXAMPLE_REPORT
from services.registry.db import make_engine
from services.registry.reports.models import Report
from vigie.contracts import (
    DeviceRef,
    Language,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    ReportSubmitted,
)
from vigie.credentials import KafkaClientConfig
from vigie.kafka import ensure_topics
from vigie.settings import CommonSettings
from vigie.topics import REPORTS
from vigie_tools import localkafka, localpg
from vigie_tools.commands import start_services, stop_services, wait_http


def make_reports(n: int) -> list[bytes]:
    """``n`` realistic reports as they travel on the reports topic."""
    outcomes = list(ReportedOutcome)
    return [
        ReportSubmitted(
            report_id=uuid.uuid4(),
            tracking_number="VG-0000-0000",
            kind=ReportKind.ADVERSE_EVENT,
            reporter_role=ReporterRole.PHYSICIAN,
            device=DeviceRef(
                name=f"Device {i % 40}", manufacturer=f"Maker {i % 7}", model_version="1.0"
            ),
            awareness_date=date(2026, 10, 1 + i % 28),
            outcome=outcomes[i % len(outcomes)],
            language=Language.EN,
            narrative=(
                "The decision-support software recommended a dose twice the usual; "
                "the nurse noticed before administration. "
            )
            * 3,
        )
        .model_dump_json()
        .encode()
        for i in range(n)
    ]


def produce(client: KafkaClientConfig, topic: str, values: list[bytes]) -> None:
    """Write ``values`` to ``topic`` (acks=all) and wait for every acknowledgement."""
    producer = KafkaProducer(
        **client.kafka_python(), acks="all", linger_ms=20, batch_size=256 * 1024
    )
    for value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


async def raw_consume_rate(client: KafkaClientConfig, topic: str, n: int) -> float:
    """Messages/s of a bare aiokafka consumer (the client the services use) reading ``n``,
    over the same SASL/SCRAM and TLS as the services."""
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_connection(client),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await consumer.start()
    try:
        seen = 0
        started = time.perf_counter()
        first: tuple[float, int] | None = None
        while seen < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            seen += sum(len(records) for records in batches.values())
            if first is None and seen:
                # From the first batch on, that batch left out: its start is not seen.
                first = (time.perf_counter(), seen)
        assert first is not None
        if first[1] >= n:  # all in the first batch: timed from the start, a bound from below
            return n / (time.perf_counter() - started)
        return (n - first[1]) / (time.perf_counter() - first[0])
    finally:
        await consumer.stop()


def registry_count(engine: Engine) -> int:
    with engine.connect() as conn:
        try:
            return int(conn.execute(text("SELECT count(*) FROM report")).scalar_one())
        except sqlalchemy.exc.DatabaseError:
            return 0


def commit_rate(engine: Engine, target: int, timeout_s: float) -> float:
    """Reports/s committed until the registry holds ``target``, from the first commit seen
    (the consumers' first poll left out), sampled every 50 ms."""
    started = time.perf_counter()
    first: tuple[float, int] | None = None
    base = registry_count(engine)
    while True:
        now, count = time.perf_counter(), registry_count(engine)
        if first is None and count > base:
            first = (now, count)
        if count >= target:
            break
        if now - started > timeout_s:
            raise TimeoutError(f"registry reached {count} of {target}")
        time.sleep(0.05)
    assert first is not None
    if now <= first[0]:  # everything arrived between two samples
        return (target - base) / (now - started)
    return (target - first[1]) / (now - first[0])


def http_latencies(engine: Engine, n: int, base: int) -> tuple[float, list[float]]:
    """Submit ``n`` reports over HTTP; accept rate and submission-to-commit latencies (ms)."""

    async def submit_all() -> float:
        async with httpx.AsyncClient(base_url="http://127.0.0.1:8000", timeout=30) as client:
            semaphore = asyncio.Semaphore(16)

            async def one() -> None:
                async with semaphore:
                    response = await client.post("/api/v1/reports", json=EXAMPLE_REPORT)
                    response.raise_for_status()

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(n)))
            return n / (time.perf_counter() - started)

    rate = asyncio.run(submit_all())
    commit_rate(engine, base + n, 120)
    with Session(engine) as session:
        rows = session.exec(
            select(Report.submitted_at, Report.recorded_at)
            .order_by(col(Report.recorded_at).desc())
            .limit(n)
        ).all()
    latencies = [(rec - sub).total_seconds() * 1000 for sub, rec in rows]
    return rate, latencies


# Where each service of the first instance exposes its Prometheus metrics.
METRICS_PORTS = {"triage": 8002, "registry": 8004}


@dataclass(frozen=True)
class Usage:
    """A service process's counters: CPU seconds, seconds inside its batches, records consumed."""

    cpu_s: float
    batch_s: float
    consumed: float

    @classmethod
    def read(cls, service: str) -> Usage:
        page = httpx.get(f"http://127.0.0.1:{METRICS_PORTS[service]}/metrics", timeout=10).text
        found = {"process_cpu_seconds_total": 0.0, "vigie_batch_seconds_sum": 0.0}
        consumed = 0.0
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                if sample.name in found and sample.labels.get("service", service) == service:
                    found[sample.name] += sample.value
                elif sample.name == "vigie_messages_consumed_total":
                    consumed += sample.value
        return cls(found["process_cpu_seconds_total"], found["vigie_batch_seconds_sum"], consumed)

    def per_record_us(self, before: Usage) -> tuple[float, float]:
        """CPU and batch time per record consumed since ``before``, in microseconds: CPU time
        is what the process costs whatever else runs on the machine."""
        records = self.consumed - before.consumed
        return (
            (self.cpu_s - before.cpu_s) / records * 1e6,
            (self.batch_s - before.batch_s) / records * 1e6,
        )


@dataclass
class Run:
    """One configuration of the pipeline: its database, its instances, its rates, and the
    CPU and batch time per record of its first triage and registry processes."""

    database: str
    instances: int
    rates: list[float] = field(default_factory=list)
    # Service -> (CPU µs, batch µs) per record of the first instance over the repeats.
    usage_us: dict[str, tuple[float, float]] = field(default_factory=dict)


def extra_instances(
    env: dict[str, str],
    spec: localkafka.ClusterSpec,
    count: int,
    workdir: Path,
    procs: list[subprocess.Popen[bytes]],
) -> None:
    """Start ``count`` more triage and registry processes in the same consumer groups, on ports
    of their own (the first instance is :func:`start_services`'), into ``procs`` (which the
    caller stops, even when one of them never became ready)."""
    for i in range(1, count + 1):
        for service, ports in (
            ("triage", {"VIGIE_TRIAGE_HEALTH_PORT": 8103, "VIGIE_TRIAGE_METRICS_PORT": 8102}),
            ("registry", {"VIGIE_REGISTRY_PORT": 8101, "VIGIE_REGISTRY_METRICS_PORT": 8104}),
        ):
            log = (workdir / "logs" / f"{service}-{i}.log").open("ab")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "vigie_tools", "serve", service],
                    env={
                        **env,
                        **{name: str(port + 100 * (i - 1)) for name, port in ports.items()},
                        "VIGIE_DRIFT_STATE_DIR": str(workdir / f"drift-{i}"),
                        "VIGIE_KAFKA_CLIENT_PROPERTIES": str(
                            localkafka.client_properties(spec, f"vigie-{service}")
                        ),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    for i in range(1, count + 1):
        wait_http(f"http://127.0.0.1:{8101 + 100 * (i - 1)}/readyz", timeout_s=180, procs=procs)
        wait_http(f"http://127.0.0.1:{8103 + 100 * (i - 1)}/readyz", timeout_s=180, procs=procs)


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reports", type=int, default=10000, help="reports per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--http", type=int, default=500, help="reports submitted over HTTP")
    parser.add_argument(
        "--database", default="sqlite,postgresql", help="sqlite and/or postgresql, comma-separated"
    )
    parser.add_argument(
        "--instances", default="1,2", help="triage and registry processes each, comma-separated"
    )
    parser.add_argument(
        "--base-port", type=int, default=29092, help="the broker's first port (not 9092's)"
    )
    parser.add_argument("--pg-port", type=int, default=55329, help="PostgreSQL's port")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke)")
    args = parser.parse_args(argv)
    if args.quick:
        args.reports, args.repeats, args.http = 500, 1, 20
    args.database = args.database.split(",")
    args.instances = [int(n) for n in args.instances.split(",")]
    unknown = set(args.database) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database {sorted(unknown)}")
    return args


def database_url(kind: str, workdir: Path, pg: localpg.PgSpec, name: str) -> str:
    """A fresh, empty registry database of ``kind`` for one configuration."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    server = localpg.start(pg)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + f"/{name}"


def pipeline_run(
    args: argparse.Namespace,
    spec: localkafka.ClusterSpec,
    bootstrap: str,
    pg: localpg.PgSpec,
    workdir: Path,
    run: Run,
) -> tuple[float, list[float]] | None:
    """Triage and registry on a fresh namespace and database: ``args.repeats`` rounds of
    ``args.reports`` reports, then (one instance only) the HTTP submissions."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace)
    ensure_topics(settings)
    url = database_url(run.database, workdir, pg, namespace)
    env = {
        **os.environ,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VIGIE_TOPIC_NAMESPACE": namespace,
        "VIGIE_DATABASE_URL": url,
        "VIGIE_LOG_LEVEL": "WARNING",
        # The benchmark submits hundreds of reports over HTTP from one address.
        "VIGIE_INGEST_RATE_LIMIT": "",
        "VIGIE_DRIFT_STATE_DIR": str(workdir / "drift-0"),
    }
    credentials = {
        service: localkafka.client_properties(spec, f"vigie-{service}")
        for service in ("ingest", "triage", "registry")
    }
    procs = start_services(env, workdir / "logs", credentials=credentials)
    engine = make_engine(url)
    http = None
    try:
        wait_http("http://127.0.0.1:8001/readyz", timeout_s=180, procs=procs)
        wait_http("http://127.0.0.1:8000/readyz", timeout_s=180, procs=procs)
        extra_instances(env, spec, run.instances - 1, workdir, procs)
        usage = {service: Usage.read(service) for service in METRICS_PORTS}
        total = 0
        for repeat in range(args.repeats):
            batch = make_reports(args.reports)
            total += args.reports
            produce(settings.kafka_client, settings.topics.reports, batch)
            run.rates.append(commit_rate(engine, total, 600))
            say(
                f"{run.database}, {run.instances} instance(s), repeat {repeat + 1}: "
                f"{args.reports:,} reports Kafka -> registry commit at {run.rates[-1]:,.0f}/s"
            )
        for service, before in usage.items():
            run.usage_us[service] = Usage.read(service).per_record_us(before)
        say(
            "  per report, first instance: "
            + ", ".join(
                f"{service} {cpu:,.0f} us CPU ({batch:,.0f} us in batches)"
                for service, (cpu, batch) in run.usage_us.items()
            )
        )
        if run.instances == 1 and args.http:
            http = http_latencies(engine, args.http, total)
    finally:
        stop_services(procs)
        engine.dispose()
    return http


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    workdir = Path(tempfile.mkdtemp(prefix="vigie-bench-e2e-"))
    # The broker and PostgreSQL of this run live in its folder; Kafka's jars are the project's.
    spec = private_cluster(workdir, args.base_port)
    pg = localpg.PgSpec(home=workdir / "postgres", port=args.pg_port)
    (workdir / "logs").mkdir()
    previous = os.environ.get("VIGIE_KAFKA_CLIENT_PROPERTIES")
    runs: list[Run] = []
    http: dict[str, tuple[float, list[float]]] = {}
    finished = False
    try:
        bootstrap = localkafka.start(spec)
        # The benchmark's own clients are the operator's; the services run as their principals.
        os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(localkafka.admin_properties(spec))
        client = localkafka.admin_config(spec)
        say(f"machine: {machine()}")
        say(f"broker: {bootstrap} in {workdir}")

        # References: the same broker and payloads, no processing; aiokafka is the services'
        # client, ConsumerPerformance Kafka's own.
        raw_topic = f"bench{uuid.uuid4().hex[:8]}.raw"
        admin = KafkaAdminClient(**client.kafka_python())
        admin.create_topics(
            [NewTopic(raw_topic, num_partitions=REPORTS.partitions, replication_factor=1)]
        )
        admin.close()
        payloads = make_reports(args.reports)
        raw_rates: list[float] = []
        java_rates: list[float] = []
        lib = spec.home.resolve() / f"lib-{localkafka.KAFKA_VERSION}"
        for repeat in range(args.repeats):
            produce(client, raw_topic, payloads)
            raw_rates.append(
                asyncio.run(raw_consume_rate(client, raw_topic, args.reports * (repeat + 1)))
            )
            java_rates.append(
                consumer_performance(
                    lib,
                    spec.home.resolve() / "admin-java.properties",
                    bootstrap,
                    raw_topic,
                    args.reports * (repeat + 1),
                )
            )
        say(f"reference, bare aiokafka consume: median {median(raw_rates):,.0f} msg/s {raw_rates}")
        say(f"reference, Kafka ConsumerPerformance: median {median(java_rates):,.0f} msg/s")

        for database in args.database:
            for instances in args.instances:
                run = Run(database, instances)
                runs.append(run)
                found = pipeline_run(args, spec, bootstrap, pg, workdir, run)
                if found is not None:
                    http[database] = found
        finished = True
    finally:
        localkafka.stop(spec)
        if "postgresql" in args.database:
            localpg.stop(pg)
            shutil.rmtree(localpg.data_dir(pg), ignore_errors=True)
        restore_environment("VIGIE_KAFKA_CLIENT_PROPERTIES", previous)
        if finished:
            shutil.rmtree(workdir)
        else:
            sys.stderr.write(f"logs kept in {workdir / 'logs'}\n")

    raw, java = median(raw_rates), median(java_rates)
    figures: dict[str, Any] = {
        "benchmark": "e2e",
        "machine": machine(),
        "reports_per_repeat": args.reports,
        "repeats": args.repeats,
        "raw_consume_msgs_per_s_median": round(raw, 1),
        "raw_consume_msgs_per_s": [round(r, 1) for r in raw_rates],
        "consumer_performance_msgs_per_s_median": round(java, 1),
        "consumer_performance_msgs_per_s": [round(r, 1) for r in java_rates],
    }
    for run in runs:
        rate = median(run.rates)
        name = f"{run.database}_x{run.instances}"
        single = next(r for r in runs if r.database == run.database)
        say(
            f"pipeline (triage + registry, {run.database}, {run.instances} instance(s)): median "
            f"{rate:,.0f} reports/s, {rate / raw:.1%} of bare aiokafka, {rate / java:.1%} of "
            f"ConsumerPerformance, x{rate / median(single.rates):.2f} of {single.instances} "
            "instance(s)"
        )
        figures[f"pipeline_{name}_reports_per_s_median"] = round(rate, 1)
        figures[f"pipeline_{name}_reports_per_s"] = [round(r, 1) for r in run.rates]
        figures[f"pipeline_{name}_vs_raw_ratio"] = round(rate / raw, 4)
        figures[f"pipeline_{name}_vs_consumer_performance_ratio"] = round(rate / java, 4)
        for service, (cpu, batch) in run.usage_us.items():
            figures[f"pipeline_{name}_{service}_cpu_us_per_report"] = round(cpu, 1)
            figures[f"pipeline_{name}_{service}_batch_us_per_report"] = round(batch, 1)
    for database, (accept_rate, latencies) in http.items():
        say(
            f"HTTP submission ({database}): {accept_rate:,.0f} reports/s accepted (16 concurrent "
            f"clients); submission -> registry commit p50 {percentile(latencies, 50):.0f} ms, "
            f"p99 {percentile(latencies, 99):.0f} ms"
        )
        figures[f"http_{database}_accept_reports_per_s"] = round(accept_rate, 1)
        figures[f"http_{database}_to_commit_ms_p50"] = round(percentile(latencies, 50), 1)
        figures[f"http_{database}_to_commit_ms_p99"] = round(percentile(latencies, 99), 1)
    finish(figures)


if __name__ == "__main__":
    main()
