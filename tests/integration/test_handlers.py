"""The services' Kafka handlers, each test body run twice: in memory and on the real broker.

In memory (FastStream's ``TestKafkaBroker``) the handler logic runs without Kafka: decoding,
the domain function, what is published where, dead letters and their headers. With
``with_real=True`` the same body runs against the project's broker, consumer groups and all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from services.registry.db import make_engine
from services.registry.outbox import OutboxEvent
from services.registry.reports import handlers as registry_reports
from services.registry.reports.models import Report, ReportStatusToken
from services.registry.reports.service import status_for_token
from services.registry.settings import RegistrySettings
from services.registry.signals import handlers as registry_devices
from services.registry.signals.models import DriftSignal, TelemetryUsage
from services.triage.drift import handlers as drift_handlers
from services.triage.drift.monitor import DriftMonitor, MonitorPolicy
from services.triage.drift.store import FileStore
from services.triage.reports import handlers as triage_reports
from services.triage.settings import TriageSettings
from tests.support.factories import report, triaged
from tests.support.handlers import Received, Sink, broker_for, running, wait_until
from tests.support.kafka import fresh_namespace, provision
from vigie.contracts import (
    DeviceRef,
    DriftDetected,
    ReportedOutcome,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
    Severity,
    TelemetryWindow,
)
from vigie.kafka import create_topics
from vigie.processing import (
    BatchStep,
    DeadLetterPolicy,
    DlqLimit,
    DlqLimitExceeded,
    RetryPolicy,
)
from vigie.settings import CommonSettings
from vigie.topics import device_telemetry_topic
from vigie_sdk import summarise_window

MODES = [
    pytest.param("memory", id="memory"),
    pytest.param("real", id="real", marks=pytest.mark.kafka),
]
NOT_JSON = b"\xff\xfe not even utf-8"


@dataclass(frozen=True)
class Where:
    """The broker and the topic namespace of one test."""

    bootstrap: str
    namespace: str


@pytest.fixture()
def where(request: pytest.FixtureRequest) -> Where:
    """Bootstrap and a fresh topic namespace; on the real broker, its topics created."""
    namespace = fresh_namespace()
    if request.node.callspec.params["mode"] == "real":
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        provision(CommonSettings(kafka_bootstrap_servers=bootstrap, topic_namespace=namespace))
    else:
        bootstrap = "127.0.0.1:9"  # never connected to in memory
    return Where(bootstrap, namespace)


def triage_with_sink(
    mode: str, where: Where, classifier: Any = None
) -> tuple[TriageSettings, KafkaBroker, Sink]:
    """Triage's report handler, and a sink on the triaged topic and the reports' dead letters."""
    settings = TriageSettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=where.namespace,
        triage_group_id=f"{where.namespace}-triage",
    )
    topics = settings.topics
    broker = broker_for(settings, mode)
    broker.include_router(triage_reports.router(settings, classifier=classifier))
    sink = Sink()
    for topic in (topics.reports_triaged, topics.reports + ".dlq"):
        sink.watch(broker, topic, group_id=f"{where.namespace}-sink")
    return settings, broker, sink


def registry_on(where: Where, database_url: str) -> tuple[RegistrySettings, Engine]:
    """Registry settings for this test's namespace and a fresh database with its tables."""
    settings = RegistrySettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=where.namespace,
        database_url=database_url,
        registry_group_id=f"{where.namespace}-registry",
    )
    engine = make_engine(database_url)
    return settings, engine


def dlq(sink: Sink, topic: str) -> list[Received]:
    return sink.received.get(topic + ".dlq", [])


