"""``vigie drift evaluate``: the scoring rules, the streams with known drifts, the command."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from vigie_tools import drift_eval
from vigie_tools.cli import main
from vigie_tools.drift_eval import SIZES, Stream, Tally

TINY = drift_eval.Size(seeds=1, rows=2_000, train=300, tolerance=500, width=200)


def test_a_detection_in_the_window_catches_the_drift() -> None:
    tally = Tally()
    # Drifts start at 100 and 600 of 1,000 rows, tolerance 200: windows [100, 300), [600, 800).
    tally.add([50, 120, 150, 400, 900], [100, 600], rows=1_000, tolerance=200)
    assert tally.delays == [20]
    assert (tally.drifts, tally.caught, tally.detections) == (2, 1, 5)
    assert tally.false_alarms == 3  # 50, 400 and 900; 150 is a second detection of the first
    assert tally.stable_rows == 600
    figures = tally.summary(tolerance=200)
    assert figures["false_alarms_per_10k"] == 50.0
    assert figures["mean_delay"] == 20.0
    assert figures["median_delay"] == 20.0
    # Precision 1/5, recall 1/2: F1 2/7; normalised delay (20/200 + 1 missed) / 2.
    assert figures["f1"] == round(2 / 7, 3)
    assert figures["normalised_delay"] == 0.55


def test_a_window_ends_at_the_next_drift_or_the_end_of_the_stream() -> None:
    tally = Tally()
    tally.add([140, 960], [100, 150, 950], rows=1_000, tolerance=200)
    assert tally.delays == [40, 10]
    assert tally.stable_rows == 700  # windows [100, 150), [150, 350), [950, 1000)
    assert tally.false_alarms == 0


def test_tallies_merge() -> None:
    one, two = Tally(), Tally()
    one.add([10], [5], rows=100, tolerance=10)
    two.add([], [50], rows=100, tolerance=10)
    merged = one.merge(two)
    assert (merged.drifts, merged.caught, merged.stable_rows) == (2, 1, 180)
    assert merged.summary(10)["normalised_delay"] == 0.75


def step(seed: int) -> Stream:
    rng = np.random.default_rng(seed)
    errors = np.concatenate([rng.random(3_000) < 0.1, rng.random(3_000) < 0.5]).astype(float)
    return Stream("step", "abrupt", seed, errors, (3_000,))


def test_baselines_cannot_game_the_table() -> None:
    table = drift_eval.evaluate([step(1), step(2)], ["always", "never", "adwin"], tolerance=1_000)
    assert table["always"]["caught"] == 2
    assert table["always"]["mean_delay"] == 0.0
    assert table["always"]["false_alarms_per_10k"] == 10_000.0
    assert table["always"]["f1"] < 0.01  # precision 2 of 12,000 detections
    assert table["never"]["caught"] == 0
    assert table["never"]["false_alarms_per_10k"] == 0.0
    assert table["never"]["normalised_delay"] == 1.0
    assert table["never"]["f1"] == 0.0
    assert table["adwin"]["caught"] == 2
    assert table["adwin"]["f1"] > 0.5


def test_unknown_names_are_refused() -> None:
    with pytest.raises(drift_eval.EvaluationError, match="unknown stream detector"):
        drift_eval.runner("oracle")
    with pytest.raises(drift_eval.EvaluationError, match="unknown stream family"):
        drift_eval.make_stream("weather", "abrupt", 1, TINY)
    with pytest.raises(ValueError):
        drift_eval.runner("adwin", {"delta": 2.0})


@pytest.mark.parametrize("family", drift_eval.FAMILIES)
@pytest.mark.parametrize("kind", drift_eval.KINDS)
def test_streams_err_more_after_their_drift(family: str, kind: drift_eval.Kind) -> None:
    stream = drift_eval.make_stream(family, kind, 1, TINY)
    assert stream.errors.size == TINY.rows
    assert set(np.unique(stream.errors).tolist()) <= {0.0, 1.0}
    (start,) = stream.drifts
    assert start == (1_000 if kind == "abrupt" else 900)
    before = stream.errors[:start].mean()
    after = stream.errors[start + TINY.width :].mean()
    assert after > before + 0.02


def test_streams_are_reproducible() -> None:
    one = drift_eval.make_stream("rbf", "gradual", 3, TINY)
    two = drift_eval.make_stream("rbf", "gradual", 3, TINY)
    assert one.errors.tolist() == two.errors.tolist()
    assert one.name == "rbf/gradual/3"


def test_sizes_keep_the_drift_away_from_the_ends() -> None:
    for size in SIZES.values():
        assert size.width // 2 + size.tolerance <= size.rows // 2


def last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    lines = capsys.readouterr().out.strip().splitlines()
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def test_evaluate_command(capsys: pytest.CaptureFixture[str]) -> None:
    command = ["drift", "evaluate", "--family", "sine", "--family", "stagger"]
    assert main([*command, "--detector", "adwin", "--detector", "never"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1].split() == [
        "detector",
        "caught",
        "FA/10k",
        "mean",
        "delay",
        "median",
        "delay",
        "F1",
        "norm.",
        "delay",
    ]
    assert out[2].split()[:2] == ["adwin", "8/8"]
    summary = json.loads(out[-1])
    assert summary["size"] == "small"
    assert summary["tolerance"] == 1_000
    assert len(summary["streams"]) == 8
    assert summary["detectors"]["adwin"] == {
        "drifts": 8,
        "caught": 8,
        "false_alarms": 0,
        "false_alarms_per_10k": 0.0,
        "mean_delay": 127.0,
        "median_delay": 99.0,
        "f1": 0.889,
        "normalised_delay": 0.127,
    }
    assert summary["detectors"]["never"]["caught"] == 0


def test_evaluate_refuses_an_unknown_detector(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "evaluate", "--detector", "oracle"]) == 2
    assert "unknown stream detector 'oracle'" in capsys.readouterr().err
