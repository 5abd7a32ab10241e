"""Background work of the registry: the outbox relay, the statistical signal scan and the audit
checkpoints, run while the application consumes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from faststream.kafka import KafkaBroker
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.registry.audit.witness import Signer, queue_checkpoint
from services.registry.outbox import OutboxRelay
from services.registry.settings import RegistrySettings
from services.registry.signals.statistics import scan as scan_signals

log = logging.getLogger(__name__)


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


async def every(period_s: float, work: Callable[[], int], what: str, relay: OutboxRelay) -> None:
    """Run ``work`` every ``period_s`` seconds; wake the relay when it queued events."""
    while True:
        await asyncio.sleep(period_s)
        try:
            queued = await asyncio.to_thread(work)
        except Exception:  # retried at the next period; logged loudly
            log.exception("%s failed", what)
            continue
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
    ]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the jobs and wait for each to end."""
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