@pytest.mark.parametrize("mode", MODES)
def test_triage_publishes_triaged_reports_and_dead_letters_the_rest(
    mode: str, where: Where
) -> None:
    settings, broker, sink = triage_with_sink(mode, where)
    topics = settings.topics
    death = report(
        outcome=ReportedOutcome.DEATH, narrative="Patient J. Doe died, NIR 1 84 12 75 115 003 42."
    )
    minor = report()

    async def scenario() -> None:
        async with running(broker, mode) as b:
            for event in (death, minor):
                await b.publish(
                    event.model_dump_json().encode(), topics.reports, key=event.report_id.bytes
                )
            await b.publish(NOT_JSON, topics.reports, key=b"bad")
            await sink.wait(
                lambda r: (
                    len(r[topics.reports_triaged]) >= 2 and len(dlq(sink, topics.reports)) >= 1
                )
            )

    asyncio.run(scenario())
    out = {
        e.report.report_id: e
        for e in (
            ReportTriaged.model_validate_json(r.body) for r in sink.received[topics.reports_triaged]
        )
    }
    assert set(out) == {death.report_id, minor.report_id}
    assert out[death.report_id].triage.severity is Severity.DEATH
    assert out[death.report_id].regulatory.serious_incident
    assert "115 003" not in out[death.report_id].report.narrative  # scrubbed before it travels
    keys = {r.key for r in sink.received[topics.reports_triaged]}
    assert keys == {death.report_id.bytes, minor.report_id.bytes}
    [dead] = dlq(sink, topics.reports)
    assert dead.body == NOT_JSON
    assert dead.headers["vigie-dlq-reason"] == "not_json"
    assert dead.headers["vigie-dlq-source-topic"] == topics.reports
    assert dead.headers["vigie-dlq-consumer-group"] == settings.triage_group_id


@pytest.mark.parametrize("mode", MODES)
def test_registry_records_each_report_once_and_queues_its_alert(
    mode: str, where: Where, database_url: str
) -> None:
    settings, engine = registry_on(where, database_url)
    topics = settings.topics
    woken: list[int] = []
    broker = broker_for(settings, mode)
    broker.include_router(
        registry_reports.router(settings, engine, on_commit=lambda: woken.append(1))
    )
    sink = Sink()
    sink.watch(broker, topics.reports_triaged + ".dlq", group_id=f"{where.namespace}-sink")
    serious = triaged(outcome=ReportedOutcome.DEATH)
    minor = triaged()
    schema_error = json.dumps({"report": {"report_id": "not-a-uuid"}}).encode()
    # Valid against the contract, but death reported and "other" recorded, no deadline: what a
    # forged or faulty writer would send. Refused, never recorded.
    honest = triaged(outcome=ReportedOutcome.DEATH)
    forged = honest.model_copy(
        update={
            "triage": honest.triage.model_copy(update={"severity": Severity.OTHER}),
            "regulatory": honest.regulatory.model_copy(
                update={"serious_incident": False, "deadline": None, "obligations": []}
            ),
        }
    )

    def count_reports() -> int:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(Report)).one())

    async def scenario() -> None:
        async with running(broker, mode) as b:
            # The serious report is delivered twice, as after a producer retry.
            for event in (serious, minor, serious):
                await b.publish(
                    event.model_dump_json().encode(),
                    topics.reports_triaged,
                    key=event.report.report_id.bytes,
                )
            await b.publish(schema_error, topics.reports_triaged, key=b"bad")
            await b.publish(
                forged.model_dump_json().encode(),
                topics.reports_triaged,
                key=forged.report.report_id.bytes,
            )
            await sink.wait(lambda r: len(dlq(sink, topics.reports_triaged)) >= 2)
            await asyncio.to_thread(wait_until, lambda: count_reports() == 2)

    asyncio.run(scenario())
    with Session(engine) as session:
        ids = set(session.exec(select(Report.report_id)).all())
        alerts = session.exec(select(OutboxEvent).where(OutboxEvent.topic == topics.alerts)).all()
    assert ids == {serious.report.report_id, minor.report.report_id}
    assert len(alerts) == 1 and str(serious.report.report_id) in alerts[0].payload
    assert woken  # the outbox relay was told
    dead = {r.headers["vigie-dlq-reason"]: r for r in dlq(sink, topics.reports_triaged)}
    assert set(dead) == {"schema", "untrusted"}
    assert dead["schema"].body == schema_error
    assert "report" in dead["schema"].headers["vigie-dlq-error"]
    assert "below the reported outcome" in dead["untrusted"].headers["vigie-dlq-error"]
    assert forged.report.report_id not in ids


