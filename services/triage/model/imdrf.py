"""IMDRF adverse-event terms suggested from a narrative: suggestions for a human, never facts.

Codes and terms are those of the IMDRF AET terminology (IMDRF/AE WG/N43), Annex A (medical device
problem) and Annex D (cause investigation, conclusion), release 2022:

- A11 "Computer Software Problem" (level 1; A1101 is "Application Network Problem", not the
  software term);
- A1105 "Computer System Security Problem" (level 2 under A11);
- D19 "Cause Traced to Artificial Intelligence Training/Validation Process" (added 27 January
  2022).

The project holds no IMDRF-coded reports, so nothing here is learned from coded data: each score
combines lexicon evidence (negated mentions do not count), the report kind and, for D19 and A1105,
the category model's probability, through a noisy-OR with fixed weights. The scores rank
suggestions; they are not calibrated probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vigie.contracts import CodeSuggestion


@dataclass(frozen=True)
class ImdrfTerm:
    """One IMDRF term the model may suggest."""

    annex: Literal["A", "D"]
    code: str
    term: str


SOFTWARE_PROBLEM = ImdrfTerm("A", "A11", "Computer Software Problem")
SECURITY_PROBLEM = ImdrfTerm("A", "A1105", "Computer System Security Problem")
AI_TRAINING_CAUSE = ImdrfTerm(
    "D", "D19", "Cause Traced to Artificial Intelligence Training/Validation Process"
)
TERMS = (SOFTWARE_PROBLEM, SECURITY_PROBLEM, AI_TRAINING_CAUSE)

# Weight of each piece of evidence in the noisy-OR.
_AI_REPORT = 0.5  # an inappropriate AI suggestion is, by definition, software output
_SOFTWARE_WORDS = 0.6  # software, firmware, algorithm, app, crash, froze, update, ...
_AI_OUTPUT_WORDS = 0.3  # score, prediction, model, classifier, generated, ...
_PRIVACY_WORDS = 0.6
_TRAINING_WORDS = 0.5  # training data, dataset, validation cohort, underrepresented, drift
_BIAS_WORDS = 0.3
_CATEGORY = 0.8  # multiplies the category model's probability


def _noisy_or(*evidence: float) -> float:
    missing = 1.0
    for e in evidence:
        missing *= 1.0 - min(max(e, 0.0), 1.0)
    return 1.0 - missing


def suggest(
    cues: frozenset[str],
    *,
    ai_report: bool,
    category_probabilities: Mapping[str, float] | None,
    threshold: float,
) -> list[CodeSuggestion]:
    """IMDRF suggestions for one narrative whose score reaches ``threshold``, best first.

    ``cues`` are the narrative's lexicon cues (``cue_software``, ``cue_privacy``, ...).
    """
    categories = category_probabilities or {}
    return list(
        _suggestions(
            ai_report,
            "cue_software" in cues,
            "cue_ai_output" in cues,
            "cue_privacy" in cues,
            "cue_training" in cues,
            "cue_bias" in cues,
            categories.get("privacy_or_security", 0.0),
            categories.get("bias_against_group", 0.0),
            threshold,
        )
    )


# The suggestions depend on these few values only: a report without a category (most of a
# batch) is one of a handful of cases, remembered rather than scored and built again. The
# suggestions are frozen, so sharing them between predictions is safe.
@lru_cache(maxsize=4096)
def _suggestions(
    ai_report: bool,
    software: bool,
    ai_output: bool,
    privacy: bool,
    training: bool,
    bias: bool,
    privacy_or_security: float,
    bias_against_group: float,
    threshold: float,
) -> tuple[CodeSuggestion, ...]:
    ai_context = ai_report or software or ai_output
    scores = {
        SOFTWARE_PROBLEM: _noisy_or(
            _AI_REPORT if ai_report else 0.0,
            _SOFTWARE_WORDS if software else 0.0,
            _AI_OUTPUT_WORDS if ai_output and ai_context else 0.0,
        ),
        SECURITY_PROBLEM: (
            _noisy_or(
                _PRIVACY_WORDS if privacy else 0.0,
                _CATEGORY * privacy_or_security,
            )
            if ai_context
            else 0.0
        ),
        AI_TRAINING_CAUSE: (
            _noisy_or(
                _TRAINING_WORDS if training else 0.0,
                _BIAS_WORDS if bias else 0.0,
                _CATEGORY * bias_against_group,
            )
            if ai_context
            else 0.0
        ),
    }
    out = [
        CodeSuggestion(annex=t.annex, code=t.code, term=t.term, probability=round(score, 4))
        for t, score in scores.items()
        if score >= threshold
    ]
    return tuple(sorted(out, key=lambda s: -s.probability))
