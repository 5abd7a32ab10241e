"""The model artefact on disk: files, their manifest, and the checks made before unpickling.

A directory holds ``model.joblib`` (the fitted models), ``evaluation.json`` (the figures of the
training run), ``MODEL_CARD.md`` and ``manifest.json``. The manifest records the SHA-256 of every
other file, the model version, the hash of the training data and the parameters. Loading checks
the manifest before the pickle is opened, so a truncated or altered file is reported as such and
never reaches ``joblib.load``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy
import sklearn

MANIFEST = "manifest.json"
MODEL_FILE = "model.joblib"
EVALUATION_FILE = "evaluation.json"
CARD_FILE = "MODEL_CARD.md"
FORMAT = 1

# The pickle is only portable between identical versions of these libraries.
LIBRARIES = {
    "scikit-learn": sklearn.__version__,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
}


class ModelLoadError(RuntimeError):
    """The model artefact is missing, corrupted or unusable; the message says what to do."""


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` says about an artefact."""

    version: str
    data_sha256: str
    params: dict[str, Any]
    files: dict[str, str]
    libraries: dict[str, str]
    data_files: dict[str, str]

    def to_json(self) -> str:
        """The manifest file's content (sorted keys: same artefact, same bytes)."""
        return (
            json.dumps(
                {
                    "format": FORMAT,
                    "version": self.version,
                    "data_sha256": self.data_sha256,
                    "data_files": self.data_files,
                    "params": self.params,
                    "files": self.files,
                    "libraries": self.libraries,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def write(
    directory: Path,
    *,
    models: dict[str, Any],
    evaluation: dict[str, Any],
    card: str,
    version: str,
    data_sha256: str,
    data_files: dict[str, str],
    params: dict[str, Any],
) -> Manifest:
    """Write every file of the artefact, the manifest last (a crash leaves no valid manifest)."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    manifest_path.unlink(missing_ok=True)
    joblib.dump(models, directory / MODEL_FILE, compress=3)
    (directory / EVALUATION_FILE).write_text(
        json.dumps(evaluation, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (directory / CARD_FILE).write_text(card, encoding="utf-8")
    manifest = Manifest(
        version=version,
        data_sha256=data_sha256,
        params=params,
        files={name: sha256(directory / name) for name in (MODEL_FILE, EVALUATION_FILE, CARD_FILE)},
        libraries=dict(LIBRARIES),
        data_files=data_files,
    )
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(manifest_path)
    return manifest


def read_manifest(directory: Path) -> Manifest:
    """The verified manifest of an artefact: every listed file present with its checksum."""
    path = directory / MANIFEST
    if not directory.is_dir() or not path.is_file():
        raise ModelLoadError(f"model artefact missing at {directory}; run `vigie train`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(
            version=str(raw["version"]),
            data_sha256=str(raw["data_sha256"]),
            params=dict(raw["params"]),
            files={str(k): str(v) for k, v in raw["files"].items()},
            libraries={str(k): str(v) for k, v in raw["libraries"].items()},
            data_files={str(k): str(v) for k, v in raw.get("data_files", {}).items()},
        )
        fmt = int(raw.get("format", 0))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelLoadError(
            f"manifest {path} is unreadable ({exc}): artefact corrupted; run `vigie train`"
        ) from exc
    if fmt != FORMAT:
        raise ModelLoadError(
            f"artefact at {directory} has format {fmt}, this code reads format {FORMAT}; "
            "run `vigie train`"
        )
    if MODEL_FILE not in manifest.files:
        raise ModelLoadError(f"manifest {path} lists no {MODEL_FILE}: artefact corrupted")
    for name, expected in sorted(manifest.files.items()):
        file = directory / name
        if Path(name).name != name:
            raise ModelLoadError(f"manifest {path} names a file outside the artefact: {name}")
        if not file.is_file():
            raise ModelLoadError(
                f"{name} missing from the model artefact at {directory}: artefact corrupted; "
                "run `vigie train`"
            )
        actual = sha256(file)
        if actual != expected:
            raise ModelLoadError(
                f"checksum mismatch for {file} (manifest {expected[:12]}…, file {actual[:12]}…): "
                "artefact corrupted; run `vigie train`"
            )
    for library, version in sorted(manifest.libraries.items()):
        installed = LIBRARIES.get(library)
        if installed is not None and installed != version:
            raise ModelLoadError(
                f"model artefact at {directory} was built with {library} {version} but "
                f"{installed} is installed; run `vigie train` to rebuild it"
            )
    return manifest


def read_models(directory: Path, manifest: Manifest) -> dict[str, Any]:
    """Unpickle ``model.joblib`` of an artefact whose manifest was verified."""
    path = directory / MODEL_FILE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", category=sklearn.exceptions.InconsistentVersionWarning)
            models = joblib.load(path)
    except Exception as exc:  # unpickling can fail in any way; say so in one clear message
        raise ModelLoadError(
            f"{path} (model {manifest.version}) cannot be loaded ({type(exc).__name__}: {exc}); "
            "run `vigie train`"
        ) from exc
    if not isinstance(models, dict) or not {"severity", "category"} <= set(models):
        raise ModelLoadError(f"{path} does not hold a triage model: artefact corrupted")
    return models


def read_evaluation(directory: Path) -> dict[str, Any]:
    """The evaluation figures stored with an artefact (after ``read_manifest``)."""
    data: dict[str, Any] = json.loads((directory / EVALUATION_FILE).read_text(encoding="utf-8"))
    return data
