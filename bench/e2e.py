"""End-to-end throughput: reports/s from Kafka to registry commit, against raw Kafka consume.

Runs against a stack it starts itself: the project's Kafka broker, then triage and registry as
separate processes (as `vigie run` starts them) on a fresh topic namespace and database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from bench.common import finish, machine, median, percentile, say
from services.ingest.reports.models import EXAMPLE_REPORT
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
from vigie_tools import localkafka
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
        bootstrap_servers=list(client.bootstrap_servers),
        security_protocol=client.security_protocol,
        sasl_mechanism=client.sasl_mechanism,
        sasl_plain_username=client.username,
        sasl_plain_password=client.password,
        ssl_context=client.ssl_context(),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await consumer.start()
    try:
        seen = 0
        started = None
        while seen < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            if started is None and batches:
                started = time.perf_counter()
            seen += sum(len(records) for records in batches.values())
        assert started is not None
        return n / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def registry_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM report").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def wait_count(db: Path, target: int, timeout_s: float) -> float:
    """Seconds until the registry holds ``target`` reports."""
    started = time.perf_counter()
    while registry_count(db) < target:
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"registry reached {registry_count(db)} of {target}")
        time.sleep(0.05)
    return time.perf_counter() - started


def http_latencies(db: Path, n: int, base: int) -> tuple[float, list[float]]:
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
    wait_count(db, base + n, 120)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT submitted_at, recorded_at FROM report ORDER BY recorded_at DESC LIMIT ?", (n,)
        ).fetchall()
    from datetime import datetime

    latencies = [
        (datetime.fromisoformat(rec) - datetime.fromisoformat(sub)).total_seconds() * 1000
        for sub, rec in rows
    ]
    return rate, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=5000, help="reports per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--http", type=int, default=500, help="reports submitted over HTTP")
    args = parser.parse_args()

    spec = localkafka.ClusterSpec()
    bootstrap = localkafka.start(spec)
    # The benchmark's own clients are the operator's; the services run as their principals.
    os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(localkafka.admin_properties(spec))
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace)
    client = settings.kafka_client
    ensure_topics(settings)
    workdir = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    db = workdir / "registry.db"
    say(f"machine: {machine()}")
    say(f"broker: {bootstrap}, namespace {namespace}, database {db}")

    # Ceiling: the same broker, the same client library, no processing.
    raw_topic = f"{namespace}.bench.raw"
    admin = KafkaAdminClient(**client.kafka_python())
    admin.create_topics(
        [NewTopic(raw_topic, num_partitions=REPORTS.partitions, replication_factor=1)]
    )
    admin.close()
    payloads = make_reports(args.reports)
    raw_rates: list[float] = []
    for _ in range(args.repeats):
        produce(client, raw_topic, payloads)
        raw_rates.append(
            asyncio.run(raw_consume_rate(client, raw_topic, args.reports * (len(raw_rates) + 1)))
        )
    say(f"raw aiokafka consume: median {median(raw_rates):,.0f} msg/s  {raw_rates}")

    env = {
        **os.environ,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VIGIE_TOPIC_NAMESPACE": namespace,
        "VIGIE_DATABASE_URL": f"sqlite:///{db}",
        "VIGIE_LOG_LEVEL": "WARNING",
        # The benchmark submits hundreds of reports over HTTP from one address.
        "VIGIE_INGEST_RATE_LIMIT": "",
    }
    credentials = {
        service: localkafka.client_properties(spec, f"vigie-{service}")
        for service in ("ingest", "triage", "registry")
    }
    procs = start_services(env, workdir / "logs", credentials=credentials)
    try:
        wait_http("http://127.0.0.1:8001/readyz", timeout_s=120, procs=procs)
        wait_http("http://127.0.0.1:8000/readyz", timeout_s=120, procs=procs)
        rates = []
        total = 0
        for repeat in range(args.repeats):
            batch = make_reports(args.reports)
            produce(client, settings.topics.reports, batch)
            total += args.reports
            seconds = wait_count(db, total, 600)
            rates.append(args.reports / seconds)
            say(
                f"repeat {repeat + 1}: {args.reports} reports Kafka -> registry commit in "
                f"{seconds:.2f} s = {rates[-1]:,.0f} reports/s"
            )
        accept_rate, latencies = http_latencies(db, args.http, total)
    finally:
        stop_services(procs)

    pipeline = median(rates)
    raw = median(raw_rates)
    say(
        f"pipeline (triage + registry, SQLite): median {pipeline:,.0f} reports/s, "
        f"{pipeline / raw:.1%} of the raw consume ceiling"
    )
    say(
        f"HTTP submission: {accept_rate:,.0f} reports/s accepted (16 concurrent clients); "
        f"submission -> registry commit p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms"
    )
    finish(
        {
            "benchmark": "e2e",
            "machine": machine(),
            "reports_per_repeat": args.reports,
            "repeats": args.repeats,
            "pipeline_reports_per_s_median": round(pipeline, 1),
            "pipeline_reports_per_s": [round(r, 1) for r in rates],
            "raw_consume_msgs_per_s_median": round(raw, 1),
            "raw_consume_msgs_per_s": [round(r, 1) for r in raw_rates],
            "pipeline_vs_raw_ratio": round(pipeline / raw, 4),
            "http_accept_reports_per_s": round(accept_rate, 1),
            "http_to_commit_ms_p50": round(percentile(latencies, 50), 1),
            "http_to_commit_ms_p99": round(percentile(latencies, 99), 1),
        }
    )


if __name__ == "__main__":
    main()
