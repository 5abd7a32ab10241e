"""HTTP intake: reports/s and p99 of ingest against a bare FastAPI endpoint, in the same run.

The reference is what ingest cannot do without: FastAPI validating the same request model and
an aiokafka producer writing it with ``send_and_wait`` (acks=all, idempotent) to the same
secured broker (SASL_SSL, SCRAM-SHA-512). Both run as separate uvicorn processes, one or two
instances side by side (two ports, the client's connections spread over them), against a
broker this benchmark starts and stops (unless it was already running).

The load comes from another process: a raw HTTP/1.1 client on asyncio streams (keep-alive,
bodies encoded in advance), far lighter than the servers it loads, so that on a 2-core machine
it takes as little as possible of the servers' CPU. Two loads:

- closed loop: ``--connections`` connections each sending its next report as soon as the last
  is answered (the throughput figure);
- open loop: reports sent at a fixed rate (``--rate``) whatever the answers, latency counted
  from when each was due, so that a server falling behind shows in the p99.

Every report has a narrative of its own (the scrubber's cost is the cost of a new text);
``--identifiers`` also runs narratives that carry names, dates of birth, telephones and record
numbers. Before the load, the time of each step ingest takes for a report is measured in this
process, and under load ingest's own histograms (scrubbing, Kafka acknowledgement) are read from
its metrics listener.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.common import aiokafka_connection, finish, machine, median, percentile, say
from services.ingest.reports.models import EXAMPLE_REPORT, ReportCreate

REPORTS_PATH = "/api/v1/reports"
REFERENCE_PORT = 8100
INGEST_PORT = 8200
METRICS_PORT = 8300

_GIVEN = ["Jeanne", "Thierry", "Amina", "Paul", "Sophie", "Karim", "Louise", "Marc"]
_SURNAMES = ["ROUSSEAU", "Martin", "Lefebvre", "Benali", "Dubois", "Nguyen", "Garnier", "Petit"]
_FINDINGS = [
    "Le logiciel n'a pas signalé un nodule de {n} mm visible sur le scanner; diagnostic "
    "retardé de {d} semaines, hospitalisation.",
    "L'aide à la prescription a proposé {n} mg au lieu de {m} mg; l'infirmière a corrigé "
    "avant l'administration, sans conséquence pour le patient.",
    "Le score de risque de sepsis est resté à {n} % pendant {d} heures malgré une "
    "dégradation clinique; transfert en réanimation tardif.",
    "La segmentation automatique a décalé le volume cible de {n} mm; la dosimétrie a été "
    "reprise et la séance {d} reportée.",
]


def narrative(i: int, *, identifiers: bool) -> str:
    """A narrative of its own for report ``i`` (no two alike), with identifiers or not."""
    text = _FINDINGS[i % len(_FINDINGS)].format(n=3 + i % 97, m=10 + i % 13, d=1 + i % 11)
    text = f"{text} Cas n°{i}."
    if identifiers:
        given, surname = _GIVEN[i % len(_GIVEN)], _SURNAMES[(i // 8) % len(_SURNAMES)]
        text = (
            f"Mme {given} {surname}, née le {1 + i % 28:02d}/03/19{40 + i % 50}, IPP "
            f"{40_000_000 + i}, joignable au 06 12 {i % 100:02d} 56 78. {text}"
        )
    return text


def report_bodies(n: int, *, identifiers: bool, offset: int = 0) -> list[bytes]:
    """``n`` valid report bodies, each with its own narrative."""
    return [
        json.dumps(
            {**EXAMPLE_REPORT, "narrative": narrative(offset + i, identifiers=identifiers)}
        ).encode()
        for i in range(n)
    ]


# --- the reference: a bare FastAPI endpoint and an acknowledged Kafka write ----------------


def reference_app() -> Any:
    """The reference application (``uvicorn bench.intake:reference_app --factory``): the same
    request model, an aiokafka ``send_and_wait`` with acks=all to the same topic and broker."""
    from aiokafka import AIOKafkaProducer
    from fastapi import FastAPI, status

    from vigie.settings import CommonSettings

    settings = CommonSettings()
    client = settings.kafka_client
    topic = settings.topics.reports
    state: dict[str, AIOKafkaProducer] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = AIOKafkaProducer(
            **aiokafka_connection(client),
            client_id="vigie-bench-reference",
            acks="all",
            enable_idempotence=True,
        )
        await producer.start()
        state["producer"] = producer
        try:
            yield
        finally:
            await producer.stop()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(REPORTS_PATH, status_code=status.HTTP_202_ACCEPTED)
    async def submit(report: ReportCreate) -> dict[str, str]:
        report_id = uuid.uuid4()
        await state["producer"].send_and_wait(
            topic, report.model_dump_json().encode(), key=report_id.bytes
        )
        return {"report_id": str(report_id)}

    return app


# --- the load: a raw HTTP/1.1 client in its own process ------------------------------------


def _request(port: int, body: bytes) -> bytes:
    return (
        f"POST {REPORTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _Connection:
    """One keep-alive connection: send a request, read its answer's status."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self._reader.readexactly(length)
        if b"connection: close" in head.lower():
            await self.close()
        return status

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


