"""Pseudonyms are keyed and stable; identifiers never survive scrubbing."""

from __future__ import annotations

import pytest

from vigie.rules.privacy import pseudonymise, scrub

KEY = b"unit-test-key"


def test_pseudonym_is_stable_keyed_and_normalised() -> None:
    a = pseudonymise("1 85 05 78 006 084 36", key=KEY)
    assert a == pseudonymise("185057800608436", key=KEY)
    assert a != pseudonymise("185057800608436", key=b"other-key")
    assert a.startswith("ps1:") and len(a) == 36
    assert "185057800608436" not in a


@pytest.mark.parametrize(
    "identifier",
    [
        "1 85 05 78 006 084 36",
        "285127512345678",
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "jean.dupont@chu-exemple.fr",
        "40012345",
    ],
)
def test_identifiers_are_removed_from_narratives(identifier: str) -> None:
    label = "IPP " if identifier == "40012345" else ""
    text = f"Patient {label}{identifier} a reçu une dose erronée proposée par l'IA."
    clean = scrub(text, key=KEY)
    assert identifier not in clean
    assert "[ps1:" in clean
    assert clean.endswith("a reçu une dose erronée proposée par l'IA.")


def test_labelled_birth_date_is_removed_but_clinical_dates_stay() -> None:
    clean = scrub("Patiente née le 12/03/1950, scanner du 02/11/2026.", key=KEY)
    assert "12/03/1950" not in clean
    assert "02/11/2026" in clean


def test_scrubbing_is_idempotent_and_consistent() -> None:
    once = scrub("MRN: A1234567 seen again, MRN: A1234567", key=KEY)
    assert scrub(once, key=KEY) == once
    tokens = [part for part in once.split() if part.startswith("[ps1:")]
    assert len(tokens) == 2 and tokens[0] == tokens[1]


def test_doses_and_measurements_are_not_identifiers() -> None:
    text = "Dose of 2.5 mg every 8 hours, nodule of 9 mm, INR 3.2."
    assert scrub(text, key=KEY) == text


@pytest.mark.parametrize(
    ("text", "name", "kept"),
    [
        ("Mme Marie Dupont a reçu une dose erronée.", "Marie Dupont", " a reçu une dose erronée."),
        ("Chez M. LEROY, l'IA n'a pas signalé le nodule.", "LEROY", ", l'IA n'a pas signalé"),
        ("Monsieur Jean-Pierre Martin, 72 ans, sepsis.", "Jean-Pierre Martin", ", 72 ans, sepsis."),
        ("Mr O'Brien's scan was read as normal.", "O'Brien", "'s scan was read as normal."),
        ("Mrs. Smith was discharged early.", "Smith", " was discharged early."),
    ],
)
def test_names_after_a_courtesy_title_are_removed(text: str, name: str, kept: str) -> None:
    clean = scrub(text, key=KEY)
    assert name not in clean and "[ps1:" in clean
    assert kept in clean


def test_titles_without_a_name_and_lowercase_words_stay() -> None:
    text = "Nodule de 9 mm. Le patient, 2 m. de haut, et Mme la cadre ont été prévenus."
    assert scrub(text, key=KEY) == text
