"""The word lists and patterns narratives are read with, loaded from ``lexicons/*.json``.

One file per family of tables, each saying in its ``about`` what it is for: ``language`` (stop
words that tell French from English), ``french_phrases`` and ``french_words`` (French read as
MAUDE's English), ``english_phrases`` (English expressions of a death), ``scope`` (negation and
hypothetical triggers) and ``cues`` (synonyms pooled into one feature). Their bytes are part of the
model version (see ``version``). A malformed file, a key given twice or a phrase in two sections
stops the import with the file's name, never a lexicon silently read differently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LEXICON_DIR = Path(__file__).parent / "lexicons"


class LexiconError(ValueError):
    """A lexicon file is missing or not shaped as ``lexicon`` reads it."""


@dataclass(frozen=True)
class Lexicons:
    """Every table of the narrative reader, in the order of its file."""

    french_markers: tuple[str, ...]
    english_markers: tuple[str, ...]
    french_phrases: dict[str, str]
    french_words: dict[str, str]
    english_phrases: dict[str, dict[str, str]]
    passed_subjects: tuple[str, ...]
    passed_not_before: tuple[str, ...]
    scope_words: int
    negation_triggers: tuple[str, ...]
    hypothetical_triggers: tuple[str, ...]
    scope_end: tuple[str, ...]
    cue_words: dict[str, tuple[str, ...]]
    unharmed: tuple[str, ...]
    detection_verbs: tuple[str, ...]
    recognition_verbs: tuple[str, ...]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise LexiconError(f"keys given twice: {', '.join(twice)}")
    return dict(pairs)


class _File:
    """One lexicon file being read: its fields, checked as they are taken."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"{name}.json"
        try:
            text = self.path.read_text(encoding="utf-8")
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise LexiconError(f"lexicon {self.path} cannot be read: {exc}") from exc
        self.data = self.mapping(data, "")

    def fail(self, where: str, expected: str) -> LexiconError:
        return LexiconError(f"lexicon {self.path}: {where or 'the file'} must be {expected}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def field(self, *keys: str) -> Any:
        value: Any = self.data
        for i, key in enumerate(keys):
            value = self.mapping(value, ".".join(keys[:i]))
            if key not in value:
                raise self.fail(".".join(keys[: i + 1]), "present")
            value = value[key]
        return value

    def words(self, *keys: str) -> tuple[str, ...]:
        value = self.field(*keys)
        if not isinstance(value, list) or not all(isinstance(w, str) and w for w in value):
            raise self.fail(".".join(keys), "a list of non-empty strings")
        return tuple(value)

    def translations(self, value: Any, where: str) -> dict[str, str]:
        table = self.mapping(value, where)
        if not all(isinstance(v, str) for v in table.values()):
            raise self.fail(where, "an object of strings")
        return dict(table)

    def sections(self) -> dict[str, str]:
        """The ``sections`` of the file as one table, in order; a key in two sections is refused."""
        out: dict[str, str] = {}
        for section, table in self.mapping(self.field("sections"), "sections").items():
            for key, value in self.translations(table, f"sections.{section}").items():
                if key in out:
                    raise self.fail(f"sections.{section}.{key}", "in one section only")
                out[key] = value
        return out


def load(directory: Path = LEXICON_DIR) -> Lexicons:
    """Read and check every lexicon file of ``directory``."""
    language = _File(directory, "language")
    english = _File(directory, "english_phrases")
    scope = _File(directory, "scope")
    cues = _File(directory, "cues")
    groups = cues.mapping(cues.field("cues"), "cues")
    scope_words = scope.field("words")
    if not isinstance(scope_words, int) or isinstance(scope_words, bool) or scope_words < 1:
        raise scope.fail("words", "a positive whole number")
    guarded = english.mapping(english.field("guarded", "groups"), "guarded.groups")
    return Lexicons(
        french_markers=language.words("french"),
        english_markers=language.words("english"),
        french_phrases=_File(directory, "french_phrases").sections(),
        french_words=_File(directory, "french_words").sections(),
        english_phrases={
            guard: english.translations(phrases, f"guarded.groups.{guard}")
            for guard, phrases in guarded.items()
        },
        passed_subjects=english.words("passed", "subjects"),
        passed_not_before=english.words("passed", "not_before"),
        scope_words=scope_words,
        negation_triggers=scope.words("negation", "triggers"),
        hypothetical_triggers=scope.words("hypothetical", "triggers"),
        scope_end=scope.words("end", "words"),
        cue_words={name: cues.words("cues", name) for name in groups},
        unharmed=cues.words("unharmed", "words"),
        detection_verbs=cues.words("detection", "words"),
        recognition_verbs=cues.words("recognition", "words"),
    )


def digest(lexicons: Lexicons) -> str:
    """SHA-256 of the tables as read, in their order: formatting and ``about`` texts aside."""
    canonical = json.dumps(asdict(lexicons), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def files(directory: Path = LEXICON_DIR) -> list[Path]:
    """Every lexicon file of ``directory``, sorted by name."""
    return sorted(directory.glob("*.json"))