async def _closed_loop(
    ports: list[int], bodies: list[bytes], connections: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker(index: int, deadline: float) -> None:
        port = ports[index % len(ports)]
        connection = _Connection(port)
        requests = [_request(port, body) for body in bodies[index::connections]]
        sent = 0
        try:
            while time.perf_counter() < deadline:
                request = requests[sent % len(requests)]
                sent += 1
                started = time.perf_counter()
                status = await connection.exchange(request)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i, started + seconds) for i in range(connections)))
    elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "latencies": latencies, "statuses": statuses}


async def _open_loop(
    ports: list[int], bodies: list[bytes], rate: float, seconds: float, max_connections: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    idle: dict[int, list[_Connection]] = {port: [] for port in ports}
    opened = 0
    refused = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(connection: _Connection, request: bytes, due: float) -> None:
        try:
            status = await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError):
            status = 0
            await connection.close()
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        idle[connection.port].append(connection)

    total = int(rate * seconds)
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        port = ports[i % len(ports)]
        if idle[port]:
            connection = idle[port].pop()
        elif opened < max_connections:
            connection = _Connection(port)
            opened += 1
        else:
            refused += 1  # counted as a failure: the server held every connection
            continue
        task = asyncio.create_task(one(connection, _request(port, bodies[i % len(bodies)]), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for connections in idle.values():
        for connection in connections:
            await connection.close()
    return {
        "elapsed_s": elapsed,
        "latencies": latencies,
        "statuses": statuses,
        "not_sent": refused,
        "connections": opened,
    }


def _client(kind: str, kwargs: dict[str, Any], out: Any) -> None:
    load = _closed_loop if kind == "closed" else _open_loop
    out.put(asyncio.run(load(**kwargs)))


def run_load(kind: str, **kwargs: Any) -> dict[str, Any]:
    """Run the client in a process of its own (spawned: nothing of this one is copied)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_client, args=(kind, kwargs, out))
    process.start()
    try:
        result: dict[str, Any] = out.get(timeout=kwargs["seconds"] + 120)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    return result


def summarise(result: dict[str, Any]) -> dict[str, float]:
    """Accepted reports/s and latency percentiles (ms) of a load's answers."""
    latencies = [1000 * x for x in result["latencies"]]
    accepted = result["statuses"].get(202, 0)
    return {
        "accepted_per_s": accepted / result["elapsed_s"],
        "errors": sum(n for status, n in result["statuses"].items() if status != 202)
        + result.get("not_sent", 0),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


# --- servers ----------------------------------------------------------------------------------


def _wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready in {timeout_s:.0f} s")


def start_servers(
    kind: str, instances: int, env: dict[str, str], logs: Path
) -> list[subprocess.Popen[bytes]]:
    """``instances`` reference or ingest processes, on ports one apart; ready when returned."""
    procs: list[subprocess.Popen[bytes]] = []
    for i in range(instances):
        log = (logs / f"{kind}-{i}.log").open("ab")
        if kind == "reference":
            port = REFERENCE_PORT + i
            command = [sys.executable, "-m", "uvicorn", "bench.intake:reference_app"]
            command += ["--factory", "--port", str(port), "--log-level", "warning"]
            proc_env = env
        else:
            port = INGEST_PORT + i
            command = [sys.executable, "-m", "vigie_tools", "serve", "ingest"]
            proc_env = {
                **env,
                "VIGIE_INGEST_PORT": str(port),
                "VIGIE_INGEST_METRICS_PORT": str(METRICS_PORT + i),
            }
        # A session of its own: stopping it stops its scrubbing processes too.
        procs.append(
            subprocess.Popen(
                command,
                env=proc_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    try:
        for i in range(instances):
            port = (REFERENCE_PORT if kind == "reference" else INGEST_PORT) + i
            _wait_ready(f"http://127.0.0.1:{port}/readyz", procs)
    except BaseException:
        stop_servers(procs)
        raise
    return procs


def stop_servers(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop what :func:`start_servers` started, each server's children with it: SIGTERM, then
    SIGKILL after 15 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


_HISTOGRAMS = ("vigie_ingest_scrub_seconds_", "vigie_ingest_publish_seconds_")


def ingest_histograms(instances: int) -> dict[str, float]:
    """Sums and counts of ingest's scrubbing and Kafka-acknowledgement histograms."""
    totals: dict[str, float] = {}
    for i in range(instances):
        url = f"http://127.0.0.1:{METRICS_PORT + i}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name.startswith(_HISTOGRAMS) and name.endswith(("_sum", "_count")):
                totals[name] = totals.get(name, 0.0) + float(value)
    return totals


def _mean_ms(before: dict[str, float], after: dict[str, float], histogram: str) -> float:
    count = after.get(f"{histogram}_count", 0) - before.get(f"{histogram}_count", 0)
    total = after.get(f"{histogram}_sum", 0) - before.get(f"{histogram}_sum", 0)
    return 1000 * total / count if count else float("nan")


# --- what ingest does for one report, step by step -------------------------------------------


def step_split(bodies: list[bytes], repeats: int = 50) -> dict[str, float]:
    """Median microseconds of each step ingest takes for a report, in this process (no HTTP,
    no Kafka): validation, device catalogue, idempotency fingerprint and nonce, scrubbing of each
    free text, the event (pseudonyms, rule scrub), its JSON, the receipt, the metrics."""
    from services.common.deid import load_scrubber
    from services.ingest.devices.views import catalogue
    from services.ingest.reports.nonces import SubmissionNonces
    from services.ingest.reports.service import (
        body_fingerprint,
        build_event,
        make_receipt,
        new_status_token,
    )
    from vigie import metrics

    scrubber = load_scrubber()
    key = b"bench pseudonym key of 32 bytes!"
    nonces = SubmissionNonces(key=key, ttl_s=3600)
    nonce, _ = nonces.issue()
    reports = [ReportCreate.model_validate_json(body) for body in bodies[:repeats]]
    event = build_event(reports[0], report_id=uuid.uuid4(), key=key)

    def scrub_field(get: Callable[[ReportCreate], str | None]) -> Callable[[int], object]:
        def run(i: int) -> object:
            text = get(reports[i])
            return scrubber.scrub(text, key=key, language="fr") if text else None

        return run

    def idempotency(i: int) -> object:
        nonces.check(nonce)
        return body_fingerprint(reports[i])

    def observe(i: int) -> object:
        metrics.INGEST_SCRUB_SECONDS.observe(0.01)
        metrics.INGEST_PUBLISH_SECONDS.observe(0.01)
        metrics.REPORTS_ACCEPTED.labels(kind="near_miss").inc()
        return None

    steps: dict[str, Callable[[int], object]] = {
        "validation": lambda i: ReportCreate.model_validate_json(bodies[i]),
        "device catalogue": lambda i: catalogue().resolve(
            catalogue_id=None,
            name=reports[i].device.name,
            manufacturer=reports[i].device.manufacturer,
        ),
        "idempotency fingerprint + nonce": idempotency,
        "scrub narrative": scrub_field(lambda r: r.narrative),
        "scrub establishment": scrub_field(lambda r: r.establishment),
        "scrub ai output": scrub_field(lambda r: r.ai.output if r.ai else None),
        "event (pseudonyms, rule scrub)": lambda i: build_event(
            reports[i], report_id=uuid.uuid4(), key=key, status_token=new_status_token()
        ),
        "event JSON": lambda i: event.model_dump_json().encode(),
        "receipt": lambda i: make_receipt(
            event, registry_url="http://127.0.0.1:8001", status_token="t"
        ),
        "metrics": observe,
    }
    split: dict[str, float] = {}
    for name, step in steps.items():
        step(0)
        times = []
        for i in range(len(reports)):
            started = time.perf_counter()
            step(i)
            times.append(1e6 * (time.perf_counter() - started))
        split[name] = statistics.median(times)
    return split


# --- the run ----------------------------------------------------------------------------------


def measure(
    kind: str,
    instances: int,
    bodies: list[bytes],
    env: dict[str, str],
    logs: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Throughput (closed loop, median of the repeats) and the open-loop p99 of one setup."""
    base = REFERENCE_PORT if kind == "reference" else INGEST_PORT
    ports = [base + i for i in range(instances)]
    procs = start_servers(kind, instances, env, logs)
    try:
        closed = {"connections": args.connections, "ports": ports, "bodies": bodies}
        run_load("closed", **closed, seconds=args.warmup)
        before = ingest_histograms(instances) if kind == "ingest" else {}
        runs = [
            summarise(run_load("closed", **closed, seconds=args.seconds))
            for _ in range(args.repeats)
        ]
        after = ingest_histograms(instances) if kind == "ingest" else {}
        throughput = median([r["accepted_per_s"] for r in runs])
        paced = {
            rate: summarise(
                run_load(
                    "open",
                    ports=ports,
                    bodies=bodies,
                    rate=rate,
                    seconds=args.seconds,
                    max_connections=args.max_connections,
                )
            )
            # The asked rate, and half of what this setup sustains (its latency when not
            # saturated).
            for rate in (args.rate, round(throughput / 2, 1))
        }
    finally:
        stop_servers(procs)
    asked, half = paced.values()
    result: dict[str, Any] = {
        "accepted_per_s": throughput,
        "accepted_per_s_runs": [round(r["accepted_per_s"], 1) for r in runs],
        "closed_p99_ms": median([r["p99_ms"] for r in runs]),
        "closed_errors": sum(int(r["errors"]) for r in runs),
        "paced_rate": args.rate,
        "paced_p50_ms": asked["p50_ms"],
        "paced_p99_ms": asked["p99_ms"],
        "paced_accepted_per_s": asked["accepted_per_s"],
        "paced_errors": int(asked["errors"]),
        "half_rate": round(throughput / 2, 1),
        "half_p50_ms": half["p50_ms"],
        "half_p99_ms": half["p99_ms"],
        "half_errors": int(half["errors"]),
    }
    if kind == "ingest":
        result["scrub_ms_mean"] = _mean_ms(before, after, "vigie_ingest_scrub_seconds")
        result["publish_ms_mean"] = _mean_ms(before, after, "vigie_ingest_publish_seconds")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load")
    parser.add_argument("--warmup", type=float, default=3.0, help="load before measuring")
    parser.add_argument("--repeats", type=int, default=3, help="closed-loop runs per setup")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop reports/s")
    parser.add_argument("--max-connections", type=int, default=256, help="open loop")
    parser.add_argument("--instances", default="1,2", help="instances of each server to run")
    parser.add_argument(
        "--scrub-processes",
        default="0",
        help="VIGIE_INGEST_SCRUB_PROCESSES of the ingest runs (comma-separated values)",
    )
    parser.add_argument(
        "--identifiers", action="store_true", help="also run narratives carrying identifiers"
    )
    parser.add_argument("--base-port", type=int, default=9092, help="the broker's first port")
    args = parser.parse_args()

    from vigie.kafka import ensure_topics
    from vigie.settings import CommonSettings
    from vigie_tools import localkafka

    say(f"machine: {machine()}")
    plain = report_bodies(4000, identifiers=False)
    named = report_bodies(4000, identifiers=True)
    say("one report, step by step (median us, this process, no HTTP, no Kafka):")
    splits = {"plain": step_split(plain), "identifiers": step_split(named)}
    for step in splits["plain"]:
        say(
            f"  {step:34s} {splits['plain'][step]:9.1f}   with identifiers "
            f"{splits['identifiers'][step]:9.1f}"
        )

    spec = localkafka.ClusterSpec(base_port=args.base_port)
    was_running = all(node.running for node in localkafka.status(spec))
    bootstrap = localkafka.start(spec)
    results: dict[str, Any] = {}
    try:
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(localkafka.admin_properties(spec))
        ensure_topics(CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace))
        logs = Path(tempfile.mkdtemp(prefix="vigie-bench-intake-"))
        credentials = localkafka.client_properties(spec, "vigie-ingest")
        env = {
            **os.environ,
            "VIGIE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "VIGIE_TOPIC_NAMESPACE": namespace,
            # Both write as ingest's principal, with its ACLs.
            "VIGIE_KAFKA_CLIENT_PROPERTIES": str(credentials),
            "VIGIE_LOG_LEVEL": "WARNING",
            # One client address sends every report.
            "VIGIE_INGEST_RATE_LIMIT": "",
        }
        say(f"broker: {bootstrap} (secured), namespace {namespace}, logs {logs}")
        say(
            f"client: one separate process, raw HTTP/1.1 keep-alive; closed loop "
            f"{args.connections} connections x {args.seconds:.0f} s x {args.repeats} (after "
            f"{args.warmup:.0f} s of warm-up); open loop {args.rate:.0f} reports/s x "
            f"{args.seconds:.0f} s"
        )
        loads = {"plain": plain, **({"identifiers": named} if args.identifiers else {})}
        for instances in [int(n) for n in args.instances.split(",")]:
            reference = measure("reference", instances, plain, env, logs, args)
            results[f"reference_x{instances}"] = reference
            say(_line(f"reference x{instances}", reference))
            for processes in args.scrub_processes.split(","):
                for load, bodies in loads.items():
                    ingest_env = {**env, "VIGIE_INGEST_SCRUB_PROCESSES": processes}
                    found = measure("ingest", instances, bodies, ingest_env, logs, args)
                    found["ratio"] = found["accepted_per_s"] / reference["accepted_per_s"]
                    name = f"ingest_x{instances}_scrub{processes}_{load}"
                    results[name] = found
                    say(
                        _line(name, found)
                        + f"; ratio {found['ratio']:.2f}; scrub {found['scrub_ms_mean']:.1f} ms"
                        f", Kafka ack {found['publish_ms_mean']:.1f} ms (means)"
                    )
    finally:
        if not was_running:
            localkafka.stop(spec)
    finish(
        {
            "benchmark": "intake",
            "machine": machine(),
            "step_us_median": splits,
            "connections": args.connections,
            "open_loop_rate": args.rate,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "results": _rounded(results),
        }
    )


def _line(name: str, found: dict[str, Any]) -> str:
    return (
        f"{name}: {found['accepted_per_s']:,.0f} reports/s {found['accepted_per_s_runs']} "
        f"(p99 {found['closed_p99_ms']:.0f} ms, {found['closed_errors']} errors); sent at "
        f"{found['paced_rate']:,.0f}/s: {found['paced_accepted_per_s']:,.0f}/s accepted, p50 "
        f"{found['paced_p50_ms']:.0f} ms, p99 {found['paced_p99_ms']:.0f} ms, "
        f"{found['paced_errors']} errors; at {found['half_rate']:,.0f}/s (half): p50 "
        f"{found['half_p50_ms']:.0f} ms, p99 {found['half_p99_ms']:.0f} ms, "
        f"{found['half_errors']} errors"
    )


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


if __name__ == "__main__":
    main()
