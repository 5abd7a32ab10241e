"""Drift detection for deployed AI devices: input distributions and performance streams.

Distribution detectors compare a window of a feature with a reference sample (or histogram);
stream detectors follow a performance figure (0/1 errors, a loss) value by value. Each detector
lives in its own module under ``detectors``; the registries below name them for configuration
and the ``vigie drift`` command.
"""

from services.triage.drift.detectors import (
    ADWIN,
    BOCPD,
    CUSUM,
    EDDM,
    FHDDM,
    HDDM_A,
    HDDM_W,
    KSWIN,
    PSI,
    DistributionDetector,
    DistributionResult,
    EWMAChart,
    Histogram,
    HistogramDetector,
    JensenShannon,
    KolmogorovSmirnov,
    PageHinkley,
    StreamDetector,
    Vote,
    Wasserstein,
)

DISTRIBUTION_DETECTORS: dict[str, type[DistributionDetector]] = {
    "psi": PSI,
    "ks": KolmogorovSmirnov,
    "jensen_shannon": JensenShannon,
    "wasserstein": Wasserstein,
}
"""Detectors that compare a window with a reference, by name."""

STREAM_DETECTORS: dict[str, type[StreamDetector]] = {
    "adwin": ADWIN,
    "page_hinkley": PageHinkley,
    "cusum": CUSUM,
    "hddm_a": HDDM_A,
    "hddm_w": HDDM_W,
    "eddm": EDDM,
    "fhddm": FHDDM,
    "ewma": EWMAChart,
    "kswin": KSWIN,
    "vote": Vote,
    "bocpd": BOCPD,
}
"""Detectors that follow a stream value by value, by name."""

DEFAULT_STREAM_DETECTOR = "page_hinkley"
DEFAULT_STREAM_PARAMETERS: dict[str, str | float] = {"mode": "up", "threshold": 50.0}
"""The stream detector ``vigie drift replay`` runs when none is named: the configuration most
folds chose when ``vigie drift evaluate --size full --select`` left one stream family out
(README, "Choosing the stream detector")."""

DETECTORS: dict[str, type[DistributionDetector] | type[StreamDetector]] = {
    **DISTRIBUTION_DETECTORS,
    **STREAM_DETECTORS,
}
"""Every detector, by name."""

__all__ = [
    "ADWIN",
    "BOCPD",
    "CUSUM",
    "DEFAULT_STREAM_DETECTOR",
    "DEFAULT_STREAM_PARAMETERS",
    "DETECTORS",
    "DISTRIBUTION_DETECTORS",
    "EDDM",
    "FHDDM",
    "HDDM_A",
    "HDDM_W",
    "KSWIN",
    "PSI",
    "STREAM_DETECTORS",
    "DistributionDetector",
    "DistributionResult",
    "EWMAChart",
    "Histogram",
    "HistogramDetector",
    "JensenShannon",
    "KolmogorovSmirnov",
    "PageHinkley",
    "StreamDetector",
    "Vote",
    "Wasserstein",
]
