"""Device telemetry through the drift monitor: windows/s and state written per window.

Starts its own secured broker (the project's, in a temporary home, stopped at the end), makes
windows with the device SDK's ``summarise_window`` (each device's reference windows first, then
ordinary windows, a fifth of the devices shifted half-way so that signals are raised), and runs
the triage service as real processes, 1 then 2 instances in one consumer group, with the drift
state on Kafka and in files. Beside each figure, measured in the same run on the same broker: a
bare aiokafka loop consuming the same windows (JSON decoding only), and Kafka's own
ProducerPerformance and ConsumerPerformance with records of the same size.

    python -m bench.telemetry --windows 10000 --devices 100 --instances 1,2 --store kafka,file
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from aiokafka import AIOKafkaConsumer
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from bench.common import aiokafka_connection, finish, machine, median, restore_environment, say
from vigie.contracts import DeviceRef
from vigie.credentials import KafkaClientConfig
from vigie.kafka import ensure_topics
from vigie.settings import CommonSettings
from vigie.topics import DRIFT_STATE, TELEMETRY, TRIAGE
from vigie_sdk import summarise_window
from vigie_sdk.reporter import window_key
from vigie_tools import localkafka
from vigie_tools.commands import stop_services, wait_http

# 500 predictions with two inputs make a window of 29 KB, as device software sends them.
PREDICTIONS = 500
# A device's first windows are its reference (the triage service's default is 3).
REFERENCE_WINDOWS = 3
SHIFTED_EVERY = 5  # every fifth device drifts half-way through its windows
START = datetime(2026, 11, 2, tzinfo=UTC)
# Triage instance i listens on these plus i (health, metrics): never the platform's own ports.
HEALTH_PORT = 18005
METRICS_PORT = 18102
# On Kafka, every state record written during the run is counted; in files, only what is left.
STATE_WORDS = {"kafka": "state written", "file": "state files left"}
# What the drift monitor should reach with its state on Kafka.
TARGET_PER_INSTANCE = 2000  # windows/s
TARGET_STATE_BYTES = 2048  # per window
# Keys of the records of a reference's windows on the state topic, written once per device
# (services.triage.drift.store): the target is on what a window writes besides.
REFERENCE_KEY = b"\x1fref\x1f"


@dataclass(frozen=True)
class Window:
    """One telemetry window as it travels on Kafka."""

    key: bytes
    value: bytes


def device_window(device: DeviceRef, index: int, *, shifted: bool, seed: int) -> Window:
    """Window ``index`` of ``device``: older and sicker patients once ``shifted``."""
    rng = np.random.default_rng(seed)
    age = rng.normal(72 if shifted else 61, 12, PREDICTIONS)
    lactate = rng.lognormal(np.log(3.0 if shifted else 1.6), 0.4, PREDICTIONS)
    score = 1 / (1 + np.exp(-(0.04 * (age - 65) + 0.9 * (lactate - 2.2))))
    window = summarise_window(
        device,
        START + timedelta(hours=index),
        START + timedelta(hours=index + 1),
        scores=score.tolist(),
        features={"age": age.tolist(), "lactate": lactate.tolist()},
        seed=seed,
    )
    return Window(window_key(window), window.model_dump_json().encode())


def median_size(windows: list[Window]) -> int:
    """Median bytes of a window's value."""
    return int(median([len(w.value) for w in windows]))


