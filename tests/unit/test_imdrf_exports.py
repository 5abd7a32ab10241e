"""IMDRF codes the exports derive from what a report states, and the FHIR AdverseEvent that
carries them (validated as FHIR R5)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fhir.resources.adverseevent import AdverseEvent

from services.registry.cases.models import CasePublic, CaseStatus
from services.registry.exports import imdrf
from services.registry.exports.service import fhir_adverse_event, mir_document
from tests.support.factories import triaged
from vigie.contracts import ReportedOutcome, ReportKind, ReportTriaged, Severity

K, Out = ReportKind, ReportedOutcome


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (K.INAPPROPRIATE_AI_SUGGESTION, ["A11"]),
        (K.ADVERSE_EVENT, []),
        (K.NEAR_MISS, []),
    ],
)
def test_device_problem_codes_follow_the_report_kind(kind: ReportKind, expected: list[str]) -> None:
    assert [t.code for t in imdrf.device_problems(kind)] == expected
    assert [t.code for t in imdrf.device_problems(kind.value)] == expected  # as stored


@pytest.mark.parametrize(
    ("kind", "outcome", "exposed", "expected"),
    [
        (K.ADVERSE_EVENT, Out.DEATH, None, ["F02"]),
        (K.INAPPROPRIATE_AI_SUGGESTION, Out.DEATH, True, ["F02"]),
        (K.ADVERSE_EVENT, Out.NO_HARM, None, ["F26"]),
        (K.ADVERSE_EVENT, Out.UNKNOWN, None, ["F24"]),
        # Annex F grades harm; the reporter did not, and the platform never downgrades.
        (K.ADVERSE_EVENT, Out.SERIOUS_DETERIORATION, None, []),
        (K.ADVERSE_EVENT, Out.INJURY, None, []),
        # Nothing reached the patient: no health impact to code.
        (K.NEAR_MISS, Out.DEATH, None, []),
        (K.INAPPROPRIATE_AI_SUGGESTION, Out.DEATH, False, []),
    ],
)
def test_health_impact_codes_follow_the_outcome_of_an_actual_event(
    kind: ReportKind, outcome: ReportedOutcome, exposed: bool | None, expected: list[str]
) -> None:
    terms = imdrf.health_impacts(kind, outcome, patient_exposed=exposed)
    assert [t.code for t in terms] == expected


def test_the_terms_are_the_imdrf_preferred_terms() -> None:
    assert {
        (t.annex, t.code, t.term)
        for t in (
            imdrf.SOFTWARE_PROBLEM,
            imdrf.DEATH,
            imdrf.INSUFFICIENT_INFORMATION,
            imdrf.NO_HEALTH_CONSEQUENCES,
        )
    } == {
        ("A", "A11", "Computer Software Problem"),
        ("F", "F02", "Death"),
        ("F", "F24", "Insufficient Information"),
        ("F", "F26", "No Health Consequences or Impact"),
    }
    assert imdrf.codes([imdrf.SOFTWARE_PROBLEM, imdrf.DEATH]) == "A11;F02"


def _case(*events: ReportTriaged) -> CasePublic:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    return CasePublic(
        case_id=uuid.uuid4(),
        status=CaseStatus.TRIAGED,
        status_reason=None,
        severity=Severity.DEATH,
        serious_incident=True,
        needs_review=False,
        deadline=None,
        days_left=None,
        overdue=False,
        device_name="Dose Helper",
        manufacturer="Acme",
        country="FR",
        category=None,
        merged_into=None,
        opened_at=now,
        updated_at=now,
        report_ids=[e.report.report_id for e in events],
    )


def test_the_fhir_adverse_event_carries_the_imdrf_codes() -> None:
    event = triaged(
        kind=K.INAPPROPRIATE_AI_SUGGESTION,
        outcome=Out.DEATH,
        ai={"task": "dosing", "clinician_action": "followed", "patient_exposed": True},
    )
    resource = fhir_adverse_event(_case(event), [event])
    AdverseEvent.model_validate(resource)  # a valid FHIR R5 AdverseEvent
    problems = [(c["system"], c["code"]) for c in resource["code"]["coding"]]
    assert problems[0] == (imdrf.SYSTEM, "A11")
    assert len({code for _, code in problems}) == len(problems)  # triage's A11 not repeated
    [outcome] = resource["outcome"]
    assert [(c["system"], c["code"]) for c in outcome["coding"]] == [
        ("http://terminology.hl7.org/CodeSystem/adverse-event-outcome", "fatal"),
        (imdrf.SYSTEM, "F02"),
    ]
    assert outcome["coding"][1]["display"] == "Death"


def test_a_report_stating_no_coded_term_adds_no_imdrf_coding() -> None:
    event = triaged(kind=K.NEAR_MISS, outcome=Out.SERIOUS_DETERIORATION, narrative="Nearly fell.")
    resource = fhir_adverse_event(_case(event), [event])
    AdverseEvent.model_validate(resource)
    assert [c["system"] for c in resource["outcome"][0]["coding"]] == [
        "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
    ]
    assert all(c["code"] != "F02" for c in resource["code"].get("coding", []))


def test_the_mir_document_lists_the_stated_codes_per_report() -> None:
    event = triaged(kind=K.INAPPROPRIATE_AI_SUGGESTION, outcome=Out.NO_HARM)
    document = mir_document(_case(event), [event], [])
    [entry] = document["3_incident_information"]["reports"]
    assert entry["stated_imdrf_device_problem_codes"] == [
        {"code": "A11", "term": "Computer Software Problem"},
    ]
    assert entry["stated_imdrf_health_impact_codes"] == [
        {"code": "F26", "term": "No Health Consequences or Impact"}
    ]
