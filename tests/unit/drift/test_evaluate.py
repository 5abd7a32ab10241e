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
    figures = tally.summary()
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
    assert merged.summary()["normalised_delay"] == 0.75


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


@pytest.mark.parametrize("family", drift_eval.GENERATED)
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


def test_normalised_delay_scales_each_delay_by_its_own_streams_tolerance() -> None:
    long, short = Tally(), Tally()
    long.add([1_500], [1_000], rows=4_000, tolerance=1_000)
    short.add([70], [50], rows=300, tolerance=50)
    # (500 / 1,000 + 20 / 50) / 2 drifts
    assert long.merge(short).summary()["normalised_delay"] == 0.45


def test_annotations_are_pooled_by_majority_within_the_margin() -> None:
    annotations = {
        "6": [15, 28, 45, 60],
        "7": [18, 47],
        "8": [],
        "9": [15, 46],
        "13": [19, 28, 45, 90],
    }
    # 15-19 (four annotators), 27-28 (two of five: not a majority), 45-47 (four), 60 and 90 alone
    assert drift_eval.pool_annotations(annotations) == [15, 45]
    # Points farther apart than the margin are different changes, however many annotators.
    assert drift_eval.pool_annotations({"a": [10], "b": [16], "c": [22]}) == []
    assert drift_eval.pool_annotations({"a": [10], "b": [15], "c": [20]}) == [10]


def test_real_series_are_tcpds() -> None:
    streams = {stream.series: stream for stream in drift_eval.real_streams()}
    # TCPD's n_obs after its conversion scripts (apple, bitcoin, brent_spot resampled or cut).
    assert {name: stream.errors.size for name, stream in streams.items()} == {
        "airline_passengers": 468,
        "apple": 622,
        "bitcoin": 774,
        "brent_crude_oil": 500,
        "occupancy": 509,
        "run_log": 376,
        "uk_coal_employment": 105,
    }
    assert streams["run_log"].drifts == (60, 96, 114, 174, 204, 240, 258, 317)
    assert streams["brent_crude_oil"].drifts == (217, 227, 286, 375)
    assert streams["apple"].drifts == (319,)
    for stream in streams.values():
        assert stream.name == f"real/{stream.series}"
        assert stream.tolerance == drift_eval.REAL_TOLERANCE
        assert stream.errors.min() >= 0.0 and stream.errors.max() <= 1.0
        assert all(0 < drift < stream.errors.size for drift in stream.drifts)
    # Every detector runs on them, EDDM on the values rounded to 0/1.
    table = drift_eval.evaluate(list(streams.values()), ["eddm", "hddm_a", "never"], 1_000)
    assert table["never"]["drifts"] == 26
    assert (table["eddm"]["caught"], table["hddm_a"]["caught"]) == (5, 2)


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


# --- choosing the default by leaving one family out -------------------------------------------

SMALL_GRID: dict[str, list[dict[str, Any]]] = {
    "adwin": [{}, {"delta": 0.05}],
    "hddm_a": [{"drift_confidence": 1e-4}],
}


def family_step(family: str, seed: int, low: float, high: float) -> Stream:
    rng = np.random.default_rng(seed)
    errors = np.concatenate([rng.random(3_000) < low, rng.random(3_000) < high]).astype(float)
    return Stream(family, "abrupt", seed, errors, (3_000,))


def test_choose_keeps_to_the_reference_false_alarm_rate() -> None:
    def scored(detections: list[int]) -> Tally:
        one = Tally()
        one.add(detections, [5_000], rows=10_000, tolerance=1_000)
        return one

    tallies = {
        "adwin {}": {"s": scored([5_300])},
        "eager {}": {"s": scored([1_000, 5_010])},  # sooner, but a false alarm
        "calm {}": {"s": scored([5_100])},
        "late {}": {"s": scored([5_200])},
    }
    assert drift_eval.choose(tallies, ["s"]) == "calm {}"


def test_targets_compare_with_the_reference() -> None:
    ours, theirs = Tally(), Tally()
    ours.add([5_050], [5_000], rows=10_000, tolerance=1_000)
    theirs.add([2_000, 5_100], [5_000], rows=10_000, tolerance=1_000)
    assert drift_eval.targets(ours, theirs) == {
        "every_drift_caught": True,
        "false_alarms_at_most_reference": True,
        "mean_delay_at_most_0.6_reference": True,
    }
    assert drift_eval.targets(theirs, ours) == {
        "every_drift_caught": True,
        "false_alarms_at_most_reference": False,
        "mean_delay_at_most_0.6_reference": False,
    }


