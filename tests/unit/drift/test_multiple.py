"""Bonferroni and Benjamini-Hochberg against their definitions and the 1995 worked example."""

from __future__ import annotations

import numpy as np
import pytest

from services.triage.drift.multiple import benjamini_hochberg, bonferroni

# Benjamini & Hochberg (1995), section 4: fifteen p-values of a trial.
EXAMPLE = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459]
EXAMPLE += [0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0]


def test_the_worked_example() -> None:
    assert np.flatnonzero(bonferroni(EXAMPLE, 0.05)).tolist() == [0, 1, 2]
    assert np.flatnonzero(benjamini_hochberg(EXAMPLE, 0.05)).tolist() == [0, 1, 2, 3]


def test_benjamini_hochberg_steps_up_past_a_p_value_above_its_line() -> None:
    # 0.03 > 2 * 0.05 / 4, but 0.035 <= 3 * 0.05 / 4: the three smallest are rejected.
    assert benjamini_hochberg([0.035, 0.03, 0.001, 0.9], 0.05).tolist() == [True, True, True, False]


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_rejects_at_least_what_bonferroni_rejects(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.random(40), rng.random(10) * 1e-3])
    strict, lenient = bonferroni(p, 0.05), benjamini_hochberg(p, 0.05)
    assert not (strict & ~lenient).any()
    # The definition: the rejections are the k smallest, k the largest with p(k) <= k q / m.
    ordered = np.sort(p)
    k = max(i + 1 for i in range(p.size) if ordered[i] <= (i + 1) * 0.05 / p.size)
    assert lenient.sum() == k
    assert set(np.flatnonzero(lenient)) == set(np.argsort(p, kind="stable")[:k])


def test_no_p_values_rejects_nothing() -> None:
    assert benjamini_hochberg([], 0.05).tolist() == []
    assert bonferroni([], 0.05).tolist() == []


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-0.1], [float("nan")]])
def test_bad_p_values_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError):
        benjamini_hochberg(bad)
    with pytest.raises(ValueError):
        bonferroni(bad)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5])
def test_bad_levels_are_refused(level: float) -> None:
    with pytest.raises(ValueError):
        benjamini_hochberg([0.1], level)
    with pytest.raises(ValueError):
        bonferroni([0.1], level)
