"""Running the services' Kafka handlers under FastStream's test broker, in memory or for real.

``running(broker, mode)`` is ``TestKafkaBroker(broker)`` in memory (no Kafka at all: publishing
calls the subscribers in-process) and ``TestKafkaBroker(broker, with_real=True)`` against the
project's broker, so that one test body checks a handler's logic fast and its delivery for real.
A :class:`Sink` subscribes to the topics a handler writes and keeps what arrives there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from vigie.kafka import make_broker
from vigie.settings import CommonSettings

MODES = ("memory", "real")


@dataclass(frozen=True)
class Received:
    """A record as a consumer of the output topic sees it."""

    body: bytes
    key: bytes | None
    headers: dict[str, str]


@dataclass
class Sink:
    """What arrived on each watched topic, in arrival order."""

    received: dict[str, list[Received]] = field(default_factory=dict)

    def watch(self, broker: KafkaBroker, topic: str, *, group_id: str) -> None:
        """Subscribe ``broker`` to ``topic`` (from its start) and keep every record."""
        bucket = self.received.setdefault(topic, [])

        async def keep(body: Any, message: KafkaMessage) -> None:
            raw = message.raw_message
            bucket.append(
                Received(
                    body=message.body,
                    key=getattr(raw, "key", None),
                    headers={k: str(v) for k, v in message.headers.items()},
                )
            )

        keep.__name__ = f"sink_{group_id}_{topic}".replace(".", "_").replace("-", "_")
        broker.subscriber(topic, group_id=group_id, auto_offset_reset="earliest")(keep)

    async def wait(
        self, check: Callable[[dict[str, list[Received]]], bool], *, timeout_s: float = 60
    ) -> None:
        """Wait until ``check(received)`` holds; fail after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not check(self.received):
            if time.monotonic() > deadline:
                counts = {t: len(r) for t, r in self.received.items()}
                raise AssertionError(f"not received in {timeout_s} s; so far: {counts}")
            await asyncio.sleep(0.05)


def broker_for(settings: CommonSettings, mode: str) -> KafkaBroker:
    """In memory a bare broker (never connected); on the real cluster the services' own
    factory, with its credentials and TLS."""
    if mode == "real":
        return make_broker(settings, client_id="vigie-test")
    return KafkaBroker(settings.kafka_bootstrap_servers)


@asynccontextmanager
async def running(broker: KafkaBroker, mode: str) -> AsyncIterator[KafkaBroker]:
    """``broker`` with its subscribers running, in memory or on the real broker."""
    assert mode in MODES, mode
    async with TestKafkaBroker(broker, with_real=mode == "real") as test_broker:
        yield test_broker


def wait_until(check: Callable[[], Any], *, timeout_s: float = 60) -> Any:
    """Poll ``check`` (blocking) until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s} s")
        time.sleep(0.05)
    return result
