"""The printed evaluation: tables, targets and the JSON summary, from the shipped figures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.triage.model import DEFAULT_MODEL_DIR
from services.triage.model.artefact import read_evaluation
from services.triage.model.labels import SEVERITY_LABELS
from services.triage.model.rendering import (
    TARGETS,
    family_table,
    severity_table,
    summary,
    target_lines,
    transfer_summary,
    transfer_target_lines,
)


@pytest.fixture(scope="module")
def severity() -> dict[str, Any]:
    figures: dict[str, Any] = read_evaluation(DEFAULT_MODEL_DIR)["severity"]
    return figures


def test_severity_table_has_a_line_per_class_and_the_headline_figures(
    severity: dict[str, Any],
) -> None:
    lines = severity_table(severity, title="held out")
    assert lines[0] == "held out"
    for label in SEVERITY_LABELS:
        assert any(line.startswith(label) for line in lines[2:])
    assert any(line.startswith(f"Death recall: {severity['death_recall']:.3f}") for line in lines)
    assert any(line.startswith("calibration: Brier") for line in lines)


def test_family_table_and_targets(severity: dict[str, Any]) -> None:
    assert len(family_table(severity["families"])) == 1 + len(severity["families"])
    verdicts = target_lines(severity)[1:]
    assert len(verdicts) == 3
    death = f"{severity['death_recall']:.3f}"
    meets = severity["death_recall"] >= TARGETS["death_recall"]
    assert f"{death} {'meets' if meets else 'MISSES'}" in verdicts[2]


def test_summary_is_rounded_and_serialisable(severity: dict[str, Any]) -> None:
    figures = summary(severity)
    assert json.loads(json.dumps(figures)) == figures
    assert figures["reports"] == severity["n"]
    assert figures["death_recall"] == round(severity["death_recall"], 4)
    assert set(figures["recall"]) == set(SEVERITY_LABELS)


def test_shipped_evaluation_covers_every_split_side_by_side() -> None:
    transfer: dict[str, Any] = read_evaluation(DEFAULT_MODEL_DIR)["transfer"]
    assert [s["split"] for s in transfer["splits"]] == ["family", "manufacturer", "year", "source"]
    for split in transfer["splits"]:
        assert set(split["pooled"]) == {"shipped", "baseline"}
        assert sum(f["shipped"]["n"] for f in split["folds"]) == split["pooled"]["shipped"]["n"]
    assert any(f["fold"] == "hand-written (fr)" for f in transfer["splits"][3]["folds"])
    lines = transfer_target_lines(transfer)
    assert len([line for line in lines if " meets " in line or " MISSES " in line]) == len(
        transfer["targets"]
    )
    missed = transfer_summary(transfer)["targets_missed"]
    assert bool(missed) == bool(transfer["blocking"])
