"""The drift detectors, one per module."""

from services.triage.drift.detectors.adwin import ADWIN
from services.triage.drift.detectors.base import (
    DistributionDetector,
    DistributionResult,
    Histogram,
    HistogramDetector,
    StreamDetector,
)
from services.triage.drift.detectors.bocpd import BOCPD
from services.triage.drift.detectors.cusum import CUSUM
from services.triage.drift.detectors.eddm import EDDM
from services.triage.drift.detectors.ewma import EWMAChart
from services.triage.drift.detectors.fhddm import FHDDM
from services.triage.drift.detectors.hddm_a import HDDM_A
from services.triage.drift.detectors.hddm_w import HDDM_W
from services.triage.drift.detectors.jensen_shannon import JensenShannon
from services.triage.drift.detectors.ks import KolmogorovSmirnov
from services.triage.drift.detectors.kswin import KSWIN
from services.triage.drift.detectors.page_hinkley import PageHinkley
from services.triage.drift.detectors.psi import PSI
from services.triage.drift.detectors.vote import Vote
from services.triage.drift.detectors.wasserstein import Wasserstein

__all__ = [
    "ADWIN",
    "BOCPD",
    "CUSUM",
    "EDDM",
    "FHDDM",
    "HDDM_A",
    "HDDM_W",
    "KSWIN",
    "PSI",
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
