"""Reviewers' decisions read back from Kafka, for the next training run."""

from __future__ import annotations

import logging

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from vigie.contracts import TriageFeedback
from vigie.settings import CommonSettings

log = logging.getLogger(__name__)


class FeedbackUnavailable(Exception):
    """The feedback topic could not be read."""


def fetch_feedback(settings: CommonSettings, *, timeout_s: float = 10.0) -> list[TriageFeedback]:
    """Every decision on the feedback topic, oldest first; the last decision on a report wins.

    The topic is read from the beginning without a consumer group: training needs all of it,
    every time, and must not move anybody's offsets.
    """
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=int(timeout_s * 1000) + 1000,
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as exc:
        raise FeedbackUnavailable(
            f"Kafka unreachable at {settings.kafka_bootstrap_servers}"
        ) from exc
    topic = settings.topics.triage_feedback
    latest: dict[str, TriageFeedback] = {}
    skipped = 0
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return []
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        # Read up to the end offsets seen now: decisions made during training wait for the next.
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            batches = consumer.poll(timeout_ms=int(timeout_s * 1000))
            if not batches:
                raise FeedbackUnavailable(f"no progress reading {topic} in {timeout_s} s")
            for records in batches.values():
                for record in records:
                    try:
                        decision = TriageFeedback.model_validate_json(record.value)
                    except ValidationError:
                        skipped += 1  # the registry wrote it: an invalid one is a bug to log
                        continue
                    latest[str(decision.report_id)] = decision
    except KafkaError as exc:
        raise FeedbackUnavailable(str(exc)) from exc
    finally:
        consumer.close()
    if skipped:
        log.warning("invalid feedback records skipped", extra={"count": skipped})
    return list(latest.values())
