"""The triage classifier watched like any AI device: telemetry windows on its own predictions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from vigie.contracts import DeviceRef, Language, ReportTriaged
from vigie_sdk import DeviceReporter, summarise_window

log = logging.getLogger(__name__)

TRIAGE_DEVICE_NAME = "Vigie triage classifier"
TRIAGE_MANUFACTURER = "Vigie"


class SelfWatch:
    """Collects the model's outputs and sends one window every ``window_reports`` reports.

    Scores are the model's confidence; features are its probability of death and of a serious
    outcome, the narrative length and whether the narrative is French: a shift in what clinicians
    write shows up as input drift, a shift in how sure the model is as output drift.
    """

    def __init__(self, reporter: DeviceReporter, *, model_version: str, window_reports: int):
        self._reporter = reporter
        self._device = DeviceRef(
            name=TRIAGE_DEVICE_NAME, manufacturer=TRIAGE_MANUFACTURER, model_version=model_version
        )
        self._size = window_reports
        self._reset()

    def _reset(self) -> None:
        self._started = datetime.now(UTC)
        self._confidence: list[float] = []
        self._p_death: list[float] = []
        self._p_serious: list[float] = []
        self._length: list[float] = []
        self._french: list[float] = []

    def observe(self, triaged: Sequence[ReportTriaged]) -> None:
        """Record a batch's predictions; sends a window when enough were collected."""
        for t in triaged:
            if t.triage.confidence is None:
                continue  # no model ran: nothing to watch
            probabilities = t.triage.severity_probabilities or {}
            self._confidence.append(t.triage.confidence)
            self._p_death.append(probabilities.get("death", 0.0))
            self._p_serious.append(probabilities.get("serious", 0.0))
            self._length.append(float(len(t.report.narrative)))
            self._french.append(1.0 if t.report.language is Language.FR else 0.0)
            if len(self._confidence) >= self._size:
                self.flush()

    def flush(self) -> None:
        """Send what was collected (spooled locally if Kafka does not answer)."""
        if not self._confidence:
            return
        window = summarise_window(
            self._device,
            self._started,
            datetime.now(UTC),
            scores=self._confidence,
            features={
                "p_death": self._p_death,
                "p_serious": self._p_serious,
                "narrative_length": self._length,
                "french": self._french,
            },
        )
        if not self._reporter.send(window):
            log.warning("triage self-telemetry spooled: Kafka did not acknowledge")
        self._reset()

    def close(self) -> None:
        """Send the partial window and release the producer."""
        self.flush()
        self._reporter.close()
