"""Reviewers' decisions read back from Kafka, for the next training run."""

from __future__ import annotations

import logging

from vigie.contracts import TriageFeedback
from vigie.kafka import read_topic
from vigie.settings import CommonSettings

log = logging.getLogger(__name__)


def fetch_feedback(settings: CommonSettings, *, timeout_s: float = 10.0) -> list[TriageFeedback]:
    """Every decision on the feedback topic, oldest first; the last decision on a report wins
    (``TopicUnavailable`` when the topic cannot be read).

    Read up to the end offsets seen now: decisions made during training wait for the next run.
    """
    decisions, invalid = read_topic(
        settings, settings.topics.triage_feedback, TriageFeedback, timeout_s=timeout_s
    )
    if invalid:  # the registry wrote them: an invalid one is a bug to log
        log.warning("invalid feedback records skipped", extra={"count": invalid})
    latest = {str(d.report_id): d for d in decisions}
    return list(latest.values())
