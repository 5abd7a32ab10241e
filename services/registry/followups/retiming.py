"""What a follow-up's outcome does to a case's severity and legal deadline: the deadline rules
of :mod:`vigie.rules.deadlines` applied to the report as it now stands.

A worse outcome (the patient died later, an injury turned out serious) is a serious incident
the reporter became aware of when they learned of it: its duty is timed from that day (the
follow-up's ``awareness_date``, else the day it was sent; never before the report's own
awareness date), and the case takes the earlier of its current deadline and that duty's. A
deadline is never relaxed, and an outcome no worse than what is already known changes nothing:
lowering a severity is a reviewer's decision, not a follow-up's.

The report is re-read as it now stands (:func:`as_it_stands`) with the rules triage applies to a
new report: a near miss whose patient was later harmed is an adverse event (the event did reach
the patient), and an AI output followed into care with an outcome now unknown counts as serious.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vigie.contracts import (
    RegulatoryAssessment,
    ReportedOutcome,
    ReportKind,
    ReportSubmitted,
    Severity,
)
from vigie.rules.deadlines import SEVERITY_OF_OUTCOME, assess, reading, worse_outcome
from vigie.rules.evidence import ai_evidence

# Outcomes that say the event reached the patient: a near miss stating one was not a near miss.
_HARM = (ReportedOutcome.DEATH, ReportedOutcome.SERIOUS_DETERIORATION, ReportedOutcome.INJURY)


@dataclass(frozen=True)
class Retiming:
    """A case's severity, seriousness and deadline once a follow-up is taken into account."""

    severity: Severity
    serious_incident: bool
    deadline: date | None
    # The legal reading of the worse outcome, when the follow-up brought one.
    assessment: RegulatoryAssessment | None = None

    @property
    def worsened(self) -> bool:
        """The follow-up's outcome was worse than what was known."""
        return self.assessment is not None


def clock_start(report: ReportSubmitted, *, aware_on: date) -> date:
    """The day a worse outcome's clock starts: when the reporter learned of it, and never
    before they became aware of the incident itself."""
    return max(aware_on, report.awareness_date)


def as_it_stands(report: ReportSubmitted, followed_up: ReportedOutcome | None) -> ReportSubmitted:
    """``report`` as it now stands, ``followed_up`` the worst outcome its follow-ups stated (None
    when none did): the worse of the two outcomes, and a near miss whose patient a follow-up says
    was harmed re-read as an adverse event (the event did reach the patient)."""
    if followed_up is None:
        return report
    return report.model_copy(
        update={
            "outcome": worse_outcome(report.outcome, followed_up),
            "kind": kind_as_it_stands(report.kind, followed_up),
        }
    )


def kind_as_it_stands(kind: ReportKind, followed_up: ReportedOutcome) -> ReportKind:
    """The kind of a report a follow-up says ended in ``followed_up``: a near miss whose patient
    was harmed is an adverse event."""
    if kind is ReportKind.NEAR_MISS and followed_up in _HARM:
        return ReportKind.ADVERSE_EVENT
    return kind


def retime(
    report: ReportSubmitted,
    *,
    known: ReportedOutcome,
    severity: Severity,
    serious_incident: bool,
    deadline: date | None,
    outcome: ReportedOutcome | None,
    aware_on: date,
) -> Retiming:
    """The case of ``report`` (now at ``severity``, ``serious_incident`` and ``deadline``, its
    worst stated outcome so far ``known``) once a follow-up states ``outcome``, learned of on
    ``aware_on``."""
    unchanged = Retiming(severity, serious_incident, deadline)
    if outcome is None:
        return unchanged
    current = reading(known, severity)
    if worse_outcome(outcome, current) is current:
        return unchanged
    later = as_it_stands(report, outcome).model_copy(
        update={"awareness_date": clock_start(report, aware_on=aware_on)}
    )
    now = severity.worst(SEVERITY_OF_OUTCOME[outcome])
    # Triage's rule for a new report, applied to the report as it now stands.
    evidence = ai_evidence(later)
    if evidence is not None:
        now = now.worst(evidence[0])
    assessment = assess(later, now)
    dates = [d for d in (deadline, assessment.deadline) if d is not None]
    return Retiming(
        severity=now,
        serious_incident=serious_incident or assessment.serious_incident,
        deadline=min(dates) if dates else None,
        assessment=assessment,
    )
