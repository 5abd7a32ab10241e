"""The settings are documented from the code: the README's table and .env.example list every
VIGIE_* setting with its default and description, and go stale loudly."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from services.ingest.settings import IngestSettings
from services.registry.settings import RegistrySettings
from services.triage.settings import TriageSettings
from vigie.settings import CommonSettings
from vigie_tools import opsdocs

ROOT = Path(__file__).resolve().parents[2]
CLASSES = (CommonSettings, IngestSettings, TriageSettings, RegistrySettings)


def _every_setting() -> set[str]:
    return {f"VIGIE_{name.upper()}" for cls in CLASSES for name in cls.model_fields}


def test_the_generated_files_are_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path in opsdocs.stale()]
    assert not stale, f"stale: {stale}; run `vigie docs`"


def test_every_setting_has_a_description() -> None:
    for cls in CLASSES:
        for name, info in cls.model_fields.items():
            assert info.description and len(info.description) > 10, (cls.__name__, name)


def test_the_readme_lists_every_setting_once() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split(opsdocs.BEGIN)[1].split(opsdocs.END)[0]
    rows = re.findall(r"^\| `(VIGIE_[A-Z0-9_]+)` \| ([^|]+) \|", table, re.M)
    assert sorted(name for name, _ in rows) == sorted(_every_setting())
    readers = dict(rows)
    assert readers["VIGIE_ENV"].strip() == "all"
    assert readers["VIGIE_DATABASE_URL"].strip() == "registry"
    assert readers["VIGIE_TRIAGE_HEALTH_PORT"].strip() == "triage"


def test_env_example_lists_every_setting_with_its_default_and_no_secret() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    values = dict(re.findall(r"^# (VIGIE_[A-Z0-9_]+)=(.*)$", text, re.M))
    assert set(values) == _every_setting()
    assert values["VIGIE_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    assert values["VIGIE_INGEST_RATE_LIMIT"] == "20/minute;200/hour"
    assert values["VIGIE_TRIAGE_USE_MODEL"] == "true"
    secrets = {
        f"VIGIE_{name.upper()}"
        for cls in CLASSES
        for name, info in cls.model_fields.items()
        if isinstance(info.default, SecretStr)
    }
    assert "VIGIE_PSEUDONYM_KEY" in secrets
    for name in secrets:
        assert values[name] == "", name
    # Every line is a comment: copying the file changes nothing until a line is uncommented.
    assert all(not line or line.startswith("#") for line in text.splitlines())


def test_a_stale_file_is_reported_and_rewritten(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split(opsdocs.BEGIN)[1].split(opsdocs.END)[0]
    old = readme.replace(table, "\n| `VIGIE_ENV` | all | `development` | old text |\n")
    (tmp_path / "README.md").write_text(old, encoding="utf-8")
    (tmp_path / ".env.example").write_text("# VIGIE_ENV=development\n", encoding="utf-8")
    stale = opsdocs.stale(tmp_path)
    assert set(stale) >= {tmp_path / "README.md", tmp_path / ".env.example"}
    assert stale[tmp_path / "README.md"] == readme
