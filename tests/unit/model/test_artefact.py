"""The artefact is verified before use: missing or corrupted files stop the service clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from services.triage.app import load_classifier
from services.triage.model import DEFAULT_MODEL_DIR, ModelLoadError, TriageModel, lexicon
from services.triage.model.artefact import MANIFEST, MODEL_FILE
from services.triage.model.text import CUE_NAMES
from services.triage.model.version import model_version
from services.triage.settings import TriageSettings

# Content of the lexicon tables the shipped model was trained with (``lexicon.digest``).
SHIPPED_LEXICONS = "acf85e2013ea2543c4703609bfedb5a928addef2ebdf9fc6c73644e02a229c4b"


@pytest.fixture
def artefact_copy(tmp_path: Path) -> Path:
    target = tmp_path / "artefact"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def test_shipped_artefact_loads_with_a_content_version(shipped_model: TriageModel) -> None:
    assert shipped_model.version.startswith("triage-")
    assert len(shipped_model.version) == len("triage-") + 12
    manifest = json.loads((DEFAULT_MODEL_DIR / MANIFEST).read_text())
    assert manifest["version"] == shipped_model.version
    assert set(manifest["files"]) == {"model.joblib", "evaluation.json", "MODEL_CARD.md"}


def test_shipped_version_follows_from_the_inputs_its_manifest_records(
    shipped_model: TriageModel,
) -> None:
    manifest = shipped_model.manifest
    assert manifest is not None
    assert "source_sha256" in manifest.params
    assert model_version(manifest.data_sha256, manifest.params) == shipped_model.version


def test_shipped_model_reads_with_the_lexicons_it_was_trained_with(
    shipped_model: TriageModel,
) -> None:
    assert lexicon.digest(lexicon.load()) == SHIPPED_LEXICONS, (
        "the lexicons differ from those the shipped model was trained with: "
        "run `vigie train` and update SHIPPED_LEXICONS"
    )
    for features in (shipped_model.severity.features, shipped_model.category.features):
        assert tuple(features._cue_index) == CUE_NAMES


def test_missing_artefact_says_where_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"model artefact missing at .*; run `vigie train`"):
        TriageModel.load(tmp_path / "nowhere")


def test_flipped_byte_is_a_checksum_mismatch(artefact_copy: Path) -> None:
    model_file = artefact_copy / MODEL_FILE
    data = bytearray(model_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_file.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=r"checksum mismatch .*artefact corrupted"):
        TriageModel.load(artefact_copy)


def test_truncated_model_is_a_checksum_mismatch_not_a_pickle_error(artefact_copy: Path) -> None:
    model_file = artefact_copy / MODEL_FILE
    model_file.write_bytes(model_file.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match="checksum mismatch"):
        TriageModel.load(artefact_copy)


def test_unreadable_manifest(artefact_copy: Path) -> None:
    (artefact_copy / MANIFEST).write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"manifest .* unreadable.*artefact corrupted"):
        TriageModel.load(artefact_copy)


def test_missing_file_listed_in_the_manifest(artefact_copy: Path) -> None:
    (artefact_copy / "evaluation.json").unlink()
    with pytest.raises(ModelLoadError, match=r"evaluation.json missing .*artefact corrupted"):
        TriageModel.load(artefact_copy)


def test_garbage_with_a_matching_checksum_is_refused_clearly(artefact_copy: Path) -> None:
    import hashlib

    model_file = artefact_copy / MODEL_FILE
    model_file.write_bytes(b"not a pickle at all")
    manifest = json.loads((artefact_copy / MANIFEST).read_text())
    manifest["files"][MODEL_FILE] = hashlib.sha256(b"not a pickle at all").hexdigest()
    (artefact_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"cannot be loaded .*run `vigie train`"):
        TriageModel.load(artefact_copy)


def test_other_library_version_is_refused(artefact_copy: Path) -> None:
    manifest = json.loads((artefact_copy / MANIFEST).read_text())
    manifest["libraries"]["scikit-learn"] = "0.0.1"
    (artefact_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError, match=r"built with scikit-learn 0.0.1"):
        TriageModel.load(artefact_copy)


def test_triage_service_refuses_to_start_without_its_model(tmp_path: Path) -> None:
    settings = TriageSettings(triage_use_model=True, triage_model_dir=tmp_path / "missing")
    with pytest.raises(ModelLoadError, match="model artefact missing"):
        load_classifier(settings)


def test_triage_service_loads_the_shipped_model() -> None:
    classifier = load_classifier(TriageSettings(triage_use_model=True))
    assert classifier is not None
    assert classifier.version.startswith("triage-")