def make_windows(windows: int, devices: int) -> list[Window]:
    """``windows`` windows of ``devices`` devices in time order: every device's reference
    windows come before its ordinary ones, and every fifth device shifts half-way."""
    per_device = math.ceil(windows / devices)
    shift_at = max(REFERENCE_WINDOWS + 1, per_device // 2)
    fleet = [
        DeviceRef(name=f"Sepsis Watch {d}", manufacturer="Acme Health", model_version="2.4.0")
        for d in range(devices)
    ]
    out: list[Window] = []
    for index in range(per_device):
        for d, device in enumerate(fleet):
            if len(out) == windows:
                return out
            shifted = d % SHIFTED_EVERY == 0 and index >= shift_at
            out.append(device_window(device, index, shifted=shifted, seed=index * devices + d))
    return out


def produce(
    client: KafkaClientConfig, topic: str, windows: list[Window]
) -> tuple[float, dict[int, int]]:
    """Write ``windows`` keyed by device as the SDK does (acks=all, idempotent); windows/s
    and how many went to each partition."""
    producer = KafkaProducer(
        **client.kafka_python(),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    started = time.perf_counter()
    sent = [producer.send(topic, key=window.key, value=window.value) for window in windows]
    producer.flush()
    rate = len(windows) / (time.perf_counter() - started)
    partitions = Counter(future.get().partition for future in sent)
    producer.close()
    return rate, dict(partitions)


def create_topic(client: KafkaClientConfig, topic: str, partitions: int) -> None:
    admin = KafkaAdminClient(**client.kafka_python())
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


# When a consumer had read or committed this many records, and whether it was in its steady
# state by then (every consumer of its group running, every partition past its first batch).
Sample = tuple[float, int, bool]


def rate_between(samples: list[Sample], total: int) -> tuple[float, bool]:
    """Records/s from the first steady sample to the first that saw ``total``, and whether it
    was measured so.

    What came before is left out: the consumers' start, a rebalance, and the first batch of
    each partition, whose start is not seen. When that holds half of the records or more
    (tiny runs, a monitor much faster than its start), the rate is counted from
    ``samples[0]``, taken before anything could be read (for the monitor: before its
    instances were launched), start included, and said so: a bound from below, where a
    count between two steps of a few batches each would say anything.
    """
    last = next((s for s in samples if s[1] >= total), None)
    if last is None:
        raise ValueError(f"the end was not reached: {samples[-3:]} of {total}")
    first = next((s for s in samples if s[2]), None)
    if first is None or 2 * first[1] >= total:
        return (total - samples[0][1]) / (last[0] - samples[0][0]), False
    return (total - first[1]) / (last[0] - first[0]), True


async def bare_consume(
    client: KafkaClientConfig, topic: str, total: int, partitions: int
) -> tuple[float, bool]:
    """Windows/s of a bare aiokafka loop (the services' client) reading and decoding ``total``
    windows, over the same SASL/SCRAM and TLS as the services."""
    consumer = AIOKafkaConsumer(
        topic,
        **aiokafka_connection(client),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=200,
    )
    await consumer.start()
    try:
        seen = 0
        read_from: set[int] = set()
        samples: list[Sample] = [(time.perf_counter(), 0, False)]
        while seen < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    assert record.value is not None
                    json.loads(record.value)
                seen += len(records)
                read_from.add(tp.partition)
            samples.append((time.perf_counter(), seen, len(read_from) >= partitions))
        return rate_between(samples, total)
    finally:
        await consumer.stop()


def java_tool(lib: Path, tool: str, *args: str) -> str:
    """Run one of Kafka's tools (``org.apache.kafka.tools.<tool>``); its standard output."""
    result = subprocess.run(
        ["java", "-Xmx256m", "-cp", f"{lib}/*", f"org.apache.kafka.tools.{tool}", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{tool} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def producer_performance(lib: Path, properties: Path, topic: str, records: int, size: int) -> float:
    """Records/s of Kafka's ProducerPerformance, configured as :func:`produce` (acks=all,
    1 MB batches after 20 ms): with its default 16 KB batches, a window is sent alone."""
    out = java_tool(
        lib,
        "ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(size),
        "--throughput",
        "-1",
        "--producer.config",
        str(properties),
        "--producer-props",
        "acks=all",
        "linger.ms=20",
        "batch.size=1048576",
        "max.request.size=8388608",
    )
    found = re.findall(r"(\d+) records sent, ([\d.]+) records/sec", out)
    if not found:
        raise RuntimeError(f"ProducerPerformance printed no summary: {out[-2000:]}")
    return float(found[-1][1])


def consumer_performance(lib: Path, properties: Path, bootstrap: str, topic: str, n: int) -> float:
    """Records/s of Kafka's ConsumerPerformance while it fetches (its rebalance left out)."""
    out = java_tool(
        lib,
        "ConsumerPerformance",
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--messages",
        str(n),
        "--timeout",
        "60000",
        "--consumer.config",
        str(properties),
    )
    lines = [line for line in out.splitlines() if line.strip()]
    header = next((i for i, line in enumerate(lines) if "fetch.nMsg.sec" in line), None)
    if header is None or header + 1 >= len(lines):
        raise RuntimeError(f"ConsumerPerformance printed no figures: {out[-2000:]}")
    columns = [c.strip() for c in lines[header].split(",")]
    values = [v.strip() for v in lines[header + 1].split(",")]
    figures = dict(zip(columns, values, strict=False))
    if int(float(figures["data.consumed.in.nMsg"])) < n:
        raise RuntimeError(f"ConsumerPerformance read {figures['data.consumed.in.nMsg']} of {n}")
    return float(figures["fetch.nMsg.sec"])


@contextmanager
def triage_instances(
    env: dict[str, str], count: int, workdir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` triage services as ``vigie run`` starts them; stopped on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i in range(count):
            log = (workdir / f"triage-{i}.log").open("ab")
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "vigie_tools", "serve", "triage"],
                    env={
                        **env,
                        "VIGIE_TRIAGE_HEALTH_PORT": str(HEALTH_PORT + i),
                        "VIGIE_TRIAGE_METRICS_PORT": str(METRICS_PORT + i),
                        "VIGIE_DRIFT_STATE_DIR": str(workdir / f"state-{i}"),
                    },
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for i in range(count):
            wait_http(f"http://127.0.0.1:{HEALTH_PORT + i}/readyz", timeout_s=180, procs=procs)
        yield procs
    finally:
        stop_services(procs)


def assigned(assignment: Any) -> int:
    """Partitions in a member's decoded assignment (an object, or its dict form)."""
    if hasattr(assignment, "partitions"):
        return len(assignment.partitions())
    if isinstance(assignment, dict):
        topics = assignment.get("assigned_partitions") or []
        return sum(len(t["partitions"] if isinstance(t, dict) else t[1]) for t in topics)
    return 0


def group_ready(admin: KafkaAdminClient, group: str, members: int) -> bool:
    """Whether ``group`` is stable with ``members`` members, each with partitions assigned."""
    found = admin.describe_groups([group]).get(group) or {}
    return (
        found.get("group_state") == "Stable"
        and len(found.get("members") or []) == members
        and all(assigned(m["member_assignment"]) for m in found["members"])
    )


def committed(admin: KafkaAdminClient, group: str) -> dict[int, int]:
    """The group's committed offset of each partition it committed."""
    offsets = admin.list_group_offsets({group: None}).get(group, {})
    return {tp.partition: o.offset for tp, o in offsets.items() if o.offset >= 0}


def topic_bytes(client: KafkaClientConfig, topic: str) -> tuple[int, int, int]:
    """Records on ``topic`` up to its end now, the sum of their keys' and values' sizes, and
    that sum for the reference windows' records alone (written once per device)."""
    consumer = KafkaConsumer(
        **client.kafka_python(),
        group_id=None,
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records = size = references = 0
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                for record in batch:
                    records += 1
                    written = max(record.serialized_key_size, 0)
                    written += max(record.serialized_value_size, 0)
                    size += written
                    if record.key and REFERENCE_KEY in record.key:
                        references += written
        return records, size, references
    finally:
        consumer.close()


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@dataclass(frozen=True)
class MonitorRun:
    windows_per_s: float
    steady: bool  # measured past the group's start (see rate_between)
    produce_per_s: float
    state_records: int
    state_bytes: int
    reference_bytes: int  # of state_bytes, the reference windows' records (Kafka only)


def monitor_run(
    spec: localkafka.ClusterSpec,
    bootstrap: str,
    windows: list[Window],
    *,
    store: str,
    instances: int,
    workdir: Path,
) -> MonitorRun:
    """One run on a fresh topic namespace: the windows produced first, then ``instances``
    triage services started in one group, timed from their steady state (every instance
    running, every partition past its first batch since) until their offsets reach the end."""
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    settings = CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace)
    client = settings.kafka_client
    ensure_topics(settings)
    group = f"vigie-drift-{namespace}"
    rundir = workdir / namespace
    rundir.mkdir()
    env = {
        **os.environ,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "VIGIE_KAFKA_CLIENT_PROPERTIES": str(localkafka.client_properties(spec, TRIAGE)),
        "VIGIE_TOPIC_NAMESPACE": namespace,
        "VIGIE_LOG_LEVEL": "WARNING",
        "VIGIE_DRIFT_GROUP_ID": group,
        "VIGIE_TRIAGE_GROUP_ID": f"vigie-triage-{namespace}",
        "VIGIE_DRIFT_STATE_STORE": store,
        # Only device telemetry goes through: the classifier's own would add windows.
        "VIGIE_TRIAGE_SELF_TELEMETRY": "false",
        "VIGIE_TRIAGE_SELF_SPOOL": str(rundir / "self.spool"),
    }
    admin = KafkaAdminClient(**client.kafka_python())
    try:
        # Produced while nothing consumes: on 2 cores a producer beside the services would
        # set the pace, not the monitor.
        produce_rate, ends = produce(client, settings.topics.telemetry, windows)
        samples: list[Sample] = [(time.perf_counter(), 0, False)]
        with triage_instances(env, instances, rundir):
            stable: dict[int, int] | None = None
            deadline = time.monotonic() + 3600
            while samples[-1][1] < len(windows):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{group} committed {samples[-1][1]} of {len(windows)}")
                now, offsets = time.perf_counter(), committed(admin, group)
                if stable is None and group_ready(admin, group, instances):
                    stable = offsets
                steady = stable is not None and all(
                    offsets.get(p, 0) > stable.get(p, 0) or offsets.get(p, 0) >= end
                    for p, end in ends.items()
                )
                samples.append((now, sum(offsets.values()), steady))
                time.sleep(0.02)
    finally:
        admin.close()
    if store == "kafka":
        records, size, references = topic_bytes(client, settings.topics.name(DRIFT_STATE))
    else:
        records = sum(1 for _ in rundir.glob("state-*/**/*.json"))
        size, references = folder_bytes(rundir), 0
    rate, steady = rate_between(samples, len(windows))
    return MonitorRun(rate, steady, produce_rate, records, size, references)


def reference_runs(
    spec: localkafka.ClusterSpec, bootstrap: str, windows: list[Window], repeats: int
) -> dict[str, list[float]]:
    """The ceilings on this broker: the bare aiokafka loop over the same windows, Kafka's
    ProducerPerformance and ConsumerPerformance with records of their median size."""
    client = localkafka.admin_config(spec)
    java_properties = spec.home.resolve() / "admin-java.properties"
    lib = localkafka.ensure_jars(spec.home)
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    windows_topic = f"{namespace}.bench.windows"
    create_topic(client, windows_topic, TELEMETRY.partitions)
    _, ends = produce(client, windows_topic, windows)
    size = median_size(windows)
    out: dict[str, list[float]] = {"bare": [], "producer_perf": [], "consumer_perf": []}
    for repeat in range(repeats):
        bare, _ = asyncio.run(bare_consume(client, windows_topic, len(windows), len(ends)))
        out["bare"].append(bare)
        perf_topic = f"{namespace}.bench.perf{repeat}"
        create_topic(client, perf_topic, TELEMETRY.partitions)
        out["producer_perf"].append(
            producer_performance(lib, java_properties, perf_topic, len(windows), size)
        )
        out["consumer_perf"].append(
            consumer_performance(lib, java_properties, bootstrap, perf_topic, len(windows))
        )
        say(
            f"reference {repeat + 1}: bare aiokafka consume {out['bare'][-1]:,.0f} windows/s, "
            f"ProducerPerformance {out['producer_perf'][-1]:,.0f} records/s, "
            f"ConsumerPerformance {out['consumer_perf'][-1]:,.0f} records/s ({size:,} B)"
        )
    return out


def project_jars() -> Path:
    """The Kafka jars the project caches (fetched with Maven the first time)."""
    return localkafka.ensure_jars(localkafka.ClusterSpec().home)


def private_cluster(workdir: Path, base_port: int) -> localkafka.ClusterSpec:
    """A one-node cluster whose data, credentials and TLS files live in ``workdir/kafka``, on
    the project's cached jars: never the data or the ports of ``vigie kafka start``."""
    spec = localkafka.ClusterSpec(home=workdir / "kafka", base_port=base_port)
    spec.home.mkdir(mode=0o700)
    (spec.home / f"lib-{localkafka.KAFKA_VERSION}").symlink_to(project_jars())
    return spec


def options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--windows", type=int, default=10_000, help="windows per run (100 per device by default)"
    )
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--instances", default="1,2", help="triage instances, comma-separated")
    parser.add_argument("--store", default="kafka,file", help="VIGIE_DRIFT_STATE_STORE values")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--base-port", type=int, default=19092, help="the broker's first port (not 9092's)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat (smoke)")
    args = parser.parse_args(argv)
    if args.quick:
        args.windows, args.devices, args.repeats = 60, 6, 1
    args.instances = [int(n) for n in args.instances.split(",")]
    args.store = args.store.split(",")
    return args


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    workdir = Path(tempfile.mkdtemp(prefix="vigie-bench-telemetry-"))
    spec = private_cluster(workdir, args.base_port)
    previous = os.environ.get("VIGIE_KAFKA_CLIENT_PROPERTIES")
    finished = False
    try:
        bootstrap = localkafka.start(spec)
        # The benchmark's own clients are the operator's; triage runs as its principal.
        os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(localkafka.admin_properties(spec))
        say(f"machine: {machine()}")
        say(f"broker: {bootstrap} in {workdir}")
        windows = make_windows(args.windows, args.devices)
        say(
            f"{len(windows):,} windows of {args.devices} devices, median "
            f"{median_size(windows):,} B ({sum(len(w.value) for w in windows) / 1e6:,.1f} MB)"
        )
        references = reference_runs(spec, bootstrap, windows, args.repeats)
        runs: dict[str, list[MonitorRun]] = {}
        for store in args.store:
            for instances in args.instances:
                name = f"{store}_x{instances}"
                runs[name] = []
                for repeat in range(args.repeats):
                    run = monitor_run(
                        spec, bootstrap, windows, store=store, instances=instances, workdir=workdir
                    )
                    runs[name].append(run)
                    say(
                        f"{store} state, {instances} instance(s), repeat {repeat + 1}: "
                        f"{run.windows_per_s:,.1f} windows/s"
                        f"{'' if run.steady else ' (start included)'}, {STATE_WORDS[store]} "
                        f"{run.state_bytes / len(windows):,.0f} B/window "
                        f"({run.state_records:,} records or files)"
                    )
        finished = True
    finally:
        localkafka.stop(spec)
        restore_environment("VIGIE_KAFKA_CLIENT_PROPERTIES", previous)
        if finished:
            shutil.rmtree(workdir)
        else:
            # The services' and the broker's logs tell why; the topics' data is of no use.
            shutil.rmtree(spec.root / "node-0" / "data", ignore_errors=True)
            sys.stderr.write(f"logs kept in {workdir}\n")
    report(args, windows, references, runs)


def report(
    args: argparse.Namespace,
    windows: list[Window],
    references: dict[str, list[float]],
    runs: dict[str, list[MonitorRun]],
) -> None:
    """Each figure beside its same-run references, then the JSON line."""
    bare = median(references["bare"])
    consumer_perf = median(references["consumer_perf"])
    figures: dict[str, Any] = {
        "benchmark": "telemetry",
        "machine": machine(),
        "windows": len(windows),
        "devices": args.devices,
        "repeats": args.repeats,
        "window_bytes_median": median_size(windows),
        "bare_consume_windows_per_s_median": round(bare, 1),
        "bare_consume_windows_per_s": [round(r, 1) for r in references["bare"]],
        "producer_perf_records_per_s_median": round(median(references["producer_perf"]), 1),
        "consumer_perf_records_per_s_median": round(consumer_perf, 1),
        "consumer_perf_records_per_s": [round(r, 1) for r in references["consumer_perf"]],
    }
    say(
        f"references: bare aiokafka consume {bare:,.0f} windows/s, Kafka ConsumerPerformance "
        f"{consumer_perf:,.0f} records/s, ProducerPerformance "
        f"{figures['producer_perf_records_per_s_median']:,.0f} records/s"
    )
    for name, results in runs.items():
        store, instances = name.rsplit("_x", 1)
        rate = median([r.windows_per_s for r in results])
        state = median([r.state_bytes / len(windows) for r in results])
        per_window = median([(r.state_bytes - r.reference_bytes) / len(windows) for r in results])
        records = median([r.state_records / len(windows) for r in results])
        single = runs.get(f"{store}_x1")
        scaling = rate / median([r.windows_per_s for r in single]) if single else None
        say(
            f"drift monitor, {store} state, {instances} instance(s): median {rate:,.1f} windows/s"
            f" ({rate / int(instances):,.1f} per instance) = {rate / bare:.1%} of the bare "
            f"consume loop, {rate / consumer_perf:.1%} of ConsumerPerformance; "
            f"{STATE_WORDS[store]} {state / 1024:,.1f} KB/window ({records:.2f} records or "
            f"files/window)"
            + (f"; x{scaling:.2f} the single instance" if scaling and instances != "1" else "")
        )
        if not all(r.steady for r in results):
            say("  (a repeat too short to time past the start: start included; raise --windows)")
        figures[f"monitor_{name}_windows_per_s_median"] = round(rate, 1)
        figures[f"monitor_{name}_windows_per_s"] = [round(r.windows_per_s, 1) for r in results]
        figures[f"monitor_{name}_steady"] = [r.steady for r in results]
        figures[f"monitor_{name}_vs_bare_ratio"] = round(rate / bare, 4)
        figures[f"monitor_{name}_vs_consumer_perf_ratio"] = round(rate / consumer_perf, 4)
        figures[f"monitor_{name}_state_bytes_per_window_median"] = round(state, 1)
        figures[f"monitor_{name}_state_records_per_window_median"] = round(records, 3)
        figures[f"monitor_{name}_produce_windows_per_s_median"] = round(
            median([r.produce_per_s for r in results]), 1
        )
        if scaling and instances != "1":
            figures[f"monitor_{name}_vs_one_instance_ratio"] = round(scaling, 3)
        if store == "kafka":
            figures[f"monitor_{name}_state_bytes_per_window_besides_references_median"] = round(
                per_window, 1
            )
            say(
                f"  of which the references' windows (written once per device) "
                f"{(state - per_window) / 1024:,.1f} KB/window; besides them {per_window:,.0f} "
                f"B/window"
            )
            say(
                f"  target: >= {TARGET_PER_INSTANCE:,} windows/s per instance "
                f"({'met' if rate / int(instances) >= TARGET_PER_INSTANCE else 'not met'}), "
                f"<= {TARGET_STATE_BYTES:,} B of state per window besides the references "
                f"({'met' if per_window <= TARGET_STATE_BYTES else 'not met'}; all included: "
                f"{'met' if state <= TARGET_STATE_BYTES else 'not met'})"
            )
    finish(figures)


if __name__ == "__main__":
    main()
