"""Builders of valid events for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from services.triage.reports.service import TriagePolicy, triage_batch
from vigie.contracts import (
    DeviceRef,
    DriftDetected,
    Language,
    ReportedOutcome,
    ReporterRole,
    ReportFollowedUp,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
    SignalSeverity,
    utcnow,
)


def report(**overrides: object) -> ReportSubmitted:
    """A valid submitted report; keyword arguments replace fields."""
    report_id = overrides.pop("report_id", uuid.uuid4())
    data: dict[str, object] = {
        "report_id": report_id,
        "tracking_number": "VG-0000-0001",
        "kind": ReportKind.ADVERSE_EVENT,
        "reporter_role": ReporterRole.PHYSICIAN,
        "device": DeviceRef(name="Dev", manufacturer="Acme", model_version="1"),
        "awareness_date": date(2026, 3, 1),
        "outcome": ReportedOutcome.NO_HARM,
        "language": Language.EN,
        "narrative": "The software suggested a wrong dose.",
    }
    data.update(overrides)
    return ReportSubmitted.model_validate(data)


def triaged(**overrides: object) -> ReportTriaged:
    """A report triaged by the rules alone (no model)."""
    return triage_batch([report(**overrides)], classifier=None, key=b"test", policy=TriagePolicy())[
        0
    ]


def drift_signal(device: DeviceRef, **overrides: object) -> DriftDetected:
    """A high-severity drift of ``device``'s scores in the last hour; keyword arguments replace
    fields."""
    now = datetime.now(UTC).replace(microsecond=0)
    data: dict[str, object] = {
        "signal_id": uuid.uuid4(),
        "device": device,
        "detector": "psi",
        "subject": "score",
        "statistic": 0.9,
        "threshold": 0.25,
        "reference_window": (now - timedelta(hours=10), now - timedelta(hours=7)),
        "current_window": (now - timedelta(hours=1), now),
        "severity": SignalSeverity.HIGH,
        "summary": "scores drifted",
    }
    data.update(overrides)
    return DriftDetected.model_validate(data)


def linked(token_hash: str, **overrides: object) -> ReportTriaged:
    """A triaged report aware today with a status link (``token_hash``), from a device of
    Acme's: what a reporter follows up."""
    data: dict[str, object] = {
        "awareness_date": utcnow().date(),
        "status_token_hash": token_hash,
        "device": DeviceRef(name="Lung", manufacturer="Acme", model_version="1"),
    }
    data.update(overrides)
    return triaged(**data)


def followup(report: ReportTriaged, token_hash: str, **overrides: object) -> ReportFollowedUp:
    """A reporter's follow-up of ``report`` through its status link (``token_hash``, the
    SHA-256 of the link's secret): the patient died."""
    data: dict[str, object] = {
        "followup_id": uuid.uuid4(),
        "report_id": report.report.report_id,
        "tracking_number": report.report.tracking_number,
        "status_token_hash": token_hash,
        "language": Language.EN,
        "text": "The patient died two days later.",
        "outcome": ReportedOutcome.DEATH,
    }
    data.update(overrides)
    return ReportFollowedUp.model_validate(data)
