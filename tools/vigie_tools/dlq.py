"""``vigie dlq replay``: after a fix, send dead letters back to the topic they came from.

Each dead letter carries its original bytes and key, and its source topic in the
``vigie-dlq-source-topic`` header (see :mod:`vigie.processing`). Replay re-publishes them there,
unchanged, with ``vigie-replayed-from`` naming the dead letter. It reads the dead-letter topic in
its own consumer group and commits after the broker acknowledged the re-published records, so
running it twice replays each dead letter once; the consumers de-duplicate on event ids anyway,
so a crash between the two repeats at most a replay, which they absorb.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from kafka import TopicPartition

from vigie.kafka import make_consumer, make_producer
from vigie.settings import CommonSettings
from vigie.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)

REPLAY_GROUP = "vigie-dlq-replay"


def replay(
    settings: CommonSettings, topic: str, *, reason: str | None = None, group: str = REPLAY_GROUP
) -> tuple[int, int]:
    """Re-publish the dead letters of ``topic`` not replayed yet by ``group`` (only those with
    ``reason`` when given); returns (replayed, skipped)."""
    source = topic.removesuffix(DLQ_SUFFIX)
    dlq = source + DLQ_SUFFIX
    consumer = make_consumer(
        settings,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        consumer_timeout_ms=int(settings.kafka_timeout_s * 1000),
    )
    producer = make_producer(settings, client_id="vigie-dlq-replay")
    replayed = skipped = 0
    try:
        partitions = consumer.partitions_for_topic(dlq) or set()
        if not partitions:
            return 0, 0
        assigned = [TopicPartition(dlq, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        end = consumer.end_offsets(assigned)
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            batches = consumer.poll(timeout_ms=int(settings.kafka_timeout_s * 1000))
            if not batches:
                break
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers or []}
                    if reason is not None and headers.get("vigie-dlq-reason") != reason:
                        skipped += 1
                        continue
                    target = headers.get("vigie-dlq-source-topic", source)
                    producer.send(
                        target,
                        value=record.value,
                        key=record.key,
                        headers=[
                            ("content-type", b"application/json"),
                            (
                                "vigie-replayed-from",
                                f"{dlq}/{record.partition}/{record.offset}".encode(),
                            ),
                        ],
                    )
                    replayed += 1
            producer.flush()  # acknowledged (acks=all) before the offsets move
            consumer.commit()
    finally:
        producer.close()
        consumer.close()
    return replayed, skipped


def _run(args: argparse.Namespace) -> int:
    replayed, skipped = replay(CommonSettings(), args.topic, reason=args.reason, group=args.group)
    sys.stdout.write(f"replayed {replayed}, skipped {skipped}\n")
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``vigie dlq replay TOPIC``."""
    parser = subparsers.add_parser("dlq", help="dead-letter topics")
    sub = parser.add_subparsers(dest="dlq_command", required=True)
    rep = sub.add_parser("replay", help="re-publish a topic's dead letters to where they came from")
    rep.add_argument("topic", help="the topic (or its .dlq topic) whose dead letters to replay")
    rep.add_argument("--reason", default=None, help="only dead letters with this reason")
    rep.add_argument("--group", default=REPLAY_GROUP, help="consumer group keeping the progress")
    rep.set_defaults(func=_run)
