"""What a follow-up's outcome does to a case's severity and legal deadline: the deadline rules
of :mod:`vigie.rules.deadlines` applied to the report as it now stands.

A worse outcome (the patient died later, an injury turned out serious) is a serious incident
the reporter became aware of when they learned of it: its duty is timed from that day (the
follow-up's ``awareness_date``, else the day it was sent; never before the report's own
awareness date), and the case takes the earlier of its current deadline and that duty's. A
deadline is never relaxed, and an outcome no worse than what is already known changes nothing:
lowering a severity is a reviewer's decision, not a follow-up's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vigie.contracts import RegulatoryAssessment, ReportedOutcome, ReportSubmitted, Severity
from vigie.rules.deadlines import SEVERITY_OF_OUTCOME, assess, reading, worse_outcome


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
    now = severity.worst(SEVERITY_OF_OUTCOME[outcome])
    later = report.model_copy(
        update={"outcome": outcome, "awareness_date": clock_start(report, aware_on=aware_on)}
    )
    assessment = assess(later, now)
    dates = [d for d in (deadline, assessment.deadline) if d is not None]
    return Retiming(
        severity=now,
        serious_incident=serious_incident or assessment.serious_incident,
        deadline=min(dates) if dates else None,
        assessment=assessment,
    )
