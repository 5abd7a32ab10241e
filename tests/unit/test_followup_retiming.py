"""What a follow-up's outcome does to a case's legal deadline (the deadline rules reused)."""

from __future__ import annotations

from datetime import date, timedelta

from services.registry.followups.retiming import clock_start, retime
from tests.support.factories import report
from vigie.contracts import Framework, ReportedOutcome, ReportKind, Severity
from vigie.rules.deadlines import assess

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


def test_a_near_miss_that_might_have_killed_keeps_its_fifteen_days() -> None:
    """The rules decide, not the follow-up: a near miss stays a near miss (MDR Art. 87(3))."""
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
    assert after.deadline == AWARE + timedelta(days=15)
