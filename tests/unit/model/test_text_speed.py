"""The clause-by-clause word reader against a plain one that walks every piece of the text."""

from __future__ import annotations

import random
import re

import pytest

from services.triage.model import text
from services.triage.model.text import CUE_OF_WORD, NEGATION_SCOPE

_PIECES = re.compile(r"[a-z0-9]+|[.;:!?,()\"]")


def scan_pieces(prepared: str) -> tuple[list[str], list[str]]:
    """The reading ``text._scan`` must give: one piece at a time, as the model was trained."""
    negation = set(text._LEXICONS.negation_triggers)
    hypothetical = set(text._LEXICONS.hypothetical_triggers)
    scope_end = set(text._LEXICONS.scope_end)
    words: list[str] = []
    cues: list[str] = []
    prefix = ""
    left = 0
    for piece in _PIECES.findall(prepared):
        if piece in negation:
            prefix, left = "neg_", NEGATION_SCOPE
        elif piece in hypothetical:
            prefix, left = "hyp_", NEGATION_SCOPE
        elif left:
            if piece in scope_end or not piece[0].isalnum():
                left = 0
            else:
                left -= 1
                if not piece.isdigit():
                    words.append(prefix + piece)
                    if prefix + piece in CUE_OF_WORD:
                        cues.append(CUE_OF_WORD[prefix + piece])
                continue
        if len(piece) < 2 or not piece[0].isalpha() or piece.isdigit():
            continue
        words.append(piece)
        if piece in CUE_OF_WORD:
            cues.append(CUE_OF_WORD[piece])
    return words, cues


NARRATIVES = [
    "",
    " ",
    "\n\n",
    '.,;:!?()"',
    "a b c 1 22 x9 9x",
    "The patient was not injured, but the device failed. No harm could occur.",
    "It was reported that the pump would not deliver; the patient did not die and was not "
    "hospitalized (no 2 3 4 5 6 7 8 9 10 11 words later) without any delay nor any pain.",
    "NO PATIENT INVOLVEMENT. DEVICE RETURNED 12/03/2024 - FAILED QC-TEST_42 AT 3.5MG/ML.",
    "Le patient est décédé après une panne du ventilateur ; pas de blessure ni de dommage.",
    "Aucune blessure, patient indemne. Risque de décès évité de justesse à l'hôpital.",
    "Appareil remplacé, sans conséquence pour le patient — « alarme » ignorée…",
    "Straße ß Ωmega naïve café: the patient may have been at risk of dying if the alarm failed.",
    "(b)(6) reported that the patient passed away; he passed all tests before, never again.",
    'no,not;without:never!none?denied(denies)"could"would may might if can',
    "no no no no no no no no no no harm harm harm harm harm harm harm harm harm harm",
    "the patient denied pain and then 5 minutes later could not breathe but recovered",
]


def _random_narrative(pick: random.Random) -> str:
    words = [
        *text._LEXICONS.negation_triggers,
        *text._LEXICONS.hypothetical_triggers,
        *text._LEXICONS.scope_end,
        *list(CUE_OF_WORD)[:200],
        "patient", "device", "12", "3b", "x", "é", "décès", "ß", ".", ",", "(", ")", '"', "!",
        "-", "/", "'", "\n", "—", "…",
    ]  # fmt: skip
    return " ".join(pick.choice(words) for _ in range(pick.randrange(0, 80)))


@pytest.mark.parametrize("narrative", NARRATIVES)
def test_scan_reads_as_the_piece_walker(narrative: str) -> None:
    prepared, _ = text._prepare(narrative)
    assert text._scan(prepared) == scan_pieces(prepared)


def test_scan_reads_as_the_piece_walker_on_random_and_long_narratives() -> None:
    pick = random.Random(7)
    narratives = [_random_narrative(pick) for _ in range(400)]
    narratives.append(" ".join(NARRATIVES) * 40)  # a very long text, several thousand words
    for narrative in narratives:
        prepared, _ = text._prepare(narrative)
        assert text._scan(prepared) == scan_pieces(prepared), narrative
    # The raw text too: the reader must not depend on what preparation leaves out.
    for narrative in narratives[:100]:
        assert text._scan(narrative.lower()) == scan_pieces(narrative.lower()), narrative
