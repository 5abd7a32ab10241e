"""Batch-processing plumbing shared by every Kafka handler of the services.

Each consumer of the platform does the same thing with a batch of records: decode them one by
one into their contract, run the domain function off the event loop, publish what it produced
and wait for the broker's acknowledgements, dead-letter what could not be decoded, and record
metrics. :class:`BatchStep` is that shape, typed, once; :func:`subscribe` registers it on a
FastStream router so that a service's ``handlers.py`` holds only the domain wiring.

Delivery: the subscription commits its offsets only after :meth:`BatchStep.process` returned,
so after the effects were made durable (events acknowledged, rows committed, dead letters
acknowledged). Any exception rewinds the batch (``AckPolicy.NACK_ON_ERROR``) and the domain
functions are idempotent, so a redelivery is harmless.

The same step runs under FastStream's ``TestKafkaBroker`` in memory and against the real broker
(``with_real=True``), which is how ``tests/integration/test_handlers.py`` runs each handler.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import BaseModel, ValidationError

from vigie import metrics
from vigie.contracts import utcnow
from vigie.kafka import JSON_HEADERS
from vigie.lag import LAG_EVERY_S, LagWatch
from vigie.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)

E = TypeVar("E", bound=BaseModel)
R = TypeVar("R")


# --- decoding ---------------------------------------------------------------------------------


def raw_records(message: StreamMessage[Any]) -> tuple[Any, ...]:
    """FastStream decoder that leaves decoding to the step: one bad record must be dead-lettered
    on its own, not fail (and endlessly redeliver) the whole batch."""
    raw = message.raw_message
    return tuple(raw) if isinstance(raw, tuple | list) else (raw,)


@dataclass(frozen=True)
class Rejected:
    """A record that could not be processed, with why and at which stage (``decode``, ``check``
    or ``work``)."""

    record: Any
    reason: str
    error: str
    stage: str = "decode"


@dataclass(frozen=True)
class Refusal(Generic[E]):
    """An event the domain function declined to apply (it contradicts what is recorded), with
    why: dead-lettered with ``reason`` and ``error`` at stage ``work``, never retried."""

    event: E
    reason: str
    error: str


@dataclass(frozen=True)
class Decoded(Generic[E]):
    """A record and the event decoded from it."""

    record: Any
    event: E


def decode_records(
    records: Iterable[Any], model: type[E]
) -> tuple[list[Decoded[E]], list[Rejected]]:
    """Split a batch of consumer records into valid events and rejects (not JSON, bad schema)."""
    good: list[Decoded[E]] = []
    bad: list[Rejected] = []
    for record in records:
        value = record.value
        if value is None:
            bad.append(Rejected(record, "empty", "record has no value"))
            continue
        try:
            good.append(Decoded(record, model.model_validate_json(value)))
        except ValidationError as exc:
            invalid_json = any(e["type"] == "json_invalid" for e in exc.errors())
            bad.append(Rejected(record, "not_json" if invalid_json else "schema", _short(exc)))
        except UnicodeDecodeError as exc:
            bad.append(Rejected(record, "not_json", str(exc)))
    return good, bad


def _short(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:10]
    ]
    return "; ".join(parts)[:2000]


# --- publishing and dead letters --------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """One event a step produced: where it goes and under which key."""

    topic: str
    key: bytes
    event: BaseModel


async def publish_events(broker: KafkaBroker, outputs: Sequence[Output]) -> None:
    """Publish events concurrently and return once the broker acknowledged every one."""
    await asyncio.gather(
        *(
            broker.publish(
                o.event.model_dump_json().encode(), topic=o.topic, key=o.key, headers=JSON_HEADERS
            )
            for o in outputs
        )
    )


async def dead_letter(
    broker: KafkaBroker,
    rejects: Sequence[Rejected],
    *,
    service: str,
    group: str,
    topic: str | None = None,
) -> None:
    """Publish rejects to ``<topic>.dlq`` with the reason in headers; wait for the acks.

    The original bytes and key are kept as they are so that a fixed consumer can replay them.
    ``topic`` names the dead-letter topic's base when the records come from several topics of
    one subscription (device telemetry topics share ``vigie.telemetry.v1.dlq``); the source
    topic stays in the headers.
    """
    sends = []
    for reject in rejects:
        record = reject.record
        headers = {
            "vigie-dlq-reason": reject.reason,
            "vigie-dlq-error": reject.error,
            "vigie-dlq-source-topic": record.topic,
            "vigie-dlq-source-partition": str(record.partition),
            "vigie-dlq-source-offset": str(record.offset),
            "vigie-dlq-consumer-group": group,
            "vigie-dlq-stage": reject.stage,
            "vigie-dlq-failed-at": utcnow().isoformat(),
        }
        sends.append(
            broker.publish(
                record.value if record.value is not None else b"",
                topic=(topic or record.topic) + DLQ_SUFFIX,
                key=record.key,
                headers=headers,
            )
        )
        metrics.DEAD_LETTERED.labels(
            service=service, topic=record.topic, reason=reject.reason
        ).inc()
        log.warning(
            "message dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reject.reason,
            },
        )
    await asyncio.gather(*sends)


class InvalidRecords(StrEnum):
    """What a step does with records that do not decode into its contract."""

    # Sent to <topic>.dlq with the reason: the consumer that owns the topic's validation.
    DEAD_LETTER = "dead_letter"
    # Left alone: another consumer group of the same topic dead-letters them, once.
    SKIP = "skip"


class DlqLimitExceeded(Exception):
    """A consumer would dead-letter most of its input: something upstream is broken."""


@dataclass
class DlqLimit:
    """Stops a consumer that would dead-letter most of its input (arroyo's ``DlqLimit``).

    A producer sending garbage, or a contract change rolled out before its consumers, would
    otherwise move the whole topic to its dead-letter topic. Over the last ``window`` records
    (once ``min_records`` were seen), more than ``max_invalid_ratio`` invalid, or
    ``max_consecutive`` invalid in a row, raises :class:`DlqLimitExceeded` before anything of the
    batch is dead-lettered: the batch is rewound and the consumer stays on it until an operator
    acts, with the metric and the critical log saying why.
    """

    max_invalid_ratio: float = 0.5
    max_consecutive: int = 1000
    window: int = 1000
    min_records: int = 100
    _recent: list[bool] = field(default_factory=list, init=False, repr=False)
    _consecutive: int = field(default=0, init=False, repr=False)

    def check(self, valid: Sequence[bool]) -> None:
        """Account for a batch (True per valid record, in order); raise if the limit is passed."""
        recent = (self._recent + list(valid))[-self.window :]
        consecutive = self._consecutive
        for ok in valid:
            consecutive = 0 if ok else consecutive + 1
        invalid = recent.count(False)
        if consecutive > self.max_consecutive or (
            len(recent) >= self.min_records and invalid > self.max_invalid_ratio * len(recent)
        ):
            raise DlqLimitExceeded(
                f"{invalid} of the last {len(recent)} records invalid, "
                f"{consecutive} in a row (limit: ratio {self.max_invalid_ratio}, "
                f"{self.max_consecutive} in a row)"
            )
        self._recent, self._consecutive = recent, consecutive


@dataclass
class DeadLetterPolicy:
    """What happens to records that do not decode: dead-lettered or skipped, within a limit.

    Every consumer has the limit by default: a failure that hits every record (a column the
    database lacks after an upgrade, a producer sending garbage) stops the consumer on its batch
    rather than moving the topic to its dead-letter topic. ``limit=None`` turns it off.
    """

    invalid: InvalidRecords = InvalidRecords.DEAD_LETTER
    limit: DlqLimit | None = field(default_factory=DlqLimit)


@dataclass(frozen=True)
class RetryPolicy:
    """How a step tells a poison record from an outage, and how long it waits.

    When the domain function fails on a batch, the step retries it record by record: a record
    that still fails after ``attempts`` tries (``backoff_s`` apart, doubling) is isolated and
    dead-lettered with reason ``processing`` and the exception, and the rest of the batch goes
    on; nothing behind a poison record waits for it. An exception of a ``transient`` type (the
    database or the broker unavailable) is no fault of the record: the step pauses, with a
    backoff that doubles up to ``max_backoff_s`` while the outage lasts, and raises so that the
    batch is consumed again from its first record: an outage never dead-letters good records.
    """

    attempts: int = 3
    backoff_s: float = 0.2
    max_backoff_s: float = 30.0
    transient: tuple[type[BaseException], ...] = ()


# --- the step ---------------------------------------------------------------------------------


@dataclass
class BatchStep(Generic[E, R]):
    """Decode -> work (in a thread) -> publish -> dead-letter -> after, with metrics.

    ``check(event, topic)`` re-applies the rules an event must satisfy whoever wrote it (a
    consumer never trusts a topic more than its writers): an event it finds problems with is
    refused with reason ``untrusted`` and the problems, counted, logged at critical level for
    the operators, and dead-lettered under the same policy as undecodable records; the domain
    function never sees it.

    ``work`` is the domain function: it receives the batch's valid events in order and returns
    its result; it runs in a worker thread so that CPU-bound models and blocking database
    sessions leave the event loop free for the consumer's heartbeats. ``outputs`` turns the
    result into the events to publish (acknowledged before the batch is committed); ``after``
    runs on the event loop once all of it is durable (metrics, waking the outbox relay).

    ``refusals`` names the events of a result that the domain function declined to apply
    (:class:`Refusal`: an event that contradicts what is recorded, which no retry will fix):
    each is counted, logged at error level for the operators with its reason, and
    dead-lettered, whatever the policy for undecodable records.
    """

    service: str
    event: type[E]
    work: Callable[[list[E]], R]
    outputs: Callable[[R], Sequence[Output]] | None = None
    after: Callable[[R], Awaitable[None] | None] | None = None
    dead_letters: DeadLetterPolicy = field(default_factory=DeadLetterPolicy)
    check: Callable[[E, str], Sequence[str]] | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    refusals: Callable[[R], Sequence[Refusal[E]]] | None = None
    _outage: int = field(default=0, init=False, repr=False)

    async def _through_outage(self, exc: BaseException) -> None:
        """Wait before the batch is consumed again, longer while the outage lasts."""
        self._outage += 1
        pause = min(self.retry.backoff_s * 2 ** (self._outage - 1), self.retry.max_backoff_s)
        metrics.OUTAGE_RETRIES.labels(service=self.service).inc()
        log.warning(
            "transient failure, batch retried after %.1f s: %s: %s",
            pause,
            type(exc).__name__,
            exc,
        )
        await asyncio.sleep(pause)

    async def _work(self, good: list[Decoded[E]], topic: str) -> tuple[list[R], list[Rejected]]:
        """Run the domain function on the batch; on failure isolate the records that fail."""
        try:
            result = await asyncio.to_thread(self.work, [d.event for d in good])
        except self.retry.transient as exc:
            await self._through_outage(exc)
            raise
        except Exception:  # noqa: BLE001 - some record of the batch fails: find which
            pass
        else:
            self._outage = 0
            return [result], []
        results: list[R] = []
        poisoned: list[Rejected] = []
        for decoded in good:
            for attempt in range(1, self.retry.attempts + 1):
                try:
                    results.append(await asyncio.to_thread(self.work, [decoded.event]))
                    break
                except self.retry.transient as exc:
                    await self._through_outage(exc)
                    raise
                except Exception as exc:  # noqa: BLE001 - a poison record, isolated below
                    if attempt < self.retry.attempts:
                        await asyncio.sleep(self.retry.backoff_s * 2 ** (attempt - 1))
                        continue
                    error = f"{type(exc).__name__}: {exc}"[:2000]
                    poisoned.append(Rejected(decoded.record, "processing", error, "work"))
                    metrics.PROCESSING_FAILED.labels(service=self.service, topic=topic).inc()
                    log.critical(
                        "record isolated after %d attempts: %s",
                        attempt,
                        error,
                        extra={
                            "topic": decoded.record.topic,
                            "partition": decoded.record.partition,
                            "offset": decoded.record.offset,
                        },
                    )
        self._outage = 0
        return results, poisoned

    def _untrusted(self, good: list[Decoded[E]], topic: str) -> list[Rejected]:
        if self.check is None:
            return []
        refused: list[Rejected] = []
        for decoded in good:
            problems = self.check(decoded.event, decoded.record.topic)
            if problems:
                refused.append(
                    Rejected(decoded.record, "untrusted", "; ".join(problems)[:2000], "check")
                )
        for reject in refused:
            metrics.UNTRUSTED.labels(service=self.service, topic=topic).inc()
            log.critical(
                "event refused: it breaks rules every record must satisfy",
                extra={
                    "topic": topic,
                    "partition": reject.record.partition,
                    "offset": reject.record.offset,
                    "problems": reject.error,
                },
            )
        return refused

    def _refused(self, results: list[R], good: list[Decoded[E]], topic: str) -> list[Rejected]:
        if self.refusals is None:
            return []
        records = {id(d.event): d.record for d in good}
        refused: list[Rejected] = []
        for result in results:
            for refusal in self.refusals(result):
                record = records[id(refusal.event)]
                refused.append(Rejected(record, refusal.reason, refusal.error[:2000], "work"))
                metrics.REFUSED.labels(
                    service=self.service, topic=topic, reason=refusal.reason
                ).inc()
                log.error(
                    "event refused: %s",
                    refusal.error,
                    extra={
                        "topic": record.topic,
                        "partition": record.partition,
                        "offset": record.offset,
                        "reason": refusal.reason,
                    },
                )
        return refused

    async def process(
        self, records: Sequence[Any], *, broker: KafkaBroker, topic: str, group_id: str
    ) -> list[R]:
        """Process one consumed batch of ``topic``; returns once its effects are durable, with
        the domain function's results (one, or one per record when a record was isolated)."""
        started = time.perf_counter()
        metrics.CONSUMED.labels(service=self.service, topic=topic).inc(len(records))
        good, bad = decode_records(records, self.event)
        policy = self.dead_letters
        untrusted = self._untrusted(good, topic)
        if untrusted:
            refused = {id(r.record) for r in untrusted}
            good = [d for d in good if id(d.record) not in refused]
        results, poisoned = await self._work(good, topic) if good else ([], [])
        poisoned += self._refused(results, good, topic)
        if policy.limit is not None:
            # Before anything is published or dead-lettered: the whole batch is rewound.
            rejected = {id(r.record) for r in (*bad, *untrusted, *poisoned)}
            try:
                policy.limit.check([id(record) not in rejected for record in records])
            except DlqLimitExceeded as exc:
                metrics.DLQ_LIMIT_EXCEEDED.labels(service=self.service, topic=topic).inc()
                log.critical("dead-letter limit exceeded on %s: %s", topic, exc)
                raise
        if self.outputs is not None:
            produced = [o for result in results for o in self.outputs(result)]
            await publish_events(broker, produced)
            for out_topic in {o.topic for o in produced}:
                metrics.PUBLISHED.labels(service=self.service, topic=out_topic).inc(
                    sum(1 for o in produced if o.topic == out_topic)
                )
        # Skipped when another group of the same topic owns its dead letters (one per record);
        # a record this group failed to process is its own to dead-letter.
        rejects = bad + untrusted if policy.invalid is InvalidRecords.DEAD_LETTER else []
        rejects += poisoned
        if rejects:
            await dead_letter(broker, rejects, service=self.service, group=group_id, topic=topic)
        if self.after is not None:
            for result in results:
                pending = self.after(result)
                if pending is not None:
                    await pending
        metrics.BATCH_SECONDS.labels(service=self.service).observe(time.perf_counter() - started)
        return results


def subscribe(
    router: KafkaRouter,
    topic: str,
    step: BatchStep[Any, Any],
    *,
    group_id: str,
    max_records: int,
    pattern: str | None = None,
    lag_every_s: float = LAG_EVERY_S,
) -> None:
    """Register ``step`` as the batch subscriber of ``topic`` in ``group_id`` on ``router``
    (or of every topic matching the regular expression ``pattern``; ``topic`` then names
    them in metrics).

    Reads from the start of the topic on a group's first run; commits offsets only when the
    step returned (``NACK_ON_ERROR``: an exception rewinds the batch for another attempt).
    The consumer's lag is exported from its first batch on, every ``lag_every_s`` seconds.
    """
    lag = LagWatch(service=step.service, group=group_id, every_s=lag_every_s)

    async def handle(records: Any, message: KafkaMessage, broker: KafkaBroker = Context()) -> None:
        lag.watch(message.consumer)
        await step.process(raw_records(message), broker=broker, topic=topic, group_id=group_id)

    handle.__name__ = handle.__qualname__ = f"{step.service}_{step.event.__name__}_{group_id}"
    where: dict[str, Any] = {"pattern": pattern} if pattern else {}
    router.subscriber(
        *(() if pattern else (topic,)),
        **where,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_records,
    )(handle)
