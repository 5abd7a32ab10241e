"""``vigie drift replay`` on small CSV files with a known change."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vigie_tools.cli import main


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def monitored(seed: int = 0) -> list[dict[str, Any]]:
    """4,000 predictions: the error rate rises from 10% to 40% and the score shifts at 2,000."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(4_000):
        late = i >= 2_000
        rows.append(
            {
                "id": i,
                "error": int(rng.random() < (0.4 if late else 0.1)),
                "score": round(float(rng.normal(1.0 if late else 0.0, 1.0)), 6),
            }
        )
    return rows


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = capsys.readouterr().out.strip().splitlines()
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


@pytest.mark.parametrize("name", ["errors.csv", "errors.csv.gz"])
def test_replay_stream_detector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write_csv(tmp_path / name, monitored())
    assert main(["drift", "replay", str(path), "--column", "error"]) == 0
    summary = last_json(capsys)
    # The default: Page-Hinkley on a rise, chosen by ``vigie drift evaluate --select``.
    assert summary == {
        "detector": "page_hinkley",
        "column": "error",
        "rows": 4_000,
        "parameters": {"mode": "up", "threshold": 50.0},
        "detections": [2180],
    }


def test_replay_default_parameters_give_way_to_given_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "errors.csv", monitored())
    assert main(["drift", "replay", str(path), "--column", "error", "--param", "threshold=40"]) == 0
    summary = last_json(capsys)
    assert summary["parameters"] == {"mode": "up", "threshold": 40}
    assert summary["detections"] == [2119]  # a lower threshold: sooner
    # A named detector starts from its own defaults: ADWIN as river has it.
    assert main(["drift", "replay", str(path), "--column", "error", "--detector", "adwin"]) == 0
    summary = last_json(capsys)
    assert (summary["parameters"], summary["detections"]) == ({}, [2079])


@pytest.mark.parametrize(
    ("detector", "parameters"),
    [("page_hinkley", {}), ("cusum", {"batch": 10})],
)
def test_replay_other_stream_detectors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], detector: str, parameters: dict[str, Any]
) -> None:
    path = write_csv(tmp_path / "errors.csv", monitored())
    options = [f"--param={name}={value}" for name, value in parameters.items()]
    command = ["drift", "replay", str(path), "--column", "score", "--detector", detector]
    assert main(command + options) == 0
    output = capsys.readouterr().out.splitlines()
    summary = json.loads(output[-1])
    assert summary["detector"] == detector
    assert summary["parameters"] == parameters
    assert summary["detections"]
    assert 2_000 <= summary["detections"][0] < 2_300
    assert f"drift at row {summary['detections'][0]}" in output


@pytest.mark.parametrize("detector", ["psi", "ks", "jensen_shannon", "wasserstein"])
def test_replay_distribution_detector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], detector: str
) -> None:
    path = write_csv(tmp_path / "scores.csv", monitored())
    command = ["drift", "replay", str(path), "--column", "score", "--detector", detector]
    assert main([*command, "--window", "400", "--reference", "1000"]) == 0
    summary = last_json(capsys)
    assert summary["reference"] == 1_000
    assert summary["window"] == 400
    assert [w["start"] for w in summary["windows"]] == list(range(1_000, 3_601, 400))
    assert summary["detections"] == [1_800, 2_200, 2_600, 3_000, 3_400]
    straddling = summary["windows"][2]  # rows 1,800-2,199, half of them shifted
    assert straddling["start"] == 1_800
    assert straddling["statistic"] > summary["windows"][0]["statistic"]


def test_replay_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "errors.csv", monitored())
    assert main(["drift", "replay", str(path), "--column", "loss"]) == 2
    assert "no column 'loss'" in capsys.readouterr().err


def test_replay_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "replay", str(tmp_path / "none.csv"), "--column", "error"]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["n/a", "", "nan"])
def test_replay_names_the_row_that_is_not_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    rows = monitored()[:10]
    rows[7]["error"] = bad
    path = write_csv(tmp_path / "errors.csv", rows)
    assert main(["drift", "replay", str(path), "--column", "error"]) == 2
    message = capsys.readouterr().err
    assert "row 7 (line 9)" in message
    assert "not a finite number" in message


def test_replay_needs_a_full_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "scores.csv", monitored()[:600])
    assert main(["drift", "replay", str(path), "--column", "score", "--detector", "ks"]) == 2
    assert "need at least 500 reference rows" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "message"),
    [("threshold", "NAME=VALUE"), ("threshold=-1", "threshold must"), ("width=3", "width")],
)
def test_replay_refuses_bad_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, message: str
) -> None:
    path = write_csv(tmp_path / "scores.csv", monitored())
    command = ["drift", "replay", str(path), "--column", "score", "--detector", "psi"]
    assert main([*command, "--param", option]) == 2
    assert message in capsys.readouterr().err
