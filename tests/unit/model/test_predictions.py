"""What the shipped model reads in English and French narratives."""

from __future__ import annotations

import pytest

from services.triage.model import TriageModel
from services.triage.reports.service import TriagePolicy, decide
from tests.support.factories import report
from vigie.contracts import ReportedOutcome, ReportKind, Severity

AE = ReportKind.ADVERSE_EVENT
AI = ReportKind.INAPPROPRIATE_AI_SUGGESTION

CASES = [
    ("The patient died after the ventilator stopped during the night.", Severity.DEATH),
    ("Le patient est décédé après l'arrêt du ventilateur pendant la nuit.", Severity.DEATH),
    (
        "The hip implant fractured; the patient underwent revision surgery and was hospitalised.",
        Severity.SERIOUS,
    ),
    (
        "La prothèse de hanche s'est fracturée ; reprise chirurgicale et hospitalisation.",
        Severity.SERIOUS,
    ),
    (
        "Battery alarm on the infusion pump before use; device replaced. No patient harm.",
        Severity.MALFUNCTION,
    ),
    (
        "Alarme batterie de la pompe avant utilisation ; appareil remplacé, sans conséquence pour "
        "le patient.",
        Severity.MALFUNCTION,
    ),
    ("Aucune blessure, patient indemne, pas de conséquence.", Severity.MALFUNCTION),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_severity_in_english_and_french(
    shipped_model: TriageModel, text: str, expected: Severity
) -> None:
    [prediction] = shipped_model.predict([text], [AE])
    assert prediction.severity is expected


def test_french_negation_is_not_read_as_harm(shipped_model: TriageModel) -> None:
    harmed, unharmed = shipped_model.predict(
        [
            "Le patient a été blessé par la pompe et hospitalisé.",
            "La pompe s'est arrêtée, sans conséquence pour le patient.",
        ]
    )
    assert harmed.severity is Severity.SERIOUS
    assert unharmed.severity is Severity.MALFUNCTION
    critical = unharmed.severity_probabilities["death"] + unharmed.severity_probabilities["serious"]
    assert critical < 0.2


def test_probabilities_are_a_distribution_and_confidence_is_that_of_the_answer(
    shipped_model: TriageModel,
) -> None:
    for prediction in shipped_model.predict([text for text, _ in CASES]):
        assert set(prediction.severity_probabilities) == {s.value for s in Severity}
        assert sum(prediction.severity_probabilities.values()) == pytest.approx(1.0)
        assert all(0.0 <= p <= 1.0 for p in prediction.severity_probabilities.values())
        assert prediction.confidence == prediction.severity_probabilities[prediction.severity.value]


def test_category_only_for_inappropriate_ai_suggestions(shipped_model: TriageModel) -> None:
    text = "The AI software missed a lung nodule on the CT scan; diagnosis delayed by six months."
    as_ai, as_event = shipped_model.predict([text, text], [AI, AE])
    assert as_ai.category == "missed_finding"
    assert as_ai.category_probability is not None
    assert 0.0 < as_ai.category_probability <= 1.0
    assert as_event.category is None
    assert as_event.category_probability is None
    [no_kind] = shipped_model.predict([text])
    assert no_kind.category is None


def test_bias_category_and_ai_training_cause(shipped_model: TriageModel) -> None:
    [prediction] = shipped_model.predict(
        [
            "The dermatology algorithm performs worse on darker skin: it was trained on a dataset "
            "with few Black patients and rated a melanoma as benign."
        ],
        [AI],
    )
    assert prediction.category == "bias_against_group"
    codes = {c.code: c for c in prediction.imdrf_codes}
    assert {"A11", "D19"} <= set(codes)
    assert codes["D19"].annex == "D"
    assert (
        codes["D19"].term == "Cause Traced to Artificial Intelligence Training/Validation Process"
    )


def test_imdrf_suggestions_only_where_the_text_supports_them(shipped_model: TriageModel) -> None:
    software, french_software, implant = shipped_model.predict(
        [
            "The infusion pump software froze after an update; the nurse restarted it. No harm.",
            "Le logiciel de la pompe s'est figé après une mise à jour, sans conséquence.",
            "The femoral component of the hip implant fractured and the patient had revision "
            "surgery.",
        ],
        [AE, AE, AE],
    )
    assert [c.code for c in software.imdrf_codes] == ["A11"]
    assert software.imdrf_codes[0].term == "Computer Software Problem"
    assert software.imdrf_codes[0].annex == "A"
    assert [c.code for c in french_software.imdrf_codes] == ["A11"]
    assert implant.imdrf_codes == []


def test_negated_software_is_not_a_software_problem(shipped_model: TriageModel) -> None:
    [prediction] = shipped_model.predict(["The pump was inspected: no software error was found."])
    assert prediction.imdrf_codes == []


def test_batches(shipped_model: TriageModel) -> None:
    assert shipped_model.predict([]) == []
    with pytest.raises(ValueError, match="kinds"):
        shipped_model.predict(["a narrative"], [AE, AE])
    texts = [text for text, _ in CASES] * 50
    batch = shipped_model.predict(texts)
    assert [p.severity for p in batch[: len(CASES)]] == [s for _, s in CASES]
    assert len(batch) == len(texts)


def test_predictions_feed_the_safety_rules(shipped_model: TriageModel) -> None:
    narrative = "Le patient est décédé après l'arrêt du ventilateur."
    [prediction] = shipped_model.predict([narrative], [AE])
    result = decide(
        report(outcome=ReportedOutcome.NO_HARM, narrative=narrative, language="fr"),
        prediction,
        model_version=shipped_model.version,
        policy=TriagePolicy(),
    )
    assert result.severity is Severity.DEATH
    assert result.needs_review
    assert result.model_version == shipped_model.version
