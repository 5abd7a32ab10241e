"""What a report's AI part says of its severity: the rule triage applies to a new report and the
registry to a report a follow-up changed, so that the two cannot disagree."""

from __future__ import annotations

from vigie.contracts import ClinicianAction, ReportedOutcome, ReportSubmitted, Severity

# What the clinician did that put the AI's output into the patient's care.
ACTED_ON = (ClinicianAction.FOLLOWED, ClinicianAction.PARTLY_FOLLOWED)


def ai_evidence(report: ReportSubmitted) -> tuple[Severity, str] | None:
    """What the AI part of a report says of its severity, with the reason, if anything.

    An AI output that the clinician followed (wholly or in part) into the patient's care, in a
    report whose outcome is unknown, is evidence of a serious incident: it counts as serious
    until a reviewer says otherwise, as an injury does. With a known outcome the outcome is the
    better evidence (and the floor).
    """
    ai = report.ai
    if (
        ai is None
        or ai.clinician_action not in ACTED_ON
        or ai.patient_exposed is False
        or report.outcome is not ReportedOutcome.UNKNOWN
    ):
        return None
    return Severity.SERIOUS, (
        "an AI suggestion was followed into the patient's care and the outcome is unknown"
    )
