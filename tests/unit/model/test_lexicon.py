"""The lexicons are data: read and checked at import, and part of the model version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from services.triage.model import lexicon, text
from services.triage.model.version import PACKAGE_DIR, source_digest, source_files

FAMILIES = {
    "cues.json",
    "english_phrases.json",
    "french_phrases.json",
    "french_words.json",
    "language.json",
    "scope.json",
}


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of the files the source digest covers."""
    for path in source_files():
        target = tmp_path / path.relative_to(PACKAGE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return tmp_path


def test_each_family_is_one_file_that_says_what_it_is_for() -> None:
    assert {p.name for p in lexicon.files()} == FAMILIES
    for path in lexicon.files():
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["about"], str) and data["about"]


def test_the_reader_uses_the_tables_as_read() -> None:
    tables = lexicon.load()
    assert tables.cue_words == text.CUE_WORDS
    assert tables.french_words == text.FRENCH_WORDS
    assert tables.scope_words == text.NEGATION_SCOPE
    listed = {w for words in tables.cue_words.values() for w in words} - set(tables.unharmed)
    for word in listed:
        first = next(c for c, words in tables.cue_words.items() if word in words)
        assert text.CUE_OF_WORD[word] == f"cue_{first}", word


def test_every_lexicon_file_is_in_the_source_digest() -> None:
    covered = {p.relative_to(PACKAGE_DIR).as_posix() for p in source_files()}
    assert {f"lexicons/{name}" for name in FAMILIES} <= covered
    assert {"text.py", "lexicon.py", "labels.py"} <= covered


def test_editing_a_lexicon_changes_the_source_digest(sources: Path) -> None:
    assert source_digest(sources) == source_digest()
    cues = sources / "lexicons" / "cues.json"
    data = json.loads(cues.read_text(encoding="utf-8"))
    data["cues"]["death"].append("perished")
    cues.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert source_digest(sources) != source_digest()


def test_editing_a_module_changes_the_source_digest(sources: Path) -> None:
    module = sources / "text.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert source_digest(sources) != source_digest()


def _lexicons_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "lexicons"
    shutil.copytree(lexicon.LEXICON_DIR, directory)
    return directory


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    directory = _lexicons_copy(tmp_path)
    words = directory / "french_words.json"
    raw = words.read_text(encoding="utf-8")
    words.write_text(raw.replace('"le": "the",', '"le": "the",\n      "le": "it",', 1))
    with pytest.raises(lexicon.LexiconError, match=r"french_words.json .*keys given twice: le"):
        lexicon.load(directory)


def test_a_phrase_in_two_sections_is_refused(tmp_path: Path) -> None:
    directory = _lexicons_copy(tmp_path)
    phrases = directory / "french_phrases.json"
    data = json.loads(phrases.read_text(encoding="utf-8"))
    data["sections"]["death"]["sans consequence"] = "with no adverse consequences"
    phrases.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(lexicon.LexiconError, match=r"sections.death.sans consequence must be in"):
        lexicon.load(directory)


def test_a_malformed_table_is_named(tmp_path: Path) -> None:
    directory = _lexicons_copy(tmp_path)
    cues = directory / "cues.json"
    data = json.loads(cues.read_text(encoding="utf-8"))
    data["cues"]["death"] = "died"
    cues.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(lexicon.LexiconError, match=r"cues.json: cues.death must be a list"):
        lexicon.load(directory)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    directory = _lexicons_copy(tmp_path)
    (directory / "scope.json").unlink()
    with pytest.raises(lexicon.LexiconError, match=r"scope.json cannot be read"):
        lexicon.load(directory)
