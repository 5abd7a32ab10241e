"""Consumer lag: how many records each group has yet to process, per topic and partition.

Lag is the partition's end offset minus the group's committed offset (its beginning offset while
the group has committed nothing: a new group reads from the start). Committed, not fetched:
the subscriptions commit only once a batch's effects are durable (:mod:`vigie.processing`), so
a consumer stuck on a batch shows its lag growing even while its fetcher has read ahead.

Each consumer is watched by one task on its event loop, started with its first batch: a few
offset requests every period, never in the way of consumption. The gauge keeps only the
partitions the consumer holds now; after a rebalance the replica that took a partition over
reports it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from vigie import metrics

log = logging.getLogger(__name__)

# How often a consumer's lag is measured: Prometheus scrapes every 15 s (deploy/prometheus).
LAG_EVERY_S = 15.0


async def partition_lags(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Records between the group's committed offset and the end, per assigned partition."""
    assigned = sorted(consumer.assignment())
    if not assigned:
        return {}
    ends: dict[TopicPartition, int] = await consumer.end_offsets(assigned)
    committed: dict[TopicPartition, int | None] = {
        tp: await consumer.committed(tp) for tp in assigned
    }
    fresh = [tp for tp, offset in committed.items() if offset is None]
    starts: dict[TopicPartition, int] = await consumer.beginning_offsets(fresh) if fresh else {}
    return {
        tp: max(0, ends[tp] - (offset if offset is not None else starts[tp]))
        for tp, offset in committed.items()
    }


class LagWatch:
    """Exports ``vigie_consumer_lag`` for every consumer of one subscription (service, group)."""

    def __init__(self, *, service: str, group: str, every_s: float = LAG_EVERY_S) -> None:
        self.service = service
        self.group = group
        self.every_s = every_s
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()
        self._exported: set[tuple[str, int]] = set()

    def watch(self, consumer: Any) -> None:
        """Start measuring ``consumer`` (once; anything but a real aiokafka consumer, such as the
        in-memory test broker's, is ignored)."""
        if not isinstance(consumer, AIOKafkaConsumer) or consumer in self._watched:
            return
        self._watched.add(consumer)
        task = asyncio.get_running_loop().create_task(
            self._run(weakref.ref(consumer)), name=f"lag-{self.group}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, ref: weakref.ref[AIOKafkaConsumer]) -> None:
        while (consumer := ref()) is not None and not consumer._closed:
            try:
                self.export(await partition_lags(consumer))
            except (KafkaError, AssertionError) as exc:
                # A rebalance or a stopping consumer: measured again next period.
                log.debug("consumer lag not measured: %s: %s", type(exc).__name__, exc)
            del consumer
            await asyncio.sleep(self.every_s)
        self.export({})

    def export(self, lags: dict[TopicPartition, int]) -> None:
        """Set the gauge for ``lags`` and drop the partitions this consumer no longer holds."""
        now = {(tp.topic, tp.partition) for tp in lags}
        for topic, partition in self._exported - now:
            metrics.CONSUMER_LAG.remove(self.service, self.group, topic, str(partition))
        for tp, lag in lags.items():
            metrics.CONSUMER_LAG.labels(
                service=self.service, group=self.group, topic=tp.topic, partition=str(tp.partition)
            ).set(lag)
        self._exported = now
