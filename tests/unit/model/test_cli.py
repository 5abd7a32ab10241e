"""`vigie train` and `vigie evaluate` as a user runs them."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from vigie_tools.cli import main

from .conftest import MAUDE_COLUMNS


def _last_json(out: str) -> dict[str, Any]:
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return figures


def test_evaluate_prints_the_stored_table_and_a_json_last_line(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--model-dir", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "leave-one-device-family-out" in out
    assert "Death recall" in out
    assert "critical (death or serious)" in out
    figures = _last_json(out)
    for key in ("macro_f1_4", "macro_f1_3", "death_recall", "critical_f1", "balanced_accuracy"):
        assert 0.0 <= float(figures[key]) <= 1.0
    assert str(figures["model_version"]).startswith("triage-")


@pytest.mark.parametrize("compressed", [False, True])
def test_evaluate_any_labelled_file(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], compressed: bool
) -> None:
    rows = [
        ("Death", "The patient died after the pump stopped.", ""),
        ("Injury", "The implant failed and the patient underwent revision surgery.", ""),
        ("Malfunction", "Alarm during service, no patient involvement.", "Device replaced."),
        ("No answer provided", "Unlabelled.", ""),
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MAUDE_COLUMNS)
    writer.writeheader()
    for i, (event_type, description, narrative) in enumerate(rows):
        writer.writerow(
            {
                "report_number": str(i),
                "event_type": event_type,
                "event_description": description,
                "manufacturer_narrative": narrative,
            }
        )
    path = tmp_path / ("reports.csv.gz" if compressed else "reports.csv")
    raw = buffer.getvalue().encode()
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    assert main(["evaluate", "--model-dir", str(tiny_model_dir), "--data", str(path)]) == 0
    figures = _last_json(capsys.readouterr().out)
    assert figures["reports"] == 3
    assert figures["data"] == str(path)
    assert set(figures["recall"]) == {"death", "serious", "malfunction", "other"}


def test_evaluate_without_a_model_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--model-dir", str(tmp_path / "none")]) == 2
    assert "model artefact missing" in capsys.readouterr().err


def test_evaluate_rejects_a_file_without_labels(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("event_description\nsomething happened\n")
    assert main(["evaluate", "--model-dir", str(tiny_model_dir), "--data", str(path)]) == 2
    assert "event_type" in capsys.readouterr().err


def test_train_shows_progress_on_stderr(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "m"
    assert (
        main(["train", "--data-dir", str(tiny_data), "--out", str(out_dir), "--no-kafka-feedback"])
        == 0
    )
    captured = capsys.readouterr()
    assert "de-duplicating" in captured.err
    assert "family cross-validation" in captured.err
    assert "s]" in captured.err  # elapsed time
    figures = _last_json(captured.out)
    assert (out_dir / "MODEL_CARD.md").is_file()
    assert (
        figures["model_version"] == json.loads((out_dir / "manifest.json").read_text())["version"]
    )


def test_train_with_feedback_file(
    tiny_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).parents[3] / "schemas/examples/vigie.triage.feedback.v1/1.json"
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(json.dumps(json.loads(example.read_text())) + "\n\n")
    args = [
        "train",
        "--data-dir",
        str(tiny_data),
        "--out",
        str(tmp_path / "m"),
        "--no-kafka-feedback",
    ]
    assert main([*args, "--feedback", str(feedback), "--skip-evaluation"]) == 0
    assert _last_json(capsys.readouterr().out)["feedback"] == 1
    feedback.write_text("{}\n")
    assert main([*args, "--feedback", str(feedback)]) == 2
    assert "not a TriageFeedback event" in capsys.readouterr().err
