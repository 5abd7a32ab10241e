"""The word lists that decide what is clinical language rather than a person or a place.

Written for Vigie (``lexicons/*.txt``), plus the AI device catalogue of the registry when it is
present: a device's or manufacturer's name is never taken for a person.
"""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent / "lexicons"
DEVICE_CATALOGUE = (
    Path(__file__).resolve().parents[3] / "data" / "devices" / "fda_ai_devices.csv.gz"
)


def fold(word: str) -> str:
    """Lower case without accents or a trailing possessive ("Crohn's" → "crohn")."""
    word = re.sub(r"['’]s?$", "", word.strip().lower())
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lines(name: str) -> list[str]:
    """The lines of a list, without its comments and blank lines."""
    lines = (_HERE / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _words(name: str) -> list[str]:
    return [word for line in _lines(name) for word in line.split()]


@dataclass(frozen=True)
class Lexicon:
    """The lists, folded (lower case, no accents)."""

    first_names: frozenset[str]
    more_first_names: frozenset[str]  # census names: only next to a name word or after a cue
    eponyms: frozenset[str]  # clinical wherever they are
    eponyms_in_context: frozenset[str]  # also surnames: clinical only in a clinical phrase
    drugs: frozenset[str]
    institutions_before: frozenset[str]
    institutions_after: frozenset[str]
    institution_names: frozenset[str] = field(default_factory=frozenset)
    device_phrases: frozenset[str] = field(default_factory=frozenset)
    device_words: frozenset[str] = field(default_factory=frozenset)

    def is_clinical_word(self, word: str) -> bool:
        """A word that is a medicine or an unambiguous eponym ("Mallory-Weiss": each part)."""
        folded = fold(word)
        if folded in self.drugs or folded in self.eponyms:
            return True
        parts = [p for p in folded.split("-") if p]
        return len(parts) > 1 and all(p in self.drugs or p in self.eponyms for p in parts)

    def is_eponym(self, word: str) -> bool:
        """Any eponym, including those that are also surnames."""
        folded = fold(word)
        parts = [p for p in folded.split("-") if p] or [folded]
        return all(p in self.eponyms or p in self.eponyms_in_context for p in parts)

    def names_a_device(self, phrase: str) -> bool:
        """Whether ``phrase`` is (part of) the name of a catalogued device or its maker."""
        folded = " ".join(fold(w) for w in phrase.split())
        if len(folded) < 4:
            return False
        if folded in self.device_phrases:
            return True
        words = folded.split()
        return all(w in self.device_words for w in words)


def _device_vocabulary(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Device and manufacturer names of the catalogue, and their distinctive words.

    A word counts as a device word only if it is not also a given name: "Smith" in
    "Smith & Nephew" must not shield a patient called Smith.
    """
    if not path.exists():
        return frozenset(), frozenset()
    phrases: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            for column in ("device_name", "name", "company", "manufacturer", "applicant"):
                value = row.get(column)
                if value:
                    phrases.add(" ".join(fold(w) for w in re.findall(r"[\w'’-]+", value)))
    words: set[str] = set()
    for phrase in phrases:
        words.update(w for w in phrase.split() if len(w) >= 4)
    return frozenset(phrases), frozenset(words)


@cache
def load_lexicon() -> Lexicon:
    """The lists, read once per process."""
    eponyms = [w for w in _words("eponyms.txt")]
    institutions = _words("institutions.txt")
    first_names = frozenset(fold(w) for w in _words("first_names.txt"))
    drugs = frozenset(fold(w) for w in _words("drugs.txt"))
    clinical = drugs | {fold(w.lstrip("?")) for w in eponyms}
    more_first_names = frozenset(
        fold(w) for w in _words("census_first_names.txt") if len(w) > 2 and fold(w) not in clinical
    )
    device_phrases, device_words = _device_vocabulary(DEVICE_CATALOGUE)
    listed = [
        " ".join(fold(w) for w in re.findall(r"[\w'’-]+", line)) for line in _lines("devices.txt")
    ]
    device_phrases |= frozenset(listed)
    device_words |= frozenset(w for phrase in listed for w in phrase.split() if len(w) >= 3)
    # A device word that is also a given name or a common surname-eponym protects nothing.
    ambiguous = first_names | {fold(w[1:]) for w in eponyms if w.startswith("?")}
    return Lexicon(
        first_names=first_names,
        more_first_names=more_first_names - first_names,
        eponyms=frozenset(fold(w) for w in eponyms if not w.startswith("?")),
        eponyms_in_context=frozenset(fold(w[1:]) for w in eponyms if w.startswith("?")),
        drugs=drugs,
        institutions_before=frozenset(fold(w) for w in institutions if w[0] not in ">="),
        institutions_after=frozenset(fold(w[1:]) for w in institutions if w.startswith(">")),
        institution_names=frozenset(fold(w[1:]) for w in institutions if w.startswith("=")),
        device_phrases=device_phrases,
        device_words=frozenset(device_words - ambiguous),
    )
