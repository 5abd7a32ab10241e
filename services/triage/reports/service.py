"""Triage of incident reports: severity under safety rules, legal deadline, pseudonymisation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from vigie.contracts import (
    CodeSuggestion,
    ReportedOutcome,
    ReportKind,
    ReportSubmitted,
    ReportTriaged,
    Severity,
    TriageResult,
)
from vigie.rules.deadlines import SEVERITY_OF_OUTCOME, assess
from vigie.rules.evidence import ai_evidence
from vigie.rules.privacy import scrub


class Prediction(Protocol):
    """What triage needs from a classifier's reading of one narrative."""

    @property
    def severity(self) -> Severity: ...
    @property
    def severity_probabilities(self) -> dict[str, float]: ...
    @property
    def confidence(self) -> float: ...
    @property
    def category(self) -> str | None: ...
    @property
    def category_probability(self) -> float | None: ...
    @property
    def imdrf_codes(self) -> list[CodeSuggestion]: ...


class Classifier(Protocol):
    """A versioned batch classifier of narratives."""

    @property
    def version(self) -> str: ...

    def predict(
        self, texts: Sequence[str], kinds: Sequence[ReportKind] | None = None
    ) -> Sequence[Prediction]: ...


@dataclass(frozen=True)
class TriagePolicy:
    """Knobs of the safety rules."""

    review_confidence: float = 0.6


def decide(
    report: ReportSubmitted,
    prediction: Prediction | None,
    *,
    model_version: str | None,
    policy: TriagePolicy,
) -> TriageResult:
    """Final severity and review flag for one report.

    The reported outcome is a floor: the model may raise severity (and then a human must confirm)
    but never lower it.
    """
    reported = SEVERITY_OF_OUTCOME[report.outcome]
    reasons: list[str] = []
    if report.outcome is ReportedOutcome.UNKNOWN:
        reasons.append("outcome not reported")
    evidence = ai_evidence(report)
    if evidence is not None:
        reasons.append(evidence[1])
    floor = reported.worst(evidence[0]) if evidence is not None else reported
    if prediction is None:
        return TriageResult(
            severity=floor,
            reported_severity=reported,
            needs_review=bool(reasons),
            review_reasons=reasons,
            model_version=None,
        )
    severity = floor.worst(prediction.severity)
    if severity is not floor:
        reasons.append(
            f"narrative suggests {prediction.severity.value} but reported outcome is "
            f"{report.outcome.value}"
        )
    if prediction.confidence < policy.review_confidence:
        reasons.append(f"low model confidence ({prediction.confidence:.2f})")
    return TriageResult(
        severity=severity,
        reported_severity=reported,
        model_severity=prediction.severity,
        severity_probabilities=prediction.severity_probabilities,
        category=prediction.category,
        category_probability=prediction.category_probability,
        imdrf_codes=prediction.imdrf_codes,
        confidence=prediction.confidence,
        needs_review=bool(reasons),
        review_reasons=reasons,
        model_version=model_version,
    )


def _scrubbed(report: ReportSubmitted, *, key: bytes) -> ReportSubmitted:
    """``report`` with the patterns scrubbed again from its free text: the narrative and the
    AI's output."""
    update: dict[str, object] = {"narrative": scrub(report.narrative, key=key)}
    if report.ai is not None and report.ai.output:
        update["ai"] = report.ai.model_copy(update={"output": scrub(report.ai.output, key=key)})
    return report.model_copy(update=update)


def triage_batch(
    reports: Sequence[ReportSubmitted],
    *,
    classifier: Classifier | None,
    key: bytes,
    policy: TriagePolicy,
) -> list[ReportTriaged]:
    """Triage a batch: one vectorised model call, then the rules report by report."""
    # Only ingest's principal may write the reports topic, and ingest de-identifies the free
    # text with the language model (services.common.deid); the label, number and contact
    # patterns are applied again here, the check the registry repeats on the triaged topic.
    clean = [_scrubbed(r, key=key) for r in reports]
    predictions: Sequence[Prediction | None]
    if classifier is None or not clean:
        predictions = [None] * len(clean)
        version = None
    else:
        predictions = classifier.predict([r.narrative for r in clean], [r.kind for r in clean])
        version = classifier.version
    out = []
    for report, prediction in zip(clean, predictions, strict=True):
        result = decide(report, prediction, model_version=version, policy=policy)
        out.append(
            ReportTriaged(report=report, triage=result, regulatory=assess(report, result.severity))
        )
    return out
