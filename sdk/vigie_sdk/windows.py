"""Summaries of a device's predictions over a window, as a ``TelemetryWindow``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from vigie.contracts import (
    ConfusionCounts,
    DeviceRef,
    FeatureSummary,
    Histogram,
    TelemetryWindow,
)

SAMPLE_SIZE = 2000


def _sample(values: np.ndarray, rng: np.random.Generator) -> list[float]:
    if values.size <= SAMPLE_SIZE:
        return [float(v) for v in values]
    return [float(v) for v in rng.choice(values, SAMPLE_SIZE, replace=False)]


def summarise_window(
    device: DeviceRef,
    start: datetime,
    end: datetime,
    *,
    scores: Sequence[float],
    features: Mapping[str, Sequence[float]] | None = None,
    confusion: tuple[int, int, int, int] | None = None,
    bins: int = 20,
    seed: int = 0,
) -> TelemetryWindow:
    """One window: score histogram and sample, per-feature summaries, optional confusion counts
    (true positives, false positives, true negatives, false negatives)."""
    rng = np.random.default_rng(seed)
    s = np.asarray(scores, dtype=float)
    histogram = None
    if s.size:
        counts, edges = np.histogram(s, bins=bins, range=(0.0, 1.0))
        histogram = Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts])
    summaries = []
    for name, values in (features or {}).items():
        v = np.asarray(values, dtype=float)
        summaries.append(
            FeatureSummary(
                name=name,
                count=int(v.size),
                mean=float(v.mean()) if v.size else None,
                std=float(v.std()) if v.size else None,
                minimum=float(v.min()) if v.size else None,
                maximum=float(v.max()) if v.size else None,
                sample=_sample(v, rng) if v.size else None,
            )
        )
    return TelemetryWindow(
        device=device,
        window_start=start,
        window_end=end,
        n_predictions=int(s.size),
        score_histogram=histogram,
        score_sample=_sample(s, rng) if s.size else None,
        features=summaries,
        confusion=ConfusionCounts(
            true_positive=confusion[0],
            false_positive=confusion[1],
            true_negative=confusion[2],
            false_negative=confusion[3],
        )
        if confusion
        else None,
    )