def test_leave_one_family_out() -> None:
    streams = [
        family_step(family, seed, low, high)
        for family, low, high in [("sea", 0.1, 0.3), ("sine", 0.05, 0.4), ("mixed", 0.2, 0.5)]
        for seed in (1, 2)
    ]
    selection = drift_eval.leave_one_family_out(streams, 1_000, SMALL_GRID)
    assert [fold.family for fold in selection.folds] == ["sea", "sine", "mixed"]
    configs = {drift_eval.config_name(name, p) for name, ps in SMALL_GRID.items() for p in ps}
    assert {fold.chosen for fold in selection.folds} <= configs
    chosen = [fold.chosen for fold in selection.folds]
    assert chosen.count(selection.default) == max(chosen.count(c) for c in chosen)
    # Each fold is scored on its own family only: two streams, one drift each.
    assert all(fold.held_out["drifts"] == 2 for fold in selection.folds)
    assert selection.held_out["drifts"] == 6
    assert selection.reference == drift_eval.evaluate(streams, ["adwin"], 1_000)["adwin"]
    lines = drift_eval.format_selection(selection)
    assert lines[-1] == f"default (chosen by most folds): {selection.default}"


def test_real_series_are_held_out_but_never_tuned_on() -> None:
    generated = [
        family_step(family, seed, low, high)
        for family, low, high in [("sea", 0.1, 0.3), ("sine", 0.05, 0.4), ("mixed", 0.2, 0.5)]
        for seed in (1, 2)
    ]
    # The real streams never enter a fold's tuning: the generated folds choose as without them.
    real = [
        Stream("real", "annotated", 0, step(seed).errors, (3_000,), series=f"s{seed}")
        for seed in range(3, 9)
    ]
    alone = drift_eval.leave_one_family_out(generated, 1_000, SMALL_GRID)
    both = drift_eval.leave_one_family_out([*generated, *real], 1_000, SMALL_GRID)
    assert [fold.chosen for fold in both.folds[:3]] == [fold.chosen for fold in alone.folds]
    assert both.folds[3].family == "real"
    assert both.folds[3].held_out["drifts"] == 6
    with pytest.raises(drift_eval.EvaluationError, match="two generated families"):
        drift_eval.leave_one_family_out([*generated[:2], *real], 1_000, SMALL_GRID)


def test_evaluate_command_selects(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift_eval, "GRID", SMALL_GRID)
    command = ["drift", "evaluate", "--family", "sine", "--family", "stagger", "--select"]
    assert main([*command, "--detector", "adwin"]) == 0
    summary = last_json(capsys)
    selection = summary["selection"]
    assert [fold["family"] for fold in selection["folds"]] == ["stagger", "sine"]
    assert selection["reference"] == summary["detectors"]["adwin"]
    assert set(selection["targets"]) == {
        "every_drift_caught",
        "false_alarms_at_most_reference",
        "mean_delay_at_most_0.6_reference",
    }


# --- the distribution side ---------------------------------------------------------------------

WINDOWS = drift_eval.WindowSize(seeds=10, reference=1_000, window=400, stable_windows=5)


def test_window_evaluation() -> None:
    table = drift_eval.evaluate_windows(WINDOWS)
    assert set(table) == {"psi", "ks", "jensen_shannon", "wasserstein"}
    # Jensen-Shannon's default threshold (0.1) is crossed by chance in 10% of windows of 400.
    assert {
        name: (f["false_alarm_rate"], f["smallest_shift_detected"]) for name, f in table.items()
    } == {
        "psi": (0.0, 0.8),
        "ks": (0.0, 0.2),
        "jensen_shannon": (0.1, 0.2),
        "wasserstein": (0.0, 0.2),
    }
    for figures in table.values():
        assert figures["detection_rate"]["1.2"] == 1.0
        assert figures["detection_rate"][str(figures["smallest_shift_detected"])] >= 0.9


def test_corrections_hold_the_false_alarms_of_many_features() -> None:
    figures = drift_eval.evaluate_corrections(WINDOWS, shift=0.3)
    # 20 features at 0.01 each: about 1 - 0.99**20 = 18% of windows flag some feature.
    assert figures["none"]["false_alarm_rate"] > 0.1
    for rule in ("bonferroni", "benjamini_hochberg"):
        assert figures[rule]["false_alarm_rate"] <= 0.04
        assert figures[rule]["detection_rate"] <= figures["none"]["detection_rate"]
    assert (
        figures["benjamini_hochberg"]["detection_rate"] >= figures["bonferroni"]["detection_rate"]
    )


def test_evaluate_command_windows(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(drift_eval.WINDOW_SIZES, "small", WINDOWS)
    command = ["drift", "evaluate", "--family", "sine", "--detector", "never", "--windows"]
    assert main(command) == 0
    summary = last_json(capsys)
    assert set(summary["windows"]) == {"psi", "ks", "jensen_shannon", "wasserstein"}
    assert set(summary["corrections"]) == {"none", "bonferroni", "benjamini_hochberg"}
