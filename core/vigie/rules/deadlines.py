"""Legal reading of a report: which reporting duties apply and by when.

Primary texts: EU MDR 2017/745 Art. 87 (serious incidents: 2, 10 or 15 days from awareness) and
Art. 88 (trend reporting); EU AI Act 2024/1689 Art. 73 (serious incidents of high-risk AI: 2, 10 or
15 days) with Art. 73(10) routing for AI that is a medical device; US 21 CFR 803.50 (30 days).
"""

from __future__ import annotations

from datetime import timedelta

from vigie.contracts import (
    Framework,
    RegulatoryAssessment,
    ReportedOutcome,
    ReportingObligation,
    ReportKind,
    ReportSubmitted,
    Severity,
)

# The worse of the reported outcome and the triage reading drives the deadline: a narrative that
# describes a death under a "no harm" outcome is timed as a death until a human decides.
_READING_OF_SEVERITY = {
    Severity.DEATH: ReportedOutcome.DEATH,
    Severity.SERIOUS: ReportedOutcome.SERIOUS_DETERIORATION,
}
_OUTCOME_RANK = [
    ReportedOutcome.DEATH,
    ReportedOutcome.SERIOUS_DETERIORATION,
    ReportedOutcome.INJURY,
    ReportedOutcome.UNKNOWN,
    ReportedOutcome.NO_HARM,
]


SEVERITY_OF_OUTCOME = {
    ReportedOutcome.DEATH: Severity.DEATH,
    ReportedOutcome.SERIOUS_DETERIORATION: Severity.SERIOUS,
    # An injury counts as serious until a human says otherwise: under-triage is the costly error.
    ReportedOutcome.INJURY: Severity.SERIOUS,
    ReportedOutcome.NO_HARM: Severity.MALFUNCTION,
    ReportedOutcome.UNKNOWN: Severity.OTHER,
}


def worse_outcome(first: ReportedOutcome, second: ReportedOutcome) -> ReportedOutcome:
    """The worse of two reported outcomes (death first, no harm last)."""
    return min(first, second, key=_OUTCOME_RANK.index)


def reading(outcome: ReportedOutcome, severity: Severity) -> ReportedOutcome:
    """The worse of the reported outcome and the outcome implied by the triage severity."""
    if severity.rank >= SEVERITY_OF_OUTCOME[outcome].rank:
        return outcome
    implied = _READING_OF_SEVERITY.get(severity, outcome)
    return min(outcome, implied, key=_OUTCOME_RANK.index)


def assess(report: ReportSubmitted, severity: Severity) -> RegulatoryAssessment:
    """Every reporting duty of ``report`` given its triage ``severity``, earliest first."""
    worst = reading(report.outcome, severity)
    start = report.awareness_date
    duties: list[tuple[Framework, str, int, str]] = []

    health_harm = worst in (
        ReportedOutcome.DEATH,
        ReportedOutcome.SERIOUS_DETERIORATION,
        ReportedOutcome.INJURY,
    )
    near_miss = report.kind is ReportKind.NEAR_MISS
    if report.is_medical_device:
        if report.public_health_threat:
            duties.append((Framework.EU_MDR, "Art. 87(4)", 2, "serious public health threat"))
        if health_harm and near_miss:
            duties.append(
                (
                    Framework.EU_MDR,
                    "Art. 87(3)",
                    15,
                    f"incident that might have led to {worst.value.replace('_', ' ')}",
                )
            )
        elif worst in (ReportedOutcome.DEATH, ReportedOutcome.SERIOUS_DETERIORATION):
            what = "death" if worst is ReportedOutcome.DEATH else "serious deterioration of health"
            duties.append((Framework.EU_MDR, "Art. 87(5)", 10, what))
        elif worst is ReportedOutcome.INJURY:
            duties.append(
                (
                    Framework.EU_MDR,
                    "Art. 87(3)",
                    15,
                    "injury: serious incident until assessed otherwise",
                )
            )
        if report.fundamental_rights_concern:
            duties.append(
                (
                    Framework.EU_AI_ACT,
                    "Art. 73(2)",
                    15,
                    "infringement of fundamental rights by AI that is a medical device "
                    "(Art. 73(10))",
                )
            )
    else:
        if report.public_health_threat:
            duties.append(
                (
                    Framework.EU_AI_ACT,
                    "Art. 73(3)",
                    2,
                    "widespread infringement or critical-infrastructure disruption",
                )
            )
        if worst is ReportedOutcome.DEATH and not near_miss:
            duties.append((Framework.EU_AI_ACT, "Art. 73(4)", 10, "death of a person"))
        elif health_harm or report.fundamental_rights_concern:
            why = "serious harm to health" if health_harm else "infringement of fundamental rights"
            duties.append((Framework.EU_AI_ACT, "Art. 73(2)", 15, why))

    if report.country == "US" and health_harm and report.is_medical_device:
        duties.append((Framework.US_FDA, "21 CFR 803.50", 30, "death or serious injury (MDR)"))

    obligations = sorted(
        (
            ReportingObligation(
                framework=framework,
                article=article,
                days=days,
                due_date=start + timedelta(days=days),
                reason=reason,
            )
            for framework, article, days, reason in duties
        ),
        key=lambda o: (o.due_date, o.framework.value),
    )
    serious = any(o.framework is not Framework.US_FDA for o in obligations)
    return RegulatoryAssessment(
        serious_incident=serious,
        clock_start=start,
        obligations=obligations,
        deadline=obligations[0].due_date if obligations else None,
        trend_reportable=not serious and report.is_medical_device,
    )
