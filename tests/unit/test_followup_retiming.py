"""What a follow-up's outcome does to a case's legal deadline (the deadline rules reused)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registry.followups.retiming import Retiming, as_it_stands, clock_start, retime
from tests.support.factories import report, triaged
from vigie.contracts import (
    AiInvolvement,
    AiTask,
    ClinicianAction,
    Framework,
    ReportedOutcome,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
    Severity,
)
from vigie.rules.deadlines import assess
from vigie.rules.evidence import ai_evidence

AWARE = date(2026, 3, 1)


def test_a_death_learned_later_makes_a_ten_day_case_from_the_day_it_was_learned() -> None:
    minor = report(outcome=ReportedOutcome.NO_HARM, awareness_date=AWARE)
    before = assess(minor, Severity.MALFUNCTION)
    assert before.deadline is None and not before.serious_incident
    learned = AWARE + timedelta(days=4)
    after = retime(
        minor,
        known=ReportedOutcome.NO_HARM,
        severity=Severity.MALFUNCTION,
        serious_incident=False,
        deadline=None,
        outcome=ReportedOutcome.DEATH,
        aware_on=learned,
    )
    assert after.worsened
    assert after.severity is Severity.DEATH and after.serious_incident
    assert after.deadline == learned + timedelta(days=10)
    assert after.assessment is not None
    mdr = [o for o in after.assessment.obligations if o.framework is Framework.EU_MDR]
    assert [(o.days, o.reason) for o in mdr] == [(10, "death")]


def test_an_injury_case_re_timed_to_ten_days_when_the_patient_dies() -> None:
    injury = report(outcome=ReportedOutcome.INJURY, awareness_date=AWARE)
    first = assess(injury, Severity.SERIOUS)
    assert first.deadline == AWARE + timedelta(days=15)
    after = retime(
        injury,
        known=ReportedOutcome.INJURY,
        severity=Severity.SERIOUS,
        serious_incident=True,
        deadline=first.deadline,
        outcome=ReportedOutcome.DEATH,
        aware_on=AWARE + timedelta(days=2),
    )
    assert after.deadline == AWARE + timedelta(days=12)
    assert after.severity is Severity.DEATH


def test_a_deadline_is_never_relaxed() -> None:
    """A death learned of late gives a later 10-day date than the running 15-day one: the
    earlier stays."""
    injury = report(outcome=ReportedOutcome.INJURY, awareness_date=AWARE)
    running = AWARE + timedelta(days=15)
    after = retime(
        injury,
        known=ReportedOutcome.INJURY,
        severity=Severity.SERIOUS,
        serious_incident=True,
        deadline=running,
        outcome=ReportedOutcome.DEATH,
        aware_on=AWARE + timedelta(days=9),
    )
    assert after.severity is Severity.DEATH
    assert after.deadline == running


def test_an_outcome_no_worse_than_known_changes_nothing() -> None:
    death = report(outcome=ReportedOutcome.DEATH, awareness_date=AWARE)
    deadline = AWARE + timedelta(days=10)
    for outcome in (ReportedOutcome.NO_HARM, ReportedOutcome.INJURY, ReportedOutcome.DEATH, None):
        after = retime(
            death,
            known=ReportedOutcome.DEATH,
            severity=Severity.DEATH,
            serious_incident=True,
            deadline=deadline,
            outcome=outcome,
            aware_on=AWARE + timedelta(days=1),
        )
        assert not after.worsened
        assert (after.severity, after.serious_incident, after.deadline) == (
            Severity.DEATH,
            True,
            deadline,
        )


def test_what_a_follow_up_already_said_counts_as_known() -> None:
    """A second follow-up repeating a death already recorded does not re-time again."""
    minor = report(outcome=ReportedOutcome.NO_HARM, awareness_date=AWARE)
    after = retime(
        minor,
        known=ReportedOutcome.DEATH,
        severity=Severity.DEATH,
        serious_incident=True,
        deadline=AWARE + timedelta(days=10),
        outcome=ReportedOutcome.DEATH,
        aware_on=AWARE + timedelta(days=5),
    )
    assert not after.worsened and after.deadline == AWARE + timedelta(days=10)


def test_a_serious_deterioration_after_an_injury_shortens_to_ten_days() -> None:
    injury = report(outcome=ReportedOutcome.INJURY, awareness_date=AWARE)
    after = retime(
        injury,
        known=ReportedOutcome.INJURY,
        severity=Severity.SERIOUS,
        serious_incident=True,
        deadline=AWARE + timedelta(days=15),
        outcome=ReportedOutcome.SERIOUS_DETERIORATION,
        aware_on=AWARE,
    )
    assert after.worsened and after.severity is Severity.SERIOUS
    assert after.deadline == AWARE + timedelta(days=10)


def test_the_clock_never_starts_before_the_incident_was_known() -> None:
    minor = report(outcome=ReportedOutcome.NO_HARM, awareness_date=AWARE)
    assert clock_start(minor, aware_on=AWARE - timedelta(days=3)) == AWARE
    after = retime(
        minor,
        known=ReportedOutcome.NO_HARM,
        severity=Severity.MALFUNCTION,
        serious_incident=False,
        deadline=None,
        outcome=ReportedOutcome.DEATH,
        aware_on=AWARE - timedelta(days=3),
    )
    assert after.deadline == AWARE + timedelta(days=10)


def test_a_near_miss_whose_patient_died_is_an_adverse_event_timed_to_ten_days() -> None:
    """The event did reach the patient: not "might have led to death" (MDR Art. 87(3), 15 days)
    but a death (Art. 87(5), 10 days)."""
    near = report(kind=ReportKind.NEAR_MISS, outcome=ReportedOutcome.NO_HARM, awareness_date=AWARE)
    after = retime(
        near,
        known=ReportedOutcome.NO_HARM,
        severity=Severity.MALFUNCTION,
        serious_incident=False,
        deadline=None,
        outcome=ReportedOutcome.DEATH,
        aware_on=AWARE,
    )
    assert after.severity is Severity.DEATH and after.serious_incident
    assert after.deadline == AWARE + timedelta(days=10)
    assert after.assessment is not None
    mdr = [o for o in after.assessment.obligations if o.framework is Framework.EU_MDR]
    assert [(o.article, o.days, o.reason) for o in mdr] == [("Art. 87(5)", 10, "death")]


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (ReportedOutcome.DEATH, ReportKind.ADVERSE_EVENT),
        (ReportedOutcome.SERIOUS_DETERIORATION, ReportKind.ADVERSE_EVENT),
        (ReportedOutcome.INJURY, ReportKind.ADVERSE_EVENT),
        (ReportedOutcome.UNKNOWN, ReportKind.NEAR_MISS),
        (ReportedOutcome.NO_HARM, ReportKind.NEAR_MISS),
    ],
)
def test_a_near_miss_is_re_read_only_when_a_follow_up_says_the_patient_was_harmed(
    outcome: ReportedOutcome, kind: ReportKind
) -> None:
    near = report(kind=ReportKind.NEAR_MISS, outcome=ReportedOutcome.NO_HARM)
    stands = as_it_stands(near, outcome)
    assert (stands.kind, stands.outcome) == (kind, outcome)
    assert as_it_stands(near, None) == near
    # Other kinds keep theirs.
    ai = report(kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION, outcome=ReportedOutcome.NO_HARM)
    assert as_it_stands(ai, outcome).kind is ReportKind.INAPPROPRIATE_AI_SUGGESTION


def test_an_injury_after_a_near_miss_is_a_fifteen_day_injury_not_a_potential_one() -> None:
    near = report(kind=ReportKind.NEAR_MISS, outcome=ReportedOutcome.NO_HARM, awareness_date=AWARE)
    after = retime(
        near,
        known=ReportedOutcome.NO_HARM,
        severity=Severity.MALFUNCTION,
        serious_incident=False,
        deadline=None,
        outcome=ReportedOutcome.INJURY,
        aware_on=AWARE,
    )
    assert after.assessment is not None
    mdr = [o for o in after.assessment.obligations if o.framework is Framework.EU_MDR]
    assert [o.reason for o in mdr] == ["injury: serious incident until assessed otherwise"]


def _followed_ai(action: ClinicianAction, *, exposed: bool | None = True) -> ReportSubmitted:
    return report(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        outcome=ReportedOutcome.NO_HARM,
        awareness_date=AWARE,
        ai=AiInvolvement(task=AiTask.DOSING, clinician_action=action, patient_exposed=exposed),
    )


def _outcome_now_unknown(minor: ReportSubmitted) -> tuple[Retiming, ReportTriaged]:
    """A no-harm AI report's case once a follow-up says the outcome is now unknown, beside
    what triage makes of a new report stating that outcome."""
    after = retime(
        minor,
        known=ReportedOutcome.NO_HARM,
        severity=Severity.MALFUNCTION,
        serious_incident=False,
        deadline=None,
        outcome=ReportedOutcome.UNKNOWN,
        aware_on=AWARE,
    )
    fresh = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        outcome=ReportedOutcome.UNKNOWN,
        awareness_date=AWARE,
        ai=minor.ai,
    )
    return after, fresh


def test_an_outcome_now_unknown_after_a_followed_ai_output_is_serious_as_triage_says() -> None:
    """Triage's rule for a new report (a followed AI output with an unknown outcome counts as
    serious) applies to the report a follow-up changed: same severity, same deadline."""
    followed = _followed_ai(ClinicianAction.FOLLOWED)
    after, fresh = _outcome_now_unknown(followed)
    assert ai_evidence(as_it_stands(followed, ReportedOutcome.UNKNOWN)) is not None
    assert after.severity is fresh.triage.severity is Severity.SERIOUS
    assert after.serious_incident and fresh.regulatory.serious_incident
    assert after.deadline == fresh.regulatory.deadline == AWARE + timedelta(days=10)


@pytest.mark.parametrize(
    ("action", "exposed"),
    [(ClinicianAction.OVERRODE, True), (ClinicianAction.FOLLOWED, False)],
)
def test_an_outcome_now_unknown_is_not_serious_when_the_ai_output_did_not_reach_care(
    action: ClinicianAction, exposed: bool
) -> None:
    ai = _followed_ai(action, exposed=exposed)
    after, fresh = _outcome_now_unknown(ai)
    assert after.severity is Severity.MALFUNCTION and fresh.triage.severity is Severity.OTHER
    assert not after.serious_incident and after.deadline is None