@pytest.mark.parametrize("mode", MODES)
def test_a_report_id_recorded_with_other_content_is_dead_lettered(
    mode: str, where: Where, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two submissions that came to one report id: the second is not merged into the first (nor
    replaces it); it is dead-lettered with its reason, counted and logged for the operators. A
    retry of the first (same content, another status link) is not a collision."""
    settings, engine = registry_on(where, database_url)
    topics = settings.topics
    broker = broker_for(settings, mode)
    broker.include_router(registry_reports.router(settings, engine, on_commit=lambda: None))
    sink = Sink()
    sink.watch(broker, topics.reports_triaged + ".dlq", group_id=f"{where.namespace}-sink")
    report_id = uuid.uuid4()
    tokens = {"first": "a" * 64, "retry": "b" * 64, "other": "c" * 64}
    first = triaged(report_id=report_id, status_token_hash=tokens["first"])
    retry = triaged(report_id=report_id, status_token_hash=tokens["retry"])
    other = triaged(
        report_id=report_id,
        status_token_hash=tokens["other"],
        narrative="A different incident that came to the same report id.",
    )
    labels = {
        "service": "registry",
        "topic": topics.reports_triaged,
        "reason": "report_id_conflict",
    }
    before = REGISTRY.get_sample_value("vigie_events_refused_total", labels) or 0.0

    def linked() -> set[str]:
        with Session(engine) as session:
            return set(session.exec(select(ReportStatusToken.token_hash)).all())

    async def scenario() -> None:
        async with running(broker, mode) as b:
            for event in (first, retry, other):
                await b.publish(
                    event.model_dump_json().encode(), topics.reports_triaged, key=report_id.bytes
                )
            await sink.wait(lambda r: len(dlq(sink, topics.reports_triaged)) >= 1)
            await asyncio.to_thread(wait_until, lambda: len(linked()) >= 2)

    with caplog.at_level(logging.ERROR, logger="vigie.processing"):
        asyncio.run(scenario())
    with Session(engine) as session:
        [recorded] = session.exec(select(Report)).all()
        assert status_for_token(session, tokens["retry"]).tracking_number
    assert recorded.narrative == first.report.narrative
    assert linked() == {tokens["first"], tokens["retry"]}
    [dead] = dlq(sink, topics.reports_triaged)
    assert ReportTriaged.model_validate_json(dead.body) == other  # unchanged, replayable
    assert dead.headers["vigie-dlq-reason"] == "report_id_conflict"
    assert dead.headers["vigie-dlq-stage"] == "work"
    assert (
        f"report {report_id} is already recorded with other content"
        in (dead.headers["vigie-dlq-error"])
    )
    after = REGISTRY.get_sample_value("vigie_events_refused_total", labels)
    assert after == before + 1
    [logged] = [
        r for r in caplog.records if r.name == "vigie.processing" and r.levelno == logging.ERROR
    ]
    assert "already recorded with other content" in logged.getMessage()
    assert "different incident" not in logged.getMessage()


def _windows(
    device: DeviceRef, start: datetime, n: int, a: float, b: float, seed: int
) -> list[TelemetryWindow]:
    rng = np.random.default_rng(seed)
    return [
        summarise_window(
            device,
            start + timedelta(hours=i),
            start + timedelta(hours=i + 1),
            scores=rng.beta(a, b, 2000).tolist(),
            features={"age": rng.normal(60 if a < b else 75, 10, 2000).tolist()},
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("mode", MODES)
def test_drift_signals_flow_from_windows_to_the_registry(
    mode: str, where: Where, database_url: str, tmp_path: Path
) -> None:
    ns = where.namespace
    triage = TriageSettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=where.namespace,
        drift_group_id=f"{ns}-drift",
    )
    registry = RegistrySettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=where.namespace,
        database_url=database_url,
        registry_group_id=f"{ns}-registry",
    )
    topics = triage.topics
    engine = make_engine(database_url)
    monitor = DriftMonitor(MonitorPolicy(), store=FileStore(tmp_path / "drift"))
    broker = broker_for(triage, mode)
    broker.include_router(drift_handlers.router(triage, monitor))
    broker.include_router(registry_devices.router(registry, engine, on_commit=lambda: None))
    sink = Sink()
    for topic in (topics.signals, topics.telemetry + ".dlq"):
        sink.watch(broker, topic, group_id=f"{ns}-sink")
    device = DeviceRef(name="Sepsis Watch", manufacturer="Acme Health", model_version="2.4.0")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    windows = _windows(device, start, 4, 2, 5, seed=1) + _windows(
        device, start + timedelta(hours=4), 3, 5, 2, seed=2
    )

    def recorded() -> tuple[int, int]:
        with Session(engine) as session:
            signals = int(session.exec(select(func.count()).select_from(DriftSignal)).one())
            usage = int(session.exec(select(func.count()).select_from(TelemetryUsage)).one())
        return signals, usage

    async def scenario() -> None:
        async with running(broker, mode) as b:
            for w in windows:
                await b.publish(
                    w.model_dump_json().encode(), topics.telemetry, key=b"acme|sepsis|2.4.0"
                )
            await b.publish(b'{"device": 3}', topics.telemetry, key=b"bad")
            await sink.wait(
                lambda r: len(r[topics.signals]) >= 1 and len(dlq(sink, topics.telemetry)) >= 1
            )
            await asyncio.to_thread(
                wait_until, lambda: recorded()[0] >= 1 and recorded()[1] == len(windows)
            )

    asyncio.run(scenario())
    signals = [DriftDetected.model_validate_json(r.body) for r in sink.received[topics.signals]]
    assert signals and all(s.device == device for s in signals)
    assert recorded()[0] == len({s.event_id for s in signals})
    # One dead letter for the bad window: the drift group owns the topic's validation and the
    # registry's usage group skips what it cannot read.
    [dead] = dlq(sink, topics.telemetry)
    assert dead.headers["vigie-dlq-consumer-group"] == triage.drift_group_id


@pytest.mark.parametrize("mode", MODES)
def test_a_device_topic_vouches_for_its_manufacturer_only(
    mode: str, where: Where, database_url: str, tmp_path: Path
) -> None:
    ns = where.namespace
    triage = TriageSettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=ns,
        drift_group_id=f"{ns}-drift",
    )
    registry = RegistrySettings(
        kafka_bootstrap_servers=where.bootstrap,
        topic_namespace=ns,
        database_url=database_url,
        registry_group_id=f"{ns}-registry",
    )
    topics = triage.topics
    acme_topic = device_telemetry_topic(topics.telemetry, "Acme Health")
    if mode == "real":
        create_topics(triage.kafka_client, [(acme_topic, 1, {})], replication=triage.replication)
    engine = make_engine(database_url)
    broker = broker_for(triage, mode)
    broker.include_router(
        drift_handlers.router(triage, DriftMonitor(MonitorPolicy(), store=FileStore(tmp_path)))
    )
    broker.include_router(registry_devices.router(registry, engine, on_commit=lambda: None))
    sink = Sink()
    sink.watch(broker, topics.telemetry + ".dlq", group_id=f"{ns}-sink")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    acme = DeviceRef(name="Sepsis Watch", manufacturer="Acme Health", model_version="2.4.0")
    globex = DeviceRef(name="Lung Nodule AI", manufacturer="Globex", model_version="1.0")
    [own] = _windows(acme, start, 1, 2, 5, seed=3)
    [foreign] = _windows(globex, start, 1, 2, 5, seed=4)
    [relayed] = _windows(globex, start + timedelta(hours=1), 1, 2, 5, seed=5)

    def usage_rows() -> int:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(TelemetryUsage)).one())

    async def scenario() -> None:
        async with running(broker, mode) as b:
            # Acme's principal may write only its device topic; a Globex window there is forged.
            await b.publish(own.model_dump_json().encode(), acme_topic, key=b"acme")
            await b.publish(foreign.model_dump_json().encode(), acme_topic, key=b"globex")
            # The shared topic is written by ingest (token checked) and triage only.
            await b.publish(relayed.model_dump_json().encode(), topics.telemetry, key=b"globex")
            await sink.wait(lambda r: len(dlq(sink, topics.telemetry)) >= 1)
            await asyncio.to_thread(wait_until, lambda: usage_rows() == 2)

    asyncio.run(scenario())
    [dead] = dlq(sink, topics.telemetry)
    assert dead.headers["vigie-dlq-reason"] == "untrusted"
    assert dead.headers["vigie-dlq-source-topic"] == acme_topic
    assert "Globex" in dead.headers["vigie-dlq-error"]
    with Session(engine) as session:
        windows = {u.event_id for u in session.exec(select(TelemetryUsage)).all()}
    assert foreign.event_id not in windows


class _Record:
    def __init__(self, value: bytes) -> None:
        self.value, self.key, self.topic, self.partition, self.offset = value, b"k", "t", 0, 0


def test_dead_letter_limit_stops_a_consumer_fed_mostly_garbage() -> None:
    """arroyo's DlqLimit: past the ratio, the batch is refused before anything is dead-lettered."""
    seen: list[list[TelemetryWindow]] = []
    step = BatchStep(
        "test",
        TelemetryWindow,
        seen.append,
        dead_letters=DeadLetterPolicy(limit=DlqLimit(max_invalid_ratio=0.5, min_records=10)),
    )
    window = _windows(
        DeviceRef(name="D", manufacturer="M", model_version="1"),
        datetime(2026, 1, 1, tzinfo=UTC),
        1,
        2,
        5,
        0,
    )[0]
    good = _Record(window.model_dump_json().encode())

    class NoBroker:
        async def publish(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("nothing may be published past the limit")

    async def scenario() -> None:
        # Twelve valid records: nothing invalid, nothing to publish, the batch goes through.
        await step.process([good] * 12, broker=NoBroker(), topic="t", group_id="g")  # type: ignore[arg-type]
        with pytest.raises(DlqLimitExceeded):
            await step.process([_Record(NOT_JSON)] * 13, broker=NoBroker(), topic="t", group_id="g")  # type: ignore[arg-type]

    asyncio.run(scenario())
    assert [len(b) for b in seen] == [12]  # the refused batch never reached the domain function


def test_by_default_a_consumer_failing_every_record_stops_rather_than_dead_letters() -> None:
    """A registry restarted on a database that lacks a column fails every record: the default
    limit stops it on its batch rather than isolating the whole topic to its dead letters."""

    def broken(batch: list[TelemetryWindow]) -> None:
        raise RuntimeError("column audit_record.state_digest does not exist")

    step = BatchStep("test", TelemetryWindow, broken, retry=RetryPolicy(attempts=1, backoff_s=0))
    assert step.dead_letters.limit is not None
    window = _windows(
        DeviceRef(name="D", manufacturer="M", model_version="1"),
        datetime(2026, 1, 1, tzinfo=UTC),
        1,
        2,
        5,
        0,
    )[0]
    record = _Record(window.model_dump_json().encode())

    class NoBroker:
        async def publish(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("nothing may be dead-lettered past the limit")

    async def scenario() -> None:
        with pytest.raises(DlqLimitExceeded):
            await step.process([record] * 120, broker=NoBroker(), topic="t", group_id="g")  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_dead_letter_limit_counts_consecutive_invalid_records() -> None:
    limit = DlqLimit(max_invalid_ratio=1.0, max_consecutive=3, min_records=1000)
    limit.check([True, False, False, True, False, False, False])
    with pytest.raises(DlqLimitExceeded):
        limit.check([False])


class _ChokingClassifier:
    """A model that fails on one narrative, as a model can on input nobody foresaw."""

    version = "choking-1"

    def predict(self, texts: Sequence[str], kinds: Sequence[ReportKind] | None = None) -> list[Any]:
        if any("CHOKE" in t for t in texts):
            raise FloatingPointError("model output is NaN")
        return [None] * len(texts)


@pytest.mark.parametrize("mode", MODES)
def test_a_poison_report_is_isolated_and_the_batch_goes_on(mode: str, where: Where) -> None:
    """A contract-valid report that makes triage fail goes to the dead-letter topic with the
    exception, after retries of its own; the reports around it are triaged."""
    settings, broker, sink = triage_with_sink(mode, where, _ChokingClassifier())
    topics = settings.topics
    poison = report(narrative="The CHOKE screen froze.", outcome=ReportedOutcome.DEATH)
    before, after = report(), report(outcome=ReportedOutcome.INJURY)

    async def scenario() -> None:
        async with running(broker, mode) as b:
            # One batch in memory (publish_batch); one or more on the real broker.
            await b.publish_batch(
                *(e.model_dump_json().encode() for e in (before, poison, after)),
                topic=topics.reports,
            )
            await sink.wait(
                lambda r: (
                    len(r[topics.reports_triaged]) >= 2 and len(dlq(sink, topics.reports)) >= 1
                )
            )

    asyncio.run(scenario())
    triaged_ids = {
        ReportTriaged.model_validate_json(r.body).report.report_id
        for r in sink.received[topics.reports_triaged]
    }
    assert triaged_ids == {before.report_id, after.report_id}
    [dead] = dlq(sink, topics.reports)
    assert dead.headers["vigie-dlq-reason"] == "processing"
    assert dead.headers["vigie-dlq-stage"] == "work"
    assert dead.headers["vigie-dlq-error"] == "FloatingPointError: model output is NaN"
    assert ReportSubmitted.model_validate_json(dead.body).report_id == poison.report_id


class _Unavailable(Exception):
    """Stands for the database being down."""


def test_an_outage_pauses_and_retries_without_dead_lettering() -> None:
    calls: list[int] = []

    def work(events: list[TelemetryWindow]) -> int:
        calls.append(len(events))
        if len(calls) <= 2:
            raise _Unavailable("database down")
        return len(events)

    step = BatchStep(
        "test",
        TelemetryWindow,
        work,
        retry=RetryPolicy(backoff_s=0.01, transient=(_Unavailable,)),
    )
    window = _windows(
        DeviceRef(name="D", manufacturer="M", model_version="1"),
        datetime(2026, 1, 1, tzinfo=UTC),
        1,
        2,
        5,
        0,
    )[0]
    records = [_Record(window.model_dump_json().encode())] * 3

    class NoBroker:
        async def publish(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("an outage dead-letters nothing")

    async def scenario() -> list[int]:
        for _ in range(2):  # the batch is rewound and consumed again, twice
            with pytest.raises(_Unavailable):
                await step.process(records, broker=NoBroker(), topic="t", group_id="g")  # type: ignore[arg-type]
        return await step.process(records, broker=NoBroker(), topic="t", group_id="g")  # type: ignore[arg-type]

    assert asyncio.run(scenario()) == [3]
    assert calls == [3, 3, 3]  # whole batches each time: no record was isolated


@pytest.mark.parametrize("mode", MODES)
def test_a_report_the_database_refuses_does_not_hold_back_the_others(
    mode: str, where: Where, database_url: str
) -> None:
    """A row the database refuses (here a rule added to the table, standing for any refusal the
    contract does not foresee) is isolated to the dead-letter topic and the next report is
    recorded all the same."""
    settings, engine = registry_on(where, database_url)
    with engine.begin() as connection:
        if database_url.startswith("postgresql"):
            connection.execute(
                text(
                    "ALTER TABLE report ADD CONSTRAINT refused CHECK (narrative NOT LIKE '%froze%')"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refused BEFORE INSERT ON report WHEN NEW.narrative LIKE "
                    "'%froze%' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    topics = settings.topics
    broker = broker_for(settings, mode)
    broker.include_router(registry_reports.router(settings, engine, on_commit=lambda: None))
    sink = Sink()
    sink.watch(broker, topics.reports_triaged + ".dlq", group_id=f"{where.namespace}-sink")
    long = triaged(narrative="The display froze twice.")
    ordinary = triaged()

    def recorded() -> set[object]:
        with Session(engine) as session:
            return set(session.exec(select(Report.report_id)).all())

    async def scenario() -> None:
        async with running(broker, mode) as b:
            await b.publish_batch(
                *(e.model_dump_json().encode() for e in (long, ordinary)),
                topic=topics.reports_triaged,
            )
            await asyncio.to_thread(
                wait_until, lambda: ordinary.report.report_id in recorded(), timeout_s=90
            )
            await sink.wait(lambda r: len(dlq(sink, topics.reports_triaged)) >= 1)

    asyncio.run(scenario())
    assert long.report.report_id not in recorded()
    [dead] = dlq(sink, topics.reports_triaged)
    assert dead.headers["vigie-dlq-reason"] == "processing"
    assert "IntegrityError" in dead.headers["vigie-dlq-error"]
