"""BOCPD: Bayesian online change-point detection on an error stream, with a bounded run length.

Adams & MacKay (2007) follow the posterior of the *run length* :math:`r_t`, the number of values
since the last change. Each value either extends the current run (probability :math:`1 - H`)
or starts a new one (the hazard :math:`H`, constant here: changes arrive as a Poisson process
with a mean of :math:`1/H` values between them). With :math:`\\pi_t(x)` the predictive
probability of :math:`x_t` under the values of a run of length :math:`r`,

.. math::

    P(r_t = r + 1, x_{1:t}) = P(r_{t-1} = r, x_{1:t-1})\\, \\pi_r(x_t)\\, (1 - H), \\qquad
    P(r_t = 0, x_{1:t}) = H \\sum_r P(r_{t-1} = r, x_{1:t-1})\\, \\pi_r(x_t).

The model is Beta-Bernoulli, suited to 0/1 errors: a run's error rate has a Beta(``prior_alpha``,
``prior_beta``) prior, updated to Beta(:math:`\\alpha + \\sum x`, :math:`\\beta + \\sum (1 - x)`),
and :math:`\\pi_r(x) = m_r^x (1 - m_r)^{1 - x}` with :math:`m_r` the posterior mean rate. Values
in between 0 and 1 (an error probability, a scaled score) count as fractional errors.

The run length is truncated at ``max_run``: the longest bucket holds every run of ``max_run - 1``
values or more, with the statistics of the newest ``max_run - 1`` values, so an update costs
time and memory in ``max_run`` however long the stream. A drift is flagged when the posterior
probability that the stream changed since the last reset (within the last ``max_run - 1``
values: the mass off the longest run) exceeds ``threshold``, the newer runs' mean error rate lies
on the watched side of the longest run's (``mode``), and ``min_instances`` values have been seen
since the last reset. Then the detector starts afresh, as river's detectors do.

Defaults: ``hazard=1e-4`` (a change per 10,000 values expected a priori), ``threshold=0.8``,
``max_run=1000``, ``min_instances=30``, a uniform prior and ``mode="up"``: a falling error rate
is no warning. They keep the detector quiet over the 10,000 stationary errors (rate 0.2) of the
contract test. A run-length window of 300 values missed gradual drifts whose transition spans
1,000 rows in ``vigie drift evaluate`` (a change spread over more values than the window never
gathers the mass); ``vigie drift evaluate --select`` tunes hazard and threshold across stream
families.

Examples
--------
An error rate that rises from 10% to 40% at position 1,000:

>>> import numpy as np
>>> from services.triage.drift import BOCPD

>>> rng = np.random.default_rng(7)
>>> errors = np.concatenate([rng.random(1_000) < 0.1, rng.random(1_000) < 0.4]).astype(float)
>>> BOCPD().update_many(errors)
array([1014])

The posterior probability of a change, before the rise and just before the detection:

>>> detector = BOCPD()
>>> _ = detector.update_many(errors[:1_000])
>>> round(detector.change_probability, 3)
0.028
>>> _ = detector.update_many(errors[1_000:1_014])
>>> round(detector.change_probability, 3)
0.695
>>> detector.update(errors[1_014]).drift_detected
True

References
----------
Adams, R. P., & MacKay, D. J. C. (2007). Bayesian online changepoint detection.
arXiv:0710.3742.
"""

from __future__ import annotations

import numpy as np

from services.triage.drift.detectors.base import (
    FloatArray,
    Mode,
    SequentialStreamDetector,
    check_count,
    check_mode,
    check_positive,
    check_probability,
    check_unit_interval,
)


class BOCPD(SequentialStreamDetector):
    """Bayesian online change-point detection with a Beta-Bernoulli model per run.

    Parameters
    ----------
    hazard
        Prior probability that a change happens at any one value.
    threshold
        Posterior mass on runs shorter than ``window`` above which a change is flagged.
    window
        Runs shorter than this many values count as recent.
    max_run
        Run lengths followed (the longest stands for every longer run): bounds memory and time.
    min_instances
        Values to see after a reset before any detection (at least ``window``).
    prior_alpha, prior_beta
        The Beta prior of a new run's error rate.
    mode
        Flag a rise of the error rate ("up"), a fall ("down") or both.
    """

    def __init__(
        self,
        hazard: float = 1e-4,
        threshold: float = 0.8,
        max_run: int = 1000,
        min_instances: int = 30,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        mode: Mode = "up",
    ) -> None:
        super().__init__()
        check_probability("hazard", hazard)
        check_probability("threshold", threshold)
        check_count("max_run", max_run, minimum=2)
        check_count("min_instances", min_instances)
        check_positive("prior_alpha", prior_alpha)
        check_positive("prior_beta", prior_beta)
        check_mode(mode)
        self.hazard = float(hazard)
        self.threshold = float(threshold)
        self.max_run = int(max_run)
        self.min_instances = int(min_instances)
        self.prior_alpha = float(prior_alpha)
        self.prior_beta = float(prior_beta)
        self.mode: Mode = mode
        # alpha + beta of a run of r values (the longest bucket's: of its max_run - 1 values).
        self._sizes: FloatArray = np.arange(self.max_run, dtype=np.float64)
        self._sizes += self.prior_alpha + self.prior_beta
        self._reset()

    def _reset(self) -> None:
        self._n = 0
        # Run-length posterior and each run's Beta alpha; the first ``_active`` are in use. A
        # run of r values has alpha + beta = prior_alpha + prior_beta + r, so beta is not kept.
        self._mass: FloatArray = np.zeros(self.max_run)
        self._mass[0] = 1.0
        self._alpha: FloatArray = np.full(self.max_run, self.prior_alpha)
        self._active = 1

    def _update(self, x: float) -> bool:
        x = check_unit_interval(x)
        active = self._active
        alpha, mass = self._alpha[:active], self._mass[:active]
        rate = alpha / self._sizes[:active]
        if x == 1.0:
            predictive = rate
        elif x == 0.0:
            predictive = 1.0 - rate
        else:
            predictive = np.exp(x * np.log(rate) + (1.0 - x) * np.log1p(-rate))
        joint = mass * predictive
        # Normalised, a new run takes the hazard and every run grows by (1 - hazard) of its
        # share of the evidence; the longest bucket keeps the runs that outgrow it.
        joint *= (1.0 - self.hazard) / joint.sum()
        if active < self.max_run:
            self._mass[1 : active + 1] = joint
            self._alpha[1 : active + 1] = alpha + x
            self._active = active + 1
        else:
            overflow = joint[-1]
            self._mass[1:] = joint[:-1]
            self._mass[-1] += overflow
            self._alpha[1:] = alpha[:-1] + x
        self._mass[0] = self.hazard
        self._alpha[0] = self.prior_alpha
        self._n += 1
        if self._n < self.min_instances:
            return False
        changed = self.change_probability
        if changed <= self.threshold:
            return False
        return self._on_watched_side(changed)

    @property
    def change_probability(self) -> float:
        """Posterior probability that the stream changed since the last reset, within the last
        ``max_run - 1`` values: the mass off the longest run followed."""
        return float(1.0 - self._mass[self._active - 1])

    def _on_watched_side(self, changed: float) -> bool:
        """Whether the newer runs' mean rate moved the watched way from the longest run's."""
        if self.mode == "both":
            return True
        longest = self._active - 1
        mass = self._mass[: longest + 1]
        rates = self._alpha[: longest + 1] / self._sizes[: longest + 1]
        newer = float(mass[:longest] @ rates[:longest]) / changed
        older = float(rates[longest])
        return newer > older if self.mode == "up" else newer < older
