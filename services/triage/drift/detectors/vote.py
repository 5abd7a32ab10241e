"""Vote: an ensemble of stream detectors that flags a change when enough of them agree.

Each member watches the stream on its own (and starts afresh after its own detections). The
ensemble flags a drift at the value where, counting each member's latest detection within the
last ``window`` values, at least ``quorum`` members have detected a change; then every member
starts afresh. The members differ in what they are sensitive to: ADWIN to a change of mean
anywhere in its window, Page-Hinkley to a sustained rise over the running mean, the EWMA chart
(with a lower limit than its own default) to a quick rise of a weighted average. A single
member's false alarm needs a second member's within ``window`` values to become the ensemble's,
so a lower threshold per member can buy an earlier joint alarm. Majority votes of drift
detectors are studied by Du et al. (2014) and Maciel et al. (2015); the defaults here
(two of three within 200 values) are this platform's choice, checked with ``vigie drift
evaluate``.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import Vote

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> Vote().update_many(errors)
array([1055])

References
----------
Du, L., Song, Q., & Jia, X. (2014). Detecting concept drift: an information entropy based method
using an adaptive sliding window. Intelligent Data Analysis, 18(3), 337-364.

Maciel, B. I. F., Santos, S. G. T. C., & Barros, R. S. M. (2015). A lightweight concept drift
detection ensemble. IEEE 27th International Conference on Tools with Artificial Intelligence,
1061-1068.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.triage.drift.detectors.adwin import ADWIN
from services.triage.drift.detectors.base import (
    SequentialStreamDetector,
    StreamDetector,
    check_count,
)
from services.triage.drift.detectors.ewma import EWMAChart
from services.triage.drift.detectors.page_hinkley import PageHinkley


def default_members() -> list[StreamDetector]:
    """ADWIN, Page-Hinkley on a rise, and an EWMA chart on a rise with L = 3.5."""
    return [ADWIN(), PageHinkley(mode="up"), EWMAChart(threshold=3.5, mode="up")]


class Vote(SequentialStreamDetector):
    """A quorum of member detectors, each with its latest detection in a recent window.

    Parameters
    ----------
    quorum
        Members that must have detected a change within the last ``window`` values.
    window
        Values within which the members' detections count together.
    members
        Builds the members, fresh (default: :func:`default_members`).
    """

    def __init__(
        self,
        quorum: int = 2,
        window: int = 200,
        members: Callable[[], Sequence[StreamDetector]] = default_members,
    ) -> None:
        super().__init__()
        check_count("window", window)
        self.quorum = quorum
        self.window = int(window)
        self._build = members
        self._reset()
        check_count("quorum", quorum)
        if quorum > len(self._members):
            raise ValueError(f"quorum must be at most {len(self._members)} (the members)")

    def _reset(self) -> None:
        self._members = list(self._build())
        self._n = 0
        self._last: list[int | None] = [None] * len(self._members)

    def _update(self, x: float) -> bool:
        self._n += 1
        agreeing = 0
        for i, member in enumerate(self._members):
            if member.update(x).drift_detected:
                self._last[i] = self._n
            last = self._last[i]
            if last is not None and self._n - last < self.window:
                agreeing += 1
        return agreeing >= self.quorum
