"""Settings of the triage service."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from vigie.settings import CommonSettings


class TriageSettings(CommonSettings):
    """Triage: consumer group, batch size, model and review threshold."""

    listeners = (("triage_metrics_host", None), ("triage_health_host", "triage_health_port"))

    triage_group_id: str = Field(
        default="vigie-triage",
        description="Consumer group of triage on the reports topic.",
    )
    triage_max_records: int = Field(
        default=500,
        description="Most reports triage takes in one batch.",
    )
    triage_metrics_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address of triage's Prometheus metrics listener (0.0.0.0 in a container, for "
            "Prometheus only)."
        ),
    )
    triage_metrics_port: int = Field(
        default=8002,
        description="Port of triage's Prometheus metrics listener.",
    )
    triage_health_host: str = Field(
        default="127.0.0.1",
        description="Address of triage's /healthz and /readyz listener (triage has no API).",
    )
    triage_health_port: int = Field(
        default=8005,
        description="Port of triage's /healthz and /readyz listener (0: none).",
    )
    triage_model_dir: Path | None = Field(
        default=None,
        description=(
            "Folder of the triage model artefact (one built by vigie train --out); unset, the "
            "artefact shipped with the project."
        ),
    )
    triage_use_model: bool = Field(
        default=True,
        description=(
            "Whether triage uses its model (the shipped one by default). false: severity comes "
            "from the reported outcome only and every ReportTriaged says no model ran."
        ),
    )
    triage_review_confidence: float = Field(
        default=0.6,
        description="Below this calibrated confidence a human confirms the triage.",
    )

    drift_group_id: str = Field(
        default="vigie-drift",
        description="Consumer group of the drift monitor on the telemetry topics.",
    )
    drift_max_records: int = Field(
        default=200,
        description="Most telemetry windows the drift monitor takes in one batch.",
    )
    drift_detector: str = Field(
        default="psi",
        description=(
            "Distribution detector of the drift monitor: psi, ks, jensen_shannon or wasserstein."
        ),
    )
    drift_stream_detector: str = Field(
        default="adwin",
        description=(
            "Detector of the drift monitor on confirmed errors: adwin, page_hinkley, cusum, "
            "hddm_a, hddm_w, eddm, fhddm, kswin, ewma, vote or bocpd."
        ),
    )
    drift_multiple_testing: Literal["none", "bonferroni", "benjamini_hochberg"] = Field(
        default="benjamini_hochberg",
        description=(
            "How the drift monitor corrects the p-values of one window's features and scores "
            "together, at the detector's level: benjamini_hochberg (false discovery rate), "
            "bonferroni (family-wise error rate) or none. Only detectors with p-values (ks) have "
            "any to correct."
        ),
    )
    drift_reference_windows: int = Field(
        default=3,
        description=(
            "Without an explicit reference window, the first windows of a model version are its "
            "reference."
        ),
    )
    drift_rearm_windows: int = Field(
        default=3,
        description=(
            "A subject that drifted signals again only after this many windows back within "
            "threshold."
        ),
    )
    drift_state_store: Literal["kafka", "file"] = Field(
        default="kafka",
        description=(
            'References and latches: on the compacted topic vigie.drift.state.v1 ("kafka"), which'
            ' any triage instance can carry on from, or in a local folder ("file", a single '
            "instance)."
        ),
    )
    drift_state_dir: Path = Field(
        default=Path(".vigie/drift"),
        description=(
            "Folder of the drift monitor's references and latches when "
            "VIGIE_DRIFT_STATE_STORE=file."
        ),
    )
    triage_self_telemetry: bool = Field(
        default=True,
        description=(
            "Whether the triage classifier reports telemetry on its own predictions, like any AI "
            "device."
        ),
    )
    triage_self_window_reports: int = Field(
        default=200,
        description="Reports per telemetry window of the triage classifier's own telemetry.",
    )
    triage_self_spool: Path = Field(
        default=Path(".vigie/triage-telemetry.spool"),
        description=(
            "Disk spool of the triage classifier's own telemetry, kept while Kafka is unreachable."
        ),
    )
