"""Transactional outbox: alerts are written with the state they derive from, then relayed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from faststream.kafka import KafkaBroker
from sqlalchemy import Column, DateTime, Text, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from vigie import metrics
from vigie.contracts import utcnow
from vigie.credentials import KafkaClientConfig
from vigie.kafka import JSON_HEADERS, create_topics
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
        event_id=event_id,
        topic=topic,
        key=key,
        event_type=event_type,
        payload=payload,
        created_at=utcnow(),
    )
    session.add(event)
    return event


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


class OutboxRelay:
    """Publishes outbox events to Kafka (acks=all), then marks them published.

    A crash between the two publishes again on restart: alert consumers de-duplicate on the
    alert's event_id, which is stable for a case.
    """

    def __init__(
        self,
        engine: Engine,
        broker: KafkaBroker,
        *,
        batch: int,
        poll_s: float,
        kafka_client: KafkaClientConfig,
        known_topics: set[str],
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._batch = batch
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._kafka_client = kafka_client
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
            except asyncio.CancelledError:
                raise
            except Exception:  # Kafka or database hiccup: keep the rows and retry later
                log.exception("outbox relay failed; will retry")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            self._wake.clear()

    async def relay_once(self) -> int:
        """Publish one batch of pending events; return how many were published."""
        events = await asyncio.to_thread(self._load)
        if not events:
            return 0
        missing = {e.topic for e in events} - self._known_topics
        if missing:
            await asyncio.to_thread(
                create_topics, self._kafka_client, [(t, 1, ALERTS.config) for t in sorted(missing)]
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
        await asyncio.to_thread(self._mark, [e.id for e in events if e.id is not None])
        for e in events:
            metrics.ALERTS_PUBLISHED.labels(alert_type=e.event_type).inc()
        return len(events)

    def _load(self) -> list[OutboxEvent]:
        with Session(self._engine) as session:
            events = pending(session, self._batch)
            metrics.OUTBOX_PENDING.set(count_pending(session))
            return events

    def _mark(self, ids: list[int]) -> None:
        with Session(self._engine) as session:
            session.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.id).in_(ids))
                .values(published_at=utcnow())
            )
            session.commit()
