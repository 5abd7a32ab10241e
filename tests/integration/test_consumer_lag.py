"""Consumer lag on the real broker: the gauge rises while a group is behind, falls to 0 once it
caught up, and goes when the consumer stops."""

from __future__ import annotations

import asyncio
import threading

from faststream.kafka import KafkaRouter
from prometheus_client import REGISTRY
from pydantic import BaseModel

from tests.support.handlers import wait_until
from tests.support.kafka import fresh_namespace, producer
from vigie.kafka import create_topics, make_broker
from vigie.processing import BatchStep, subscribe
from vigie.settings import CommonSettings


class Ping(BaseModel):
    n: int


def test_lag_rises_while_a_group_is_behind_and_falls_to_zero(kafka_bootstrap: str) -> None:
    ns = fresh_namespace()
    settings = CommonSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=ns)
    topic, group = f"{ns}.lag", f"{ns}-lag"
    create_topics(settings.kafka_client, [(topic, 1, {})], replication=settings.replication)
    labels = {"service": "lagtest", "group": group, "topic": topic, "partition": "0"}
    gate = threading.Event()

    def work(events: list[Ping]) -> int:
        # The first batch waits here: the group stays behind until the gate opens.
        assert gate.wait(60)
        return len(events)

    def produce(first: int, count: int) -> None:
        out = producer(kafka_bootstrap)
        for n in range(first, first + count):
            out.send(topic, Ping(n=n).model_dump_json().encode())
        out.flush()
        out.close()

    def lag() -> float | None:
        return REGISTRY.get_sample_value("vigie_consumer_lag", labels)

    router = KafkaRouter()
    step = BatchStep(service="lagtest", event=Ping, work=work)
    subscribe(router, topic, step, group_id=group, max_records=2, lag_every_s=0.1)
    broker = make_broker(settings, client_id="vigie-test")
    broker.include_router(router)
    produce(0, 6)

    async def scenario() -> None:
        await broker.start()
        try:
            # Nothing committed yet: all six records are behind.
            await asyncio.to_thread(wait_until, lambda: lag() == 6)
            await asyncio.to_thread(produce, 6, 3)
            await asyncio.to_thread(wait_until, lambda: lag() == 9)
            gate.set()
            await asyncio.to_thread(wait_until, lambda: lag() == 0)
        finally:
            gate.set()
            await broker.stop()
        # A stopped consumer reports nothing: another replica holds its partitions now.
        await asyncio.to_thread(wait_until, lambda: lag() is None)

    asyncio.run(scenario())
