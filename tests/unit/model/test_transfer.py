"""Transfer splits: folds never train on what they test, and the figures come out side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from services.triage.model.evaluation import (
    death_evidence,
    evaluate_transfer,
    evidence_table,
    harm_evidence,
    transfer_figures,
)
from services.triage.model.selection import candidates
from services.triage.model.severity import SeverityParams
from services.triage.model.splits import (
    leave_one_group_out,
    manufacturer_key,
    manufacturer_split,
    source_split,
    year_split,
)
from vigie_tools.cli import main


def test_manufacturer_spellings_are_one_manufacturer() -> None:
    spellings = [
        "RESPIRONICS, INC.",
        "RESPIRONICS,INC",
        "PHILIPS / RESPIRONICS, INC",
        "RESPORINOC INC",
    ]
    assert {manufacturer_key(s) for s in spellings} == {"Philips Respironics"}
    assert manufacturer_key("SMITH & NEPHEW ORTHOPAEDICS LTD.") == "Smith & Nephew"
    assert manufacturer_key("") == "not stated"
    assert manufacturer_key("Acme Medical Devices Inc") == "Acme"
    # A maker's divisions and plants, and its former names, are one manufacturer.
    assert {manufacturer_key(s) for s in ("DEPUY ORTHOPAEDICS, INC", "DEPUY INTL., LTD.")} == {
        "Depuy"
    }
    assert {manufacturer_key(s) for s in ("MCGHAN MEDICAL CORP", "ALLERGAN (COSTA RICA)")} == {
        "Allergan"
    }


def test_small_groups_are_pooled_and_no_fold_tests_what_it_trains_on() -> None:
    groups = np.asarray(["a"] * 200 + ["b"] * 160 + ["c"] * 5 + ["d"] * 3, dtype=str)
    usable = np.ones(len(groups), dtype=bool)
    split = leave_one_group_out("g", "groups", groups, usable)
    assert [f.name for f in split.folds] == ["a", "b", "others pooled (2)"]
    for fold in split.folds:
        assert not (fold.train & fold.test).any()
        assert (fold.train | fold.test).all()


def test_manufacturer_split_merges_before_pooling() -> None:
    names = np.asarray(["RESPIRONICS, INC."] * 100 + ["RESPIRONICS INC"] * 100 + ["X"] * 10)
    split = manufacturer_split(names, np.ones(len(names), dtype=bool))
    assert [f.name for f in split.folds] == ["Philips Respironics", "X"]


def test_a_report_without_its_filer_is_held_out_with_its_device_maker() -> None:
    filers = np.asarray(["RESPIRONICS INC"] * 200 + [""] * 360, dtype=str)
    makers = np.asarray([""] * 200 + ["DEPUY ORTHOPAEDICS"] * 180 + ["ZIMMER GMBH"] * 180)
    split = manufacturer_split(filers, np.ones(len(filers), dtype=bool), makers)
    assert [f.name for f in split.folds] == ["Depuy", "Philips Respironics", "Zimmer"]
    assert [int(f.test.sum()) for f in split.folds] == [180, 200, 180]


def test_years_are_tested_on_models_of_earlier_years_only() -> None:
    dates = np.asarray(
        [f"{year}-03-01" for year in range(2010, 2024) for _ in range(120)], dtype=str
    )
    split = year_split(dates, np.ones(len(dates), dtype=bool))
    assert len(split.folds) == 3
    years = np.asarray([int(d[:4]) for d in dates])
    for fold in split.folds:
        assert years[fold.train].max() < years[fold.test].min()
    assert split.folds[-1].name == "2021-2023"


def test_an_outside_file_is_tested_on_a_model_of_every_maude_source() -> None:
    sources = np.asarray(["M"] * 300 + ["V"] * 200 + [""] * 10, dtype=str)
    usable = np.r_[np.ones(500, dtype=bool), np.zeros(10, dtype=bool)]
    outside = ~usable
    split = source_split(sources, usable, {"hand-written": outside})
    assert [f.name for f in split.folds] == ["M", "V", "hand-written"]
    assert (split.folds[-1].train == usable).all()
    assert not split.folds[0].test[outside].any()


class _Oracle:
    """A recipe that reads the answer, then calls every death a serious injury."""

    name = "oracle"
    title = "oracle"

    def __init__(self, y: np.ndarray) -> None:
        self.y = y

    def fit_predict(self, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, None]:
        out = self.y[test].copy()
        out[out == 0] = 1
        return out, None


class _Malfunction:
    name = "flat"
    title = "always malfunction"

    def fit_predict(self, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, None]:
        return np.full(int(test.sum()), 2, dtype=np.intp), None


def test_transfer_judges_the_first_recipe_and_shows_the_reports_that_block_it() -> None:
    y = np.asarray([0, 1, 2, 2, 0, 1, 2, 2], dtype=np.intp)
    groups = np.asarray(["f1"] * 4 + ["f2"] * 4, dtype=str)
    split = leave_one_group_out("family", "family", groups, np.ones(8, dtype=bool), min_rows=1)
    result = evaluate_transfer(
        [split],
        [_Oracle(y), _Malfunction()],
        y,
        report_ids=np.asarray([f"R{i}" for i in range(8)], dtype=str),
        texts=[f"narrative {i}" for i in range(8)],
    )
    pooled = result["splits"][0]["pooled"]
    assert pooled["oracle"]["death_recall"] == 0.0
    assert pooled["oracle"]["critical_recall"] == 1.0
    assert pooled["oracle"]["review_share"] == 0.5
    assert pooled["flat"]["review_share"] == 0.0
    met = {t["figure"]: t["met"] for t in result["targets"]}
    assert met["critical_recall"] is True
    assert met["death_recall"] is False
    assert met["macro_f1_3 above flat"] is True
    blocked = [b for b in result["blocking"] if b["why"] == "death not called death"]
    assert [b["report"] for b in blocked] == ["R0", "R4"]
    assert blocked[0]["predicted"] == "serious"
    # Neither death says so in its narrative ("narrative 0"): both are in "no death word".
    assert result["evidence"]["family"]["death"]["no death word"] == {"n": 2, "caught": 0}


def test_what_a_narrative_says_of_death_and_harm_is_read_from_its_cues() -> None:
    assert death_evidence({"cue_death", "cue_neg_harm"}) == "states a death"
    assert death_evidence({"cue_death_mention"}) == "mentions death"
    assert death_evidence({"cue_harm", "cue_surgery"}) == "no death word"
    assert harm_evidence({"cue_illness", "cue_neg_harm"}) == "names a harm"
    assert harm_evidence({"cue_neg_harm", "cue_malfunction"}) == "only denies harm"
    assert harm_evidence({"cue_malfunction"}) == "no harm word"


def test_evidence_counts_each_critical_report_once_by_what_it_says() -> None:
    y = np.asarray([0, 0, 1, 1, 1, 2], dtype=np.intp)
    predicted = np.asarray([0, 1, 1, 2, 2, 1], dtype=np.intp)
    cues = [
        frozenset({"cue_death"}),
        frozenset(),
        frozenset({"cue_illness"}),
        frozenset({"cue_neg_harm"}),
        frozenset({"cue_harm"}),
        frozenset({"cue_harm"}),
    ]
    table = evidence_table(y, predicted, cues)
    assert table["death"]["states a death"] == {"n": 1, "caught": 1}
    assert table["death"]["no death word"] == {"n": 1, "caught": 0}
    # The death read as serious is caught as critical; the malfunction is not counted at all.
    assert table["critical"]["names a harm"] == {"n": 3, "caught": 2}
    assert table["critical"]["only denies harm"] == {"n": 1, "caught": 0}
    assert table["critical"]["no harm word"] == {"n": 1, "caught": 1}


def test_review_share_counts_death_and_serious_calls() -> None:
    y = np.asarray([0, 1, 2, 3], dtype=np.intp)
    figures = transfer_figures(y, np.asarray([1, 1, 1, 2], dtype=np.intp))
    assert figures["review_share"] == 0.75
    assert figures["death_precision"] == 0.0
    assert figures["malfunction_recall"] == 0.0


def test_evaluate_prints_every_split_side_by_side(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["evaluate", "--model-dir", str(tiny_model_dir)]) == 0
    out = capsys.readouterr().out
    assert "transfer splits" in out
    assert "family: device family left out" in out
    assert "hand-written (fr)" in out
    figures = json.loads(out.strip().splitlines()[-1])
    splits = figures["transfer"]["splits"]
    assert set(splits["family"]) == {"shipped", "baseline"}
    assert 0.0 <= splits["source"]["baseline"]["review_share"] <= 1.0


def test_category_head_on_an_aiid_file_with_a_time_ordered_split(
    tiny_model_dir: Path, tiny_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    incidents = tiny_data / "aiid" / "aiid_incidents.csv"
    args = ["evaluate", "--model-dir", str(tiny_model_dir), "--category-data", str(incidents)]
    assert main([*args, "--category-taxonomy", str(tiny_data / "aiid/aiid_mit_taxonomy.csv")]) == 0
    out = capsys.readouterr().out
    assert "time-ordered" in out
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["incidents"] == 36
    assert set(figures["category_over_time"]) >= {"shipped recipe"}
    # The same models, trained on the older incidents, read the clinicians' hand-written
    # narratives of inappropriate AI suggestions.
    assert "clinicians (hand-written)" in out
    assert set(figures["category_clinical"]) == set(figures["category_over_time"])
    assert all(0.0 <= f <= 1.0 for f in figures["category_clinical"].values())
    assert main([*args, "--category-taxonomy", str(tiny_data / "nowhere.csv")]) == 2
    assert "cannot evaluate the category head" in capsys.readouterr().err


def test_evaluate_cv_select_judges_the_nested_choice(
    tiny_model_dir: Path, tiny_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["evaluate", "--model-dir", str(tiny_model_dir), "--data-dir", str(tiny_data)]
    assert main([*args, "--cv", "--select"]) == 0
    out = capsys.readouterr().out
    assert "outer folds won by each candidate" in out
    chosen = out.split("chosen by the same inner folds on every MAUDE report: ")[1].splitlines()[0]
    assert chosen in candidates(SeverityParams())
    assert "macro_f1_3 above shipped" in out
    splits = json.loads(out.strip().splitlines()[-1])["transfer"]["splits"]
    assert set(splits["family"]) == {"selected", "shipped", "baseline"}
