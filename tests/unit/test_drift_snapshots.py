"""Stream detectors carried from one triage instance to another through their snapshots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from services.triage.drift import STREAM_DETECTORS, StreamDetector

PARAMETERS = {"cusum": {"batch": 50}}


def errors() -> np.ndarray:
    rng = np.random.default_rng(3)
    rates = [0.1] * 3000 + [0.3] * 3000 + [0.1] * 3000
    return (rng.random(len(rates)) < np.asarray(rates)).astype(np.float64)


def build(name: str) -> StreamDetector:
    return STREAM_DETECTORS[name](**PARAMETERS.get(name, {}))


@pytest.mark.parametrize("name", sorted(STREAM_DETECTORS))
@pytest.mark.parametrize("cut", [1, 777, 3001, 4500])
def test_a_restored_detector_detects_what_the_first_would_have(name: str, cut: int) -> None:
    xs = errors()
    whole = build(name).update_many(xs).tolist()
    first = build(name)
    before = first.update_many(xs[:cut]).tolist()
    # Through JSON, as on the state topic, into a detector built the same way.
    snapshot = json.loads(json.dumps(first.snapshot(), allow_nan=False))
    after = (build(name).restore(snapshot).update_many(xs[cut:]) + cut).tolist()
    assert before + after == whole
    if name in {"adwin", "page_hinkley"}:
        assert whole  # the rise at 3,000 is found: the comparison is not between empty lists


def test_a_snapshot_that_does_not_fit_is_refused() -> None:
    adwin = build("adwin")
    adwin.update_many(errors()[:500])
    with pytest.raises(ValueError, match="does not fit"):
        build("page_hinkley").restore(adwin.snapshot())
