"""The one place that names Kafka topics, with their settings and contracts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel

from vigie.contracts import (
    Alert,
    AuditCheckpoint,
    DriftDetected,
    DriftMonitorState,
    ReportFollowedUp,
    ReportSubmitted,
    ReportTriaged,
    TelemetryWindow,
    TriageFeedback,
)

DLQ_SUFFIX = ".dlq"

# The services' Kafka principals (SASL/SCRAM users). Operators use `vigie-admin`; devices and
# regulators get principals of their own from `vigie kafka credentials`.
INGEST = "vigie-ingest"
TRIAGE = "vigie-triage"
REGISTRY = "vigie-registry"
SERVICE_PRINCIPALS = (INGEST, TRIAGE, REGISTRY)

# Consumer-group prefixes bound to the principal that may use them.
GROUP_PREFIXES = {TRIAGE: ("vigie-triage", "vigie-drift"), REGISTRY: ("vigie-registry",)}


@dataclass(frozen=True)
class TopicSpec:
    """A topic, the event it carries and how it is created."""

    name: str
    event: type[BaseModel]
    description: str
    partitions: int = 3
    config: dict[str, str] = field(default_factory=dict)
    # Least privilege: the principals that may write the topic, and those that may read it.
    # A consumer trusts a topic as much as its writers, no more. The dead-letter topic is
    # written by the readers (they dead-letter what they cannot process) and read by operators.
    writers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()

    @property
    def dlq(self) -> str:
        """Dead-letter topic for messages of this topic that cannot be processed."""
        return self.name + DLQ_SUFFIX


# Vigilance data must outlive any consumer outage: keep it for a year on the broker; the
# registry is the system of record, the topics are the replayable log in front of it.
_YEAR_MS = str(365 * 24 * 3600 * 1000)
_KEEP = {"retention.ms": _YEAR_MS, "cleanup.policy": "delete"}

REPORTS = TopicSpec(
    "vigie.reports.v1",
    ReportSubmitted,
    "Incident reports as submitted by clinicians, correspondents and manufacturers; "
    "key: report_id.",
    config=_KEEP,
    writers=(INGEST,),
    readers=(TRIAGE,),
)
REPORTS_TRIAGED = TopicSpec(
    "vigie.reports.triaged.v1",
    ReportTriaged,
    "Reports with severity, category, codes and legal deadline from triage; key: report_id.",
    config=_KEEP,
    writers=(TRIAGE,),
    readers=(REGISTRY,),
)
REPORT_FOLLOWUPS = TopicSpec(
    "vigie.reports.followups.v1",
    ReportFollowedUp,
    "Information reporters add to their reports through the status link (text scrubbed, the "
    "outcome if it changed); key: report_id.",
    config=_KEEP,
    writers=(INGEST,),
    readers=(REGISTRY,),
)
TELEMETRY = TopicSpec(
    "vigie.telemetry.v1",
    TelemetryWindow,
    "Telemetry windows reported by AI device software (directly with a device credential, or "
    "relayed by ingest) and by triage about its own classifier; key: device and model version.",
    partitions=6,
    config={"retention.ms": str(90 * 24 * 3600 * 1000)},
    writers=(INGEST, TRIAGE),
    readers=(TRIAGE, REGISTRY),
)
ALERTS = TopicSpec(
    "vigie.alerts.v1",
    Alert,
    "Alerts for regulators, derived from committed registry state; key: case or signal id.",
    config=_KEEP,
    writers=(REGISTRY,),
    readers=(),
)

TRIAGE_FEEDBACK = TopicSpec(
    "vigie.triage.feedback.v1",
    TriageFeedback,
    "Reviewers' decisions on triaged reports, for the next training run; key: report_id.",
    partitions=1,
    config=_KEEP,
    writers=(REGISTRY,),
    readers=(),
)

SIGNALS = TopicSpec(
    "vigie.signals.v1",
    DriftDetected,
    "Drift and statistical signals about devices; key: device and model version.",
    config=_KEEP,
    writers=(TRIAGE,),
    readers=(REGISTRY,),
)

AUDIT_CHECKPOINTS = TopicSpec(
    "vigie.audit.checkpoints.v1",
    AuditCheckpoint,
    "Heads of the registry's audit chain, an outside witness that `vigie audit verify` checks "
    "the chain against, so that removing its newest records or rewriting it is detected; "
    "key: registry.",
    partitions=1,
    config={"retention.ms": "-1", "cleanup.policy": "delete"},
    writers=(REGISTRY,),
    readers=(),
)

DRIFT_STATE = TopicSpec(
    "vigie.drift.state.v1",
    DriftMonitorState,
    "Drift monitor state per device and model version, compacted: the triage instance that "
    "reads a device's telemetry next carries on from it. Key: device and model version for the "
    "live state (this contract: latches, error rates, the stream detector's state); that key, "
    "U+001F, ref, U+001F, generation, U+001F, n for the reference's n-th window (a "
    "DriftReference, written once); that key, U+001F, seen, U+001F, window id for a window "
    "taken (empty, or the DriftDetected it raised). A key holds one kind of record only.",
    partitions=1,
    config={"cleanup.policy": "compact", "max.message.bytes": str(8 * 1024 * 1024)},
    writers=(TRIAGE,),
    readers=(TRIAGE,),
)

ALL: tuple[TopicSpec, ...] = (
    REPORTS,
    REPORTS_TRIAGED,
    REPORT_FOLLOWUPS,
    TELEMETRY,
    SIGNALS,
    ALERTS,
    TRIAGE_FEEDBACK,
    AUDIT_CHECKPOINTS,
    DRIFT_STATE,
)


# Device software writes with its manufacturer's own principal to a topic of its own,
# ``vigie.telemetry.v1.device.<manufacturer slug>``: the topic a window arrives on says who
# wrote it, so consumers accept from it only that manufacturer's devices. ``vigie.telemetry.v1``
# itself is written by ingest (which checked the sender's token) and triage only.
DEVICE_TELEMETRY_INFIX = ".device."


def slug(text: str) -> str:
    """Lower-case letters, digits and dashes: safe in a principal, a topic and a file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def device_telemetry_topic(telemetry_topic: str, manufacturer: str) -> str:
    """The topic a manufacturer's devices write their windows to."""
    return f"{telemetry_topic}{DEVICE_TELEMETRY_INFIX}{slug(manufacturer)}"


def telemetry_pattern(telemetry_topic: str) -> str:
    """Regular expression of the telemetry topic and every device telemetry topic (not their
    dead-letter topics)."""
    return f"^{re.escape(telemetry_topic)}({re.escape(DEVICE_TELEMETRY_INFIX)}[a-z0-9-]+)?$"


def writer_manufacturer(telemetry_topic: str, topic: str) -> str | None:
    """The manufacturer slug ``topic`` belongs to, or None for the shared telemetry topic."""
    prefix = telemetry_topic + DEVICE_TELEMETRY_INFIX
    return topic[len(prefix) :] if topic.startswith(prefix) else None


def all_topic_names() -> list[str]:
    """Every topic the platform needs, dead-letter topics included."""
    return [name for spec in ALL for name in (spec.name, spec.dlq)]
