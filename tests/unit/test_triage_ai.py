"""Triage reads the AI part: a suggestion followed into the patient's care is serious evidence."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.factories import triaged
from vigie.contracts import ReportedOutcome, ReportKind, Severity
from vigie.rules.integrity import triage_violations

FOLLOWED = {"task": "dosing", "clinician_action": "followed", "patient_exposed": True}


def test_a_followed_suggestion_of_unknown_outcome_counts_as_serious() -> None:
    event = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION, outcome=ReportedOutcome.UNKNOWN, ai=FOLLOWED
    )
    assert event.triage.severity is Severity.SERIOUS
    assert event.triage.reported_severity is Severity.OTHER
    assert event.triage.needs_review
    assert any("followed into the patient's care" in r for r in event.triage.review_reasons)
    assert event.regulatory.serious_incident and event.regulatory.deadline is not None
    assert triage_violations(event, key=b"test") == []  # the registry accepts the reading


@pytest.mark.parametrize(
    ("outcome", "ai", "severity"),
    [
        (ReportedOutcome.UNKNOWN, {**FOLLOWED, "clinician_action": "partly_followed"}, "serious"),
        (ReportedOutcome.UNKNOWN, {**FOLLOWED, "patient_exposed": None}, "serious"),
        (ReportedOutcome.UNKNOWN, {**FOLLOWED, "clinician_action": "overrode"}, "other"),
        (ReportedOutcome.UNKNOWN, {**FOLLOWED, "clinician_action": "did_not_see"}, "other"),
        (ReportedOutcome.UNKNOWN, {**FOLLOWED, "patient_exposed": False}, "other"),
        (ReportedOutcome.UNKNOWN, None, "other"),
        (ReportedOutcome.NO_HARM, FOLLOWED, "malfunction"),  # the outcome is the better evidence
        (ReportedOutcome.DEATH, FOLLOWED, "death"),
    ],
)
def test_only_a_followed_output_that_reached_the_patient_is_evidence(
    outcome: ReportedOutcome, ai: dict[str, Any] | None, severity: str
) -> None:
    event = triaged(kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION, outcome=outcome, ai=ai)
    assert event.triage.severity.value == severity
    assert triage_violations(event, key=b"test") == []
