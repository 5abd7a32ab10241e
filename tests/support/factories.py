"""Builders of valid events for tests."""

from __future__ import annotations

import uuid
from datetime import date

from services.triage.reports.service import TriagePolicy, triage_batch
from vigie.contracts import (
    DeviceRef,
    Language,
    ReportedOutcome,
    ReporterRole,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
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
