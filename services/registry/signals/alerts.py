"""The regulator alerts that signals raise: severe drift, newly flagged statistics."""

from __future__ import annotations

import uuid

from vigie.contracts import Alert, AlertType, DeviceRef, DriftDetected, Severity

_ALERT_NAMESPACE = uuid.UUID("0d3d7c3e-8a3f-4bb8-9f5e-7a1c6f0f4e21")


def drift_alert(signal: DriftDetected, *, country: str) -> Alert:
    """The regulator alert of a severe drift signal."""
    device = signal.device
    return Alert(
        event_id=uuid.uuid5(_ALERT_NAMESPACE, f"{signal.signal_id}:drift"),
        alert_type=AlertType.DRIFT,
        severity=Severity.SERIOUS,
        device=device,
        country=country,
        category=f"drift:{signal.subject}",
        summary=signal.summary,
        registry_path=f"/api/v1/signals/drift/{signal.signal_id}",
    )


def statistical_alert(
    key: str, *, manufacturer: str, name: str, category: str, detail: str, country: str
) -> Alert:
    """The regulator alert of a statistic flagged for the first time (one per ``key``)."""
    return Alert(
        event_id=uuid.uuid5(_ALERT_NAMESPACE, key),
        alert_type=AlertType.STATISTICAL_SIGNAL,
        severity=Severity.SERIOUS,
        device=DeviceRef(name=name, manufacturer=manufacturer, model_version="all"),
        country=country,
        category=category,
        summary=detail[:500],
        registry_path="/api/v1/signals/disproportionality"
        if category != "trend"
        else f"/api/v1/signals/trends?device_name={name}",
    )
