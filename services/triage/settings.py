"""Settings of the triage service."""

from __future__ import annotations

from pathlib import Path

from vigie.settings import CommonSettings


class TriageSettings(CommonSettings):
    """Triage: consumer group, batch size, model and review threshold."""

    triage_group_id: str = "vigie-triage"
    triage_max_records: int = 500
    triage_metrics_host: str = "127.0.0.1"
    triage_metrics_port: int = 8002
    # None means the artefact shipped with the project.
    triage_model_dir: Path | None = None
    # The platform can run before a model exists (first deployment): severity then comes from the
    # reported outcome only and every ReportTriaged says no model ran.
    triage_use_model: bool = False
    # Below this calibrated confidence a human confirms the triage.
    triage_review_confidence: float = 0.6
