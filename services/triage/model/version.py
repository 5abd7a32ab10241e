"""The model version: what a trained model was made from, as ``triage-`` and 12 hex digits.

The version hashes the training data (files and reviewer feedback), the parameters and the source
of what defines features and models: the modules in ``SOURCES`` and every lexicon file
(``lexicons/*.json``), bytes as they are on disk. Same inputs, same version; editing a lexicon
gives another version, as editing a module does. The digest is recorded with the parameters in the
artefact's manifest (``source_sha256``) when the model is trained; loading reads the version from
the manifest and never recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from services.triage.model import lexicon

# Modules whose source defines what the model computes (paths relative to this package).
SOURCES = (
    "text.py",
    "features.py",
    "severity.py",
    "category.py",
    "imdrf.py",
    "dataset.py",
    "labels.py",
    "lexicon.py",
)
PACKAGE_DIR = Path(__file__).parent


def source_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """The files the source digest covers: the ``SOURCES`` modules, then the lexicon files."""
    return [root / name for name in SOURCES] + lexicon.files(root / lexicon.LEXICON_DIR.name)


def source_digest(root: Path = PACKAGE_DIR) -> str:
    """SHA-256 of the modules and lexicon files that define features and models."""
    h = hashlib.sha256()
    for path in source_files(root):
        h.update(path.relative_to(root).as_posix().encode() + b"\n" + path.read_bytes())
    return h.hexdigest()


def model_version(data_sha256: str, params: dict[str, Any]) -> str:
    """``triage-`` and 12 hex digits of the hash of data and parameters (source digest included)."""
    blob = json.dumps({"data": data_sha256, "params": params}, sort_keys=True).encode()
    return "triage-" + hashlib.sha256(blob).hexdigest()[:12]
