"""Device usage from telemetry: predictions per window, the denominator of incident rates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from services.registry.db import insert_ignore
from services.registry.devices.service import ref_key, resolve_many
from services.registry.signals.models import TelemetryUsage
from vigie.contracts import TelemetryWindow


def record_usage(session: Session, windows: Sequence[TelemetryWindow]) -> int:
    """Remember each window's number of predictions (once per window id)."""
    # A reference is validation data, not clinical use.
    used = [w for w in {w.event_id: w for w in windows}.values() if not w.reference]
    devices = resolve_many(session, [w.device for w in used])
    rows = []
    for w in used:
        device = devices[ref_key(w.device)]
        rows.append(
            {
                "event_id": w.event_id,
                "device_id": device.device_id,
                "model_version": w.device.model_version,
                "window_day": w.window_start.date(),
                "n_predictions": w.n_predictions,
            }
        )
    inserted = insert_ignore(session, TelemetryUsage, "event_id", rows)
    session.commit()
    return inserted
