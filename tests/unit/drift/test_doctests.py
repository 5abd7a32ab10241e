"""The examples in the detectors' documentation run and show what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "services.triage.drift.detectors.adwin",
    "services.triage.drift.detectors.bocpd",
    "services.triage.drift.detectors.cusum",
    "services.triage.drift.detectors.eddm",
    "services.triage.drift.detectors.ewma",
    "services.triage.drift.detectors.fhddm",
    "services.triage.drift.detectors.hddm_a",
    "services.triage.drift.detectors.hddm_w",
    "services.triage.drift.detectors.jensen_shannon",
    "services.triage.drift.detectors.ks",
    "services.triage.drift.detectors.kswin",
    "services.triage.drift.detectors.page_hinkley",
    "services.triage.drift.detectors.psi",
    "services.triage.drift.detectors.vote",
    "services.triage.drift.detectors.wasserstein",
    "services.triage.drift.multiple",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name: str) -> None:
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failed == 0
