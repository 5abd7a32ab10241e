"""Narrative normalisation: French to English cues, negation and hypothetical scope."""

from __future__ import annotations

import pytest

from services.triage.model.text import analyse, normalise


@pytest.mark.parametrize(
    ("text", "french"),
    [
        ("Le patient est décédé après une panne du ventilateur.", True),
        ("Décès du patient.", True),
        ("Alarme batterie, sans conséquence.", True),
        ("THE PATIENT EXPIRED. THE DEVICE WAS RETURNED TO THE MANUFACTURER.", False),
        ("Battery alarm before use; no harm.", False),
    ],
)
def test_language_is_detected(text: str, french: bool) -> None:
    assert normalise(text)[1] is french


def test_french_severity_words_become_english_cues() -> None:
    _, cues = analyse("Le patient est décédé ; reprise chirurgicale, patiente hospitalisée.")
    assert {"cue_death", "cue_surgery", "cue_hospital"} <= set(cues)


@pytest.mark.parametrize(
    "text",
    [
        "Appareil remplacé, sans conséquence pour le patient.",
        "Aucune blessure, patient indemne.",
        "Pas de blessure ni de dommage.",
        "There was no report of patient harm or injury.",
        "No patient involvement or adverse consequences.",
        "The patient was unharmed.",
    ],
)
def test_absence_of_harm_is_negated_not_harm(text: str) -> None:
    _, cues = analyse(text)
    assert "cue_neg_harm" in cues
    assert "cue_harm" not in cues


def test_negation_stops_at_a_new_clause() -> None:
    text, _ = normalise("The device was not operating properly and the patient expired.")
    assert "neg_operating" in text
    assert "neg_expired" not in text
    assert (
        "cue_death" in analyse("The device was not operating properly and the patient expired.")[1]
    )


def test_hypothetical_death_is_not_a_death() -> None:
    _, cues = analyse("The foam would be likely to cause or contribute to death.")
    assert "cue_death" not in cues
    # "death" is a mention of death, not a death: its hypothetical reads as a negated mention.
    assert "cue_neg_death_mention" in cues
    _, cues = analyse("L'erreur aurait pu entraîner le décès.")
    assert "cue_death" not in cues


def test_a_stated_death_is_apart_from_a_mention_of_death() -> None:
    assert "cue_death" in analyse("The cause of death was listed as cardiac arrest.")[1]
    assert "cue_death" in analyse("The patient passed away at home.")[1]
    _, cues = analyse("The lawsuit alleges an increased risk of death and emotional distress.")
    assert "cue_death" not in cues


def test_a_person_who_passed_died_but_a_device_that_passed_did_not() -> None:
    assert "cue_death" in analyse("My husband passed before the recall.")[1]
    assert "cue_death" not in analyse("The device passed all tests.")[1]


def test_french_missed_detection_is_a_miss() -> None:
    _, cues = analyse("Le logiciel n'a pas détecté le nodule.")
    assert "cue_missed" in cues
    assert "cue_software" in cues
