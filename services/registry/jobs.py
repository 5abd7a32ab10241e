"""Background work of the registry: the outbox relay, the statistical signal scan and the audit
checkpoints, run while the application consumes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from faststream.kafka import KafkaBroker
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.audit.witness import Signer, queue_checkpoint
from services.registry.cases.workflow import count_overdue
from services.registry.outbox import OutboxRelay
from services.registry.settings import RegistrySettings
from services.registry.signals.statistics import scan as scan_signals
from vigie import metrics
from vigie.contracts import utcnow

log = logging.getLogger(__name__)

# How often the count of overdue cases is refreshed for the metrics.
DEADLINE_WATCH_S = 60.0


def outbox_relay(engine: Engine, broker: KafkaBroker, settings: RegistrySettings) -> OutboxRelay:
    """The relay that publishes what the registry queued in its outbox."""
    return OutboxRelay(
        engine,
        broker,
        batch=settings.outbox_batch,
        poll_s=settings.outbox_poll_s,
        kafka_client=settings.kafka_client,
        replication=settings.replication,
        retention=timedelta(days=settings.outbox_retention_days),
        known_topics={
            settings.topics.alerts,
            settings.topics.triage_feedback,
            settings.topics.audit_checkpoints,
        },
    )


def scan_once(engine: Engine, settings: RegistrySettings) -> int:
    """Raise the alerts of newly flagged statistics; how many were queued."""
    with Session(engine) as session:
        raised = scan_signals(
            session, alerts_topic=settings.topics.alerts, country=settings.registry_country
        )
    if raised:
        log.info("statistical signals raised", extra={"alerts": raised})
    return raised


def checkpoint_once(engine: Engine, settings: RegistrySettings, signer: Signer) -> int:
    """Queue a signed checkpoint of the audit chain; 1 when one was queued."""
    with Session(engine) as session:
        checkpoint = queue_checkpoint(
            session,
            topic=settings.topics.audit_checkpoints,
            registry=settings.registry_group_id,
            signer=signer,
        )
    return 0 if checkpoint is None else 1


def watch_deadlines_once(engine: Engine) -> int:
    """Export how many cases are past their legal deadline; queues nothing."""
    with Session(engine) as session:
        metrics.CASES_OVERDUE.set(count_overdue(session, today=utcnow().date()))
    return 0


async def every(period_s: float, work: Callable[[], int], what: str, relay: OutboxRelay) -> None:
    """Run ``work`` every ``period_s`` seconds; wake the relay when it queued events. Its last
    success is exported (``vigie_job_last_success_timestamp_seconds``), so a job that keeps
    failing is seen."""
    task = what.replace(" ", "_")
    metrics.JOB_PERIOD.labels(task=task).set(period_s)
    metrics.JOB_LAST_SUCCESS.labels(task=task).set(time.time())
    while True:
        await asyncio.sleep(period_s)
        try:
            queued = await asyncio.to_thread(work)
        except Exception:  # retried at the next period; logged loudly
            log.exception("%s failed", what)
            continue
        metrics.JOB_LAST_SUCCESS.labels(task=task).set(time.time())
        if queued:
            relay.notify()


def start(
    engine: Engine, settings: RegistrySettings, relay: OutboxRelay, signer: Signer
) -> list[asyncio.Task[None]]:
    """Start the relay and the periodic jobs (``signer`` signs the audit checkpoints)."""
    return [
        asyncio.create_task(relay.run(), name="outbox-relay"),
        asyncio.create_task(
            every(
                settings.signals_scan_s,
                lambda: scan_once(engine, settings),
                "statistical signal scan",
                relay,
            ),
            name="signal-scan",
        ),
        asyncio.create_task(
            every(
                settings.audit_checkpoint_s,
                lambda: checkpoint_once(engine, settings, signer),
                "audit checkpoint",
                relay,
            ),
            name="audit-checkpoint",
        ),
        asyncio.create_task(
            every(
                DEADLINE_WATCH_S,
                lambda: watch_deadlines_once(engine),
                "deadline watch",
                relay,
            ),
            name="deadline-watch",
        ),
    ]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the jobs and wait for each to end."""
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
