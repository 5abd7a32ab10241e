"""Transactional outbox: alerts are written with the state they derive from, then relayed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy import Column, DateTime, Text, func, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from vigie import metrics
from vigie.contracts import utcnow
from vigie.credentials import KafkaClientConfig
from vigie.kafka import JSON_HEADERS, create_topics
from vigie.settings import Replication
from vigie.topics import ALERTS

log = logging.getLogger(__name__)


class OutboxEvent(SQLModel, table=True):
    """An event committed with registry state and waiting to be published."""

    __tablename__ = "outbox_event"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    topic: str = Field(max_length=250)
    key: str = Field(max_length=100)
    event_type: str = Field(max_length=50)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True, index=True)
    )


def enqueue(
    session: Session, *, event_id: str, topic: str, key: str, event_type: str, payload: str
) -> OutboxEvent:
    """Add an event (its JSON ``payload``) to the outbox in the caller's transaction."""
    event = OutboxEvent(
        **event_row(event_id=event_id, topic=topic, key=key, event_type=event_type, payload=payload)
    )
    session.add(event)
    return event


def event_row(
    *, event_id: str, topic: str, key: str, event_type: str, payload: str
) -> dict[str, Any]:
    """The values of an outbox event, for a caller that inserts many in one statement."""
    return {
        "event_id": event_id,
        "topic": topic,
        "key": key,
        "event_type": event_type,
        "payload": payload,
        "created_at": utcnow(),
        "published_at": None,
    }


def pending(session: Session, limit: int) -> list[OutboxEvent]:
    """Unpublished events, oldest first."""
    statement = (
        select(OutboxEvent)
        .where(col(OutboxEvent.published_at).is_(None))
        .order_by(col(OutboxEvent.id))
        .limit(limit)
    )
    return list(session.exec(statement))


def count_pending(session: Session) -> int:
    """How many events wait to be published."""
    statement = (
        select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
    )
    return int(session.exec(statement).one())


# Key of the PostgreSQL advisory lock held by the replica that relays (any constant will do;
# this one spells "vigie-outbox" in its bytes' initials).
_RELAY_LOCK = 0x7669_6769_656F_7574


def claim(session: Session, limit: int) -> list[OutboxEvent]:
    """The oldest unpublished events, held by this relay until ``session`` commits or closes.

    With several registry replicas on PostgreSQL, one relays at a time: the first to take a
    transaction-scoped advisory lock publishes, the others find nothing to do this round (and
    take over when it stops). One relay at a time keeps each case's alerts in commit order,
    which partitioning rows between relays (``FOR UPDATE SKIP LOCKED``) would not. SQLite has
    one writer and one registry process by construction.
    """
    if session.get_bind().dialect.name == "postgresql":
        locked = session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _RELAY_LOCK}
        ).scalar_one()
        if not locked:
            return []
    return pending(session, limit)


def prune(session: Session, *, older_than: datetime) -> int:
    """Drop the payload of events published before ``older_than``; return how many.

    The row stays as the ledger of what was published and when (subscription deliveries are
    reported from it); the payload, nearly all of a row, is already on Kafka and in the
    registry's own tables.
    """
    result = session.execute(
        update(OutboxEvent)
        .where(col(OutboxEvent.published_at) < older_than)
        .where(col(OutboxEvent.payload) != "")
        .values(payload="")
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


class OutboxRelay:
    """Publishes outbox events to Kafka (acks=all), then marks them published.

    A crash between the two publishes again on restart: alert consumers de-duplicate on the
    alert's event_id, which is stable for a case. The events stay claimed (see :func:`claim`)
    from loading to marking, so another replica never publishes them meanwhile.
    """

    def __init__(
        self,
        engine: Engine,
        broker: KafkaBroker,
        *,
        batch: int,
        poll_s: float,
        kafka_client: KafkaClientConfig,
        replication: Replication,
        known_topics: set[str],
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._batch = batch
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._kafka_client = kafka_client
        self._replication = replication
        self._retention = retention
        self._pruned_at = 0.0
        # Subscription topics are created on first use (the broker does not auto-create).
        self._known_topics = set(known_topics)

    def notify(self) -> None:
        """Something was committed to the outbox: publish it now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; errors are logged and retried, never lost."""
        while True:
            try:
                while await self.relay_once():
                    pass
                await self._prune_now_and_then()
            except asyncio.CancelledError:
                raise
            except Exception:  # Kafka or database hiccup: keep the rows and retry later
                log.exception("outbox relay failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; return how many were published."""
        session = Session(self._engine, expire_on_commit=False)
        try:
            events = await asyncio.to_thread(claim, session, self._batch)
            metrics.OUTBOX_PENDING.set(await asyncio.to_thread(_count, self._engine))
            if not events:
                return 0
            missing = {e.topic for e in events} - self._known_topics
            if missing:
                await asyncio.to_thread(
                    partial(create_topics, replication=self._replication),
                    self._kafka_client,
                    [(t, 1, ALERTS.config) for t in sorted(missing)],
                )
                self._known_topics |= missing
            await asyncio.gather(
                *(
                    self._broker.publish(
                        e.payload.encode(),
                        topic=e.topic,
                        key=e.key.encode(),
                        headers={**JSON_HEADERS, "vigie-event-type": e.event_type},
                    )
                    for e in events
                )
            )
            await asyncio.to_thread(_mark, session, [e.id for e in events if e.id is not None])
        finally:
            # Uncommitted (a failed publish) rolls back: the events stay pending.
            await asyncio.to_thread(session.close)
        for e in events:
            metrics.ALERTS_PUBLISHED.labels(alert_type=e.event_type).inc()
        return len(events)

    async def _prune_now_and_then(self) -> None:
        if time.monotonic() - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        with Session(self._engine) as session:
            pruned = await asyncio.to_thread(prune, session, older_than=utcnow() - self._retention)
        if pruned:
            log.info("outbox payloads pruned", extra={"events": pruned})


# Pruning is a cheap UPDATE, but nothing needs it more often than this.
_PRUNE_EVERY_S = 600.0


def _count(engine: Engine) -> int:
    with Session(engine) as session:
        return count_pending(session)


def _mark(session: Session, ids: list[int]) -> None:
    session.execute(
        update(OutboxEvent).where(col(OutboxEvent.id).in_(ids)).values(published_at=utcnow())
    )
    session.commit()
