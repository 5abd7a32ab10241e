"""The outbox relay with several registry replicas, and the pruning of what it published."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from services.registry.db import make_engine
from services.registry.outbox import OutboxEvent, OutboxRelay, count_pending, enqueue, prune
from services.registry.settings import RegistrySettings
from tests.support.handlers import running
from tests.support.kafka import fresh_namespace, provision, read_all
from vigie.contracts import utcnow
from vigie.kafka import make_broker

EVENTS = 300
CASES = 7


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_registry_replicas_publish_each_event_once_in_commit_order(
    kafka_bootstrap: str, database_url: str
) -> None:
    settings = RegistrySettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=fresh_namespace(),
        database_url=database_url,
    )
    provision(settings)
    alerts = settings.topics.alerts
    # Two replicas: two engines (connection pools) on one database, two brokers, two relays.
    engines = [make_engine(database_url), make_engine(database_url)]
    with Session(engines[0]) as session:
        for n in range(EVENTS):
            enqueue(
                session,
                event_id=str(uuid.uuid4()),
                topic=alerts,
                key=f"case-{n % CASES}",
                event_type="test",
                payload=json.dumps({"n": n, "case": n % CASES}),
            )
            if n % 50 == 49:
                session.commit()

    async def relay_all() -> list[int]:
        brokers = [make_broker(settings, client_id=f"registry-{i}") for i in range(2)]
        async with running(brokers[0], "real") as first, running(brokers[1], "real") as second:
            relays = [
                OutboxRelay(
                    engine,
                    broker,
                    batch=20,
                    poll_s=0.1,
                    kafka_client=settings.kafka_client,
                    replication=settings.replication,
                    known_topics={alerts},
                )
                for engine, broker in zip(engines, (first, second), strict=True)
            ]

            async def relay(one: OutboxRelay, engine_index: int) -> int:
                published = 0
                while True:
                    with Session(engines[engine_index]) as session:
                        if not count_pending(session):
                            return published
                    published += await one.relay_once()
                    await asyncio.sleep(0)

            return list(await asyncio.gather(relay(relays[0], 0), relay(relays[1], 1)))

    published = asyncio.run(relay_all())
    # Claimed events are never published by both replicas.
    assert sum(published) == EVENTS
    records = [json.loads(r.value) for r in read_all(kafka_bootstrap, alerts)]
    assert sorted(r["n"] for r in records) == list(range(EVENTS))
    for case in range(CASES):
        seen = [r["n"] for r in records if r["case"] == case]
        assert seen == sorted(seen), f"case-{case} out of commit order"
    with Session(engines[1]) as session:
        unpublished = session.exec(
            select(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
        ).all()
    assert unpublished == []


def test_prune_drops_old_published_payloads_and_keeps_the_ledger(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        for name in ("old", "recent", "pending"):
            enqueue(session, event_id=name, topic="t", key=name, event_type="e", payload="{}")
        session.commit()
        now = utcnow()
        for name, when in (("old", now - timedelta(days=8)), ("recent", now)):
            session.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.event_id) == name)
                .values(published_at=when)
            )
        session.commit()
        assert prune(session, older_than=now - timedelta(days=7)) == 1
        assert prune(session, older_than=now - timedelta(days=7)) == 0
        rows = {e.event_id: e for e in session.exec(select(OutboxEvent)).all()}
    assert rows["old"].payload == "" and rows["old"].published_at is not None
    assert rows["recent"].payload == "{}" and rows["pending"].payload == "{}"
