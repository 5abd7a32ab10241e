"""The AI part of a report: its contract, the form's mapping, de-identification at ingest."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.common.deid import load_scrubber
from services.ingest.deps import Submitter
from services.ingest.form.views import field_errors, form_to_report
from services.ingest.reports.models import EXAMPLE_REPORT, ReportCreate
from services.ingest.reports.service import build_event, report_id_for
from services.ingest.settings import IngestSettings
from tests.support.factories import report, triaged
from vigie.contracts import (
    AgeBand,
    AiInvolvement,
    ClinicianAction,
    InputDataProblem,
    ReportSubmitted,
)
from vigie.rules.integrity import triage_violations

KEY = b"unit-test-key"

AI = {
    "task": "dosing",
    "output": "Give 10 mg/kg.",
    "output_confidence": 0.8,
    "clinician_action": "followed",
    "patient_exposed": True,
    "input_data_problems": ["wrong"],
    "patient_age_band": "80+",
    "patient_sex": "male",
}


def test_the_ai_part_is_optional_and_additive() -> None:
    earlier = ReportSubmitted.model_validate(report().model_dump(mode="json", exclude={"ai"}))
    assert earlier.ai is None
    full = report(ai=AI)
    assert full.ai is not None and full.ai.clinician_action is ClinicianAction.FOLLOWED
    assert full.ai.input_data_problems == [InputDataProblem.WRONG]
    assert full.ai.patient_age_band is AgeBand.FROM_80
    assert ReportSubmitted.model_validate_json(full.model_dump_json()) == full


@pytest.mark.parametrize(
    "change",
    [
        {"output": "Give\x00 10 mg"},
        {"output": "x" * 2001},
        {"output_confidence": 1.5},
        {"output_confidence": -0.1},
        {"input_data_problems": ["wrong", "wrong"]},
        {"clinician_action": "ignored"},
        {"patient_age_band": "81"},
        {"task": "surgery"},
    ],
)
def test_the_ai_part_refuses_what_it_cannot_carry(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AiInvolvement.model_validate({**AI, **change})
    with pytest.raises(ValidationError) as refused:
        ReportCreate.model_validate({**EXAMPLE_REPORT, "ai": {**AI, **change}})
    assert all(error["loc"][0] == "ai" for error in refused.value.errors())


def test_ingest_refuses_unknown_fields_in_the_ai_part() -> None:
    with pytest.raises(ValidationError):
        ReportCreate.model_validate({**EXAMPLE_REPORT, "ai": {**AI, "model_weights": "x"}})


FORM = {
    "lang": "fr",
    "kind": "inappropriate_ai_suggestion",
    "reporter_role": "physician",
    "device_name": "Lung Nodule AI",
    "device_manufacturer": "Acme Imaging",
    "device_model_version": "3.1",
    "awareness_date": "2026-11-20",
    "outcome": "serious_deterioration",
    "narrative": "Le logiciel n'a pas signalé un nodule de 14 mm ; diagnostic retardé.",
    "ai_task": "detection",
    "ai_output": "Aucun nodule.",
    "ai_output_confidence": "93,5",
    "ai_clinician_action": "followed",
    "ai_patient_exposed": "yes",
    "ai_input_missing": "on",
    "ai_input_out_of_intended_population": "on",
    "ai_patient_age_band": "65-79",
    "ai_patient_sex": "female",
}


def test_the_form_sends_the_ai_part_of_an_ai_suggestion() -> None:
    created = ReportCreate.model_validate(form_to_report(FORM, "fr"))
    assert created.ai is not None
    assert created.ai.output_confidence == pytest.approx(0.935)
    assert created.ai.patient_exposed is True
    assert created.ai.input_data_problems == [
        InputDataProblem.MISSING,
        InputDataProblem.OUT_OF_INTENDED_POPULATION,
    ]
    assert created.ai.patient_sex is not None and created.ai.patient_sex.value == "female"
    unknown = ReportCreate.model_validate(form_to_report({**FORM, "ai_patient_exposed": ""}, "fr"))
    assert unknown.ai is not None and unknown.ai.patient_exposed is None
    nothing = {k: v for k, v in FORM.items() if not k.startswith("ai_")}
    assert ReportCreate.model_validate(form_to_report(nothing, "fr")).ai is None


def test_the_form_drops_the_hidden_ai_part_of_another_kind() -> None:
    adverse = ReportCreate.model_validate(form_to_report({**FORM, "kind": "adverse_event"}, "fr"))
    assert adverse.ai is None


@pytest.mark.parametrize(
    ("lang", "message"),
    [("fr", "Un pourcentage entre 0 et 100."), ("en", "A percentage from 0 to 100.")],
)
@pytest.mark.parametrize("typed", ["beaucoup", "150", "-3"])
def test_a_confidence_that_is_no_percentage_is_named_in_the_form_language(
    typed: str, lang: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        ReportCreate.model_validate(form_to_report({**FORM, "ai_output_confidence": typed}, lang))
    assert field_errors(refused.value, lang) == {"ai_output_confidence": message}


def test_form_errors_in_the_ai_part_name_the_form_field() -> None:
    with pytest.raises(ValidationError) as refused:
        ReportCreate.model_validate(form_to_report({**FORM, "ai_output": "a\x07b"}, "en"))
    assert set(field_errors(refused.value, "en")) == {"ai_output"}


def test_the_event_carries_the_ai_output_scrubbed() -> None:
    created = ReportCreate.model_validate(
        {**EXAMPLE_REPORT, "ai": {**AI, "output": "Patient IPP 40012345: give 10 mg/kg."}}
    )
    event = build_event(
        created, report_id=report_id_for(None, scope="", fingerprint="f", key=KEY), key=KEY
    )
    assert event.ai is not None and event.ai.output is not None
    assert "40012345" not in event.ai.output and "10 mg/kg" in event.ai.output
    assert event.ai.clinician_action is ClinicianAction.FOLLOWED


def test_the_shared_scrubber_de_identifies_the_ai_output_at_ingest() -> None:
    settings = IngestSettings()
    submitter = Submitter(settings, None, None, load_scrubber())  # type: ignore[arg-type]
    created = ReportCreate.model_validate(
        {
            **EXAMPLE_REPORT,
            "language": "fr",
            "ai": {
                **AI,
                "output": "Mme Jeanne ROUSSEAU, née le 12/03/1947 : donner 10 mg/kg, "
                "rappeler au 06 12 34 56 78.",
            },
        }
    )
    scrubbed = asyncio.run(submitter._scrubbed(created))
    assert scrubbed.ai is not None and scrubbed.ai.output is not None
    for identifier in ("ROUSSEAU", "12/03/1947", "06 12 34 56 78"):
        assert identifier not in scrubbed.ai.output
    assert "10 mg/kg" in scrubbed.ai.output
    assert scrubbed.ai.model_dump(exclude={"output"}) == AiInvolvement.model_validate(
        AI
    ).model_dump(exclude={"output"})


def test_a_scrubbed_ai_output_that_grows_too_long_is_a_field_error() -> None:
    settings = IngestSettings()
    submitter = Submitter(settings, None, None, load_scrubber())  # type: ignore[arg-type]
    many = " ".join(["IPP 40012345"] * 150)  # 1,949 characters, longer once replaced
    created = ReportCreate.model_validate({**EXAMPLE_REPORT, "ai": {**AI, "output": many}})
    with pytest.raises(RequestValidationError) as refused:
        asyncio.run(submitter._scrubbed(created))
    assert [e["loc"] for e in refused.value.errors()] == [("body", "ai", "output")]


def test_the_registry_refuses_an_ai_output_left_unscrubbed() -> None:
    clean = triaged(ai=AI)
    assert clean.report.ai is not None
    forged = clean.report.ai.model_copy(update={"output": "Call IPP 40012345."})
    event = clean.model_copy(update={"report": clean.report.model_copy(update={"ai": forged})})
    problems = triage_violations(event, key=b"test")
    assert any("AI's output" in p for p in problems)
    assert triage_violations(triaged(ai=AI), key=b"test") == []


def test_triage_scrubs_the_ai_output_again() -> None:
    event = triaged(ai={**AI, "output": "Call 06 12 34 56 78 about IPP 40012345."})
    assert event.report.ai is not None and event.report.ai.output is not None
    assert "40012345" not in event.report.ai.output
    assert triage_violations(event, key=b"test") == []
