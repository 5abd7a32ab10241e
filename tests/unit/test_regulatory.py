"""Legal deadlines computed from the reported outcome, awareness date and routing rules."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.factories import report
from vigie.contracts import Framework, ReportedOutcome, ReportKind, Severity
from vigie.rules.deadlines import assess, reading

AWARE = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("outcome", "severity", "article", "days"),
    [
        (ReportedOutcome.DEATH, Severity.DEATH, "Art. 87(5)", 10),
        (ReportedOutcome.SERIOUS_DETERIORATION, Severity.SERIOUS, "Art. 87(5)", 10),
        (ReportedOutcome.INJURY, Severity.SERIOUS, "Art. 87(3)", 15),
        # The narrative reads worse than the reported outcome: the worse reading sets the clock.
        (ReportedOutcome.NO_HARM, Severity.DEATH, "Art. 87(5)", 10),
    ],
)
def test_mdr_deadlines(
    outcome: ReportedOutcome, severity: Severity, article: str, days: int
) -> None:
    result = assess(report(outcome=outcome), severity)
    assert result.serious_incident
    assert [(o.framework, o.article, o.days) for o in result.obligations] == [
        (Framework.EU_MDR, article, days)
    ]
    assert result.deadline == date(2026, 3, 1 + days)
    assert result.clock_start == AWARE


def test_public_health_threat_is_two_days_and_comes_first() -> None:
    result = assess(
        report(outcome=ReportedOutcome.DEATH, public_health_threat=True), Severity.DEATH
    )
    assert [(o.article, o.days) for o in result.obligations] == [
        ("Art. 87(4)", 2),
        ("Art. 87(5)", 10),
    ]
    assert result.deadline == date(2026, 3, 3)


def test_no_harm_is_not_serious_but_counts_for_trends() -> None:
    result = assess(report(), Severity.MALFUNCTION)
    assert not result.serious_incident
    assert result.obligations == []
    assert result.deadline is None
    assert result.trend_reportable


def test_near_miss_that_might_have_killed_is_fifteen_days() -> None:
    result = assess(report(kind=ReportKind.NEAR_MISS), Severity.DEATH)
    assert [(o.article, o.days) for o in result.obligations] == [("Art. 87(3)", 15)]


def test_ai_medical_device_health_harm_goes_through_mdr_only() -> None:
    """AI Act Art. 73(10): only fundamental-rights incidents of AI medical devices."""
    result = assess(report(outcome=ReportedOutcome.DEATH), Severity.DEATH)
    assert {o.framework for o in result.obligations} == {Framework.EU_MDR}
    rights = assess(report(fundamental_rights_concern=True), Severity.MALFUNCTION)
    assert [(o.framework, o.article, o.days) for o in rights.obligations] == [
        (Framework.EU_AI_ACT, "Art. 73(2)", 15)
    ]
    assert "73(10)" in rights.obligations[0].reason


@pytest.mark.parametrize(
    ("outcome", "threat", "article", "days"),
    [
        (ReportedOutcome.DEATH, False, "Art. 73(4)", 10),
        (ReportedOutcome.SERIOUS_DETERIORATION, False, "Art. 73(2)", 15),
        (ReportedOutcome.NO_HARM, True, "Art. 73(3)", 2),
    ],
)
def test_ai_act_for_ai_that_is_not_a_medical_device(
    outcome: ReportedOutcome, threat: bool, article: str, days: int
) -> None:
    result = assess(
        report(outcome=outcome, is_medical_device=False, public_health_threat=threat),
        Severity.OTHER,
    )
    assert (
        result.obligations[0].framework,
        result.obligations[0].article,
        result.obligations[0].days,
    ) == (Framework.EU_AI_ACT, article, days)
    assert not result.trend_reportable


def test_us_reports_add_the_fda_thirty_days() -> None:
    result = assess(report(outcome=ReportedOutcome.DEATH, country="US"), Severity.DEATH)
    assert [(o.framework, o.days) for o in result.obligations] == [
        (Framework.EU_MDR, 10),
        (Framework.US_FDA, 30),
    ]


def test_reading_never_improves_on_the_reported_outcome() -> None:
    assert reading(ReportedOutcome.DEATH, Severity.MALFUNCTION) is ReportedOutcome.DEATH
    assert reading(ReportedOutcome.NO_HARM, Severity.SERIOUS) is (
        ReportedOutcome.SERIOUS_DETERIORATION
    )
    assert reading(ReportedOutcome.INJURY, Severity.OTHER) is ReportedOutcome.INJURY
