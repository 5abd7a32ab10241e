"""Settings of the triage service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from vigie.settings import CommonSettings


class TriageSettings(CommonSettings):
    """Triage: consumer group, batch size, model and review threshold."""

    listeners = (("triage_metrics_host", None), ("triage_health_host", "triage_health_port"))

    triage_group_id: str = "vigie-triage"
    triage_max_records: int = 500
    triage_metrics_host: str = "127.0.0.1"
    triage_metrics_port: int = 8002
    # /healthz and /readyz on a listener of their own (triage has no API; 0: none).
    triage_health_host: str = "127.0.0.1"
    triage_health_port: int = 8005
    # None means the artefact shipped with the project.
    triage_model_dir: Path | None = None
    # The shipped model is used by default. Without it (``false``) severity comes from the
    # reported outcome only and every ReportTriaged says no model ran.
    triage_use_model: bool = True
    # Below this calibrated confidence a human confirms the triage.
    triage_review_confidence: float = 0.6

    # Drift monitor: its own consumer group on the telemetry topic.
    drift_group_id: str = "vigie-drift"
    drift_max_records: int = 200
    drift_detector: str = "psi"
    drift_stream_detector: str = "adwin"
    # Without an explicit reference window, the first windows of a model version are its reference.
    drift_reference_windows: int = 3
    # A subject that drifted signals again only after this many windows back within threshold.
    drift_rearm_windows: int = 3
    # References and latches: on the compacted topic vigie.drift.state.v1 ("kafka"), which any
    # triage instance can carry on from, or in a local folder ("file", a single instance).
    drift_state_store: Literal["kafka", "file"] = "kafka"
    drift_state_dir: Path = Path(".vigie/drift")
    # The triage classifier reports telemetry on its own predictions, like any AI device.
    triage_self_telemetry: bool = True
    triage_self_window_reports: int = 200
    triage_self_spool: Path = Path(".vigie/triage-telemetry.spool")
