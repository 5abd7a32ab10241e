"""Safety rules of triage: the model may raise severity, never lower it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from services.triage.reports.service import TriagePolicy, decide, triage_batch
from tests.support.factories import report
from vigie.contracts import CodeSuggestion, ReportedOutcome, ReportKind, Severity

KEY = b"k"


@dataclass(frozen=True)
class Reading:
    severity: Severity
    confidence: float = 0.95
    severity_probabilities: dict[str, float] = field(default_factory=dict)
    category: str | None = None
    category_probability: float | None = None
    imdrf_codes: list[CodeSuggestion] = field(default_factory=list)


class FixedClassifier:
    """A classifier whose reading is given by the test (the rules are under test, not a model)."""

    version = "test-1"

    def __init__(self, readings: Sequence[Reading]) -> None:
        self.readings = list(readings)
        self.calls: list[list[str]] = []

    def predict(
        self, texts: Sequence[str], kinds: Sequence[ReportKind] | None = None
    ) -> list[Reading]:
        self.calls.append(list(texts))
        return self.readings[: len(texts)]


POLICY = TriagePolicy(review_confidence=0.6)


def test_reported_death_is_never_downgraded() -> None:
    result = decide(
        report(outcome=ReportedOutcome.DEATH),
        Reading(Severity.MALFUNCTION),
        model_version="m",
        policy=POLICY,
    )
    assert result.severity is Severity.DEATH
    assert result.model_severity is Severity.MALFUNCTION
    assert not result.needs_review


def test_worse_narrative_raises_severity_and_asks_for_review() -> None:
    result = decide(
        report(outcome=ReportedOutcome.NO_HARM),
        Reading(Severity.DEATH),
        model_version="m",
        policy=POLICY,
    )
    assert result.severity is Severity.DEATH
    assert result.needs_review
    assert result.review_reasons == ["narrative suggests death but reported outcome is no_harm"]


def test_low_confidence_goes_to_review() -> None:
    result = decide(
        report(), Reading(Severity.MALFUNCTION, confidence=0.41), model_version="m", policy=POLICY
    )
    assert result.severity is Severity.MALFUNCTION
    assert result.needs_review
    assert result.review_reasons == ["low model confidence (0.41)"]


def test_without_a_model_the_reported_outcome_decides() -> None:
    result = decide(
        report(outcome=ReportedOutcome.UNKNOWN), None, model_version=None, policy=POLICY
    )
    assert result.severity is Severity.OTHER
    assert result.model_version is None
    assert result.needs_review and result.review_reasons == ["outcome not reported"]


def test_batch_scrubs_calls_the_model_once_and_times_the_worse_reading() -> None:
    reports = [
        report(
            outcome=ReportedOutcome.NO_HARM,
            narrative="Patient IPP 55512345 died after the AI missed the bleed.",
        ),
        report(outcome=ReportedOutcome.NO_HARM, narrative="Wrong label shown, caught in time."),
    ]
    classifier = FixedClassifier([Reading(Severity.DEATH), Reading(Severity.MALFUNCTION)])
    out = triage_batch(reports, classifier=classifier, key=KEY, policy=POLICY)
    assert len(classifier.calls) == 1 and len(classifier.calls[0]) == 2
    assert "55512345" not in classifier.calls[0][0]
    assert "55512345" not in out[0].report.narrative
    death, harmless = out
    assert death.triage.severity is Severity.DEATH and death.triage.needs_review
    assert death.regulatory.obligations[0].days == 10
    assert death.triage.model_version == "test-1"
    assert harmless.triage.severity is Severity.MALFUNCTION
    assert not harmless.regulatory.serious_incident
