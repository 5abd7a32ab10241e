"""IMDRF Adverse Event Terminology codes that follow from what a report states, for the exports.

Codes and terms are those of IMDRF/AE WG/N43 (IMDRF terminologies for categorized Adverse
Event Reporting): Annex A "Medical Device Problem" release 2023 (approved 31 January 2023) and
Annex F "Health Effects - Health Impact" as used by the EU MIR form 7.3 (sections 3.2 and 3.3).
Only codes confirmed against those lists are mapped; a report property with no confirmed term
maps to none rather than to a guess:

- A11 "Computer Software Problem" (Annex A level 1, also what triage suggests; A1101 is
  "Application Network Problem", not the software term): a report of an inappropriate AI
  suggestion states that the AI, which is software, gave a wrong output. Annex A's level-1
  "Output Problem" would fit as well, but no source at hand names its code: it is left out
  until confirmed. Level-2 terms describe what was wrong with the output, which the report's
  fields do not say: left to the manufacturer's MIR.
- F02 "Death", F24 "Insufficient Information", F26 "No Health Consequences or Impact"
  (Annex F). The reporter's "serious deterioration" and "injury" are not coded: Annex F's terms
  for them grade the harm (minor, serious, unexpected), which the reporter did not assess and
  the platform never downgrades. An event that could not have reached the patient (a near miss,
  an AI output the patient was never exposed to) has no health impact to code.

The clinician's action, the AI's task and problems with its input data have no Annex A term:
they stay in the export's own code systems (the FHIR ``contributingFactor``, the CSV columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vigie.contracts import ReportedOutcome, ReportKind

SYSTEM = "https://www.imdrf.org/aet"
SOURCE = "IMDRF/AE WG/N43, Annex A release 2023, Annex F"


@dataclass(frozen=True)
class Term:
    """One IMDRF term."""

    annex: Literal["A", "F"]
    code: str
    term: str


SOFTWARE_PROBLEM = Term("A", "A11", "Computer Software Problem")
DEATH = Term("F", "F02", "Death")
INSUFFICIENT_INFORMATION = Term("F", "F24", "Insufficient Information")
NO_HEALTH_CONSEQUENCES = Term("F", "F26", "No Health Consequences or Impact")

_HEALTH_IMPACT = {
    ReportedOutcome.DEATH: DEATH,
    ReportedOutcome.UNKNOWN: INSUFFICIENT_INFORMATION,
    ReportedOutcome.NO_HARM: NO_HEALTH_CONSEQUENCES,
}


def device_problems(kind: ReportKind | str) -> list[Term]:
    """Annex A terms a report of ``kind`` states."""
    if ReportKind(kind) is ReportKind.INAPPROPRIATE_AI_SUGGESTION:
        return [SOFTWARE_PROBLEM]
    return []


def health_impacts(
    kind: ReportKind | str, outcome: ReportedOutcome | str, *, patient_exposed: bool | None
) -> list[Term]:
    """Annex F terms of the outcome a report states (none for an event that did not reach the
    patient, or an outcome Annex F would grade)."""
    if ReportKind(kind) is ReportKind.NEAR_MISS or patient_exposed is False:
        return []
    term = _HEALTH_IMPACT.get(ReportedOutcome(outcome))
    return [term] if term is not None else []


def codes(terms: list[Term]) -> str:
    """Codes as one CSV cell, e.g. ``A11;A1105``."""
    return ";".join(t.code for t in terms)
