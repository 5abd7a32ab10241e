"""Drift signals from the devices' monitors: recorded once per signal id, severe ones alerted,
read back by regulators and by each manufacturer for its own devices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.registry.auth.service import Principal
from services.registry.db import insert_ignore
from services.registry.devices.service import note_model_versions, ref_key
from services.registry.errors import NotFound
from services.registry.signals.access import scope
from services.registry.signals.alerts import drift_alert
from services.registry.signals.models import DriftSignal, DriftSignalPublic
from services.registry.subscriptions.service import raise_alert
from vigie.contracts import DriftDetected, SignalSeverity, utcnow

# Drift signals at these severities reach the regulators' alert topic.
ALERTING = frozenset({SignalSeverity.HIGH})


@dataclass(frozen=True)
class SignalsRecorded:
    """Outcome of recording a batch of drift signals."""

    inserted: int
    duplicates: int
    alerts: int


def record_drift(
    session: Session, signals: Sequence[DriftDetected], *, alerts_topic: str, country: str
) -> SignalsRecorded:
    """Upsert drift signals by id, link them to the device catalogue, alert on severe ones."""
    unique = {s.signal_id: s for s in signals}
    now = utcnow()
    devices = note_model_versions(session, [s.device for s in unique.values()])
    rows = []
    for s in unique.values():
        device = devices[ref_key(s.device)]
        rows.append(
            {
                "signal_id": s.signal_id,
                "device_id": device.device_id,
                "device_name": s.device.name,
                "manufacturer": s.device.manufacturer,
                "manufacturer_key": s.device.manufacturer.casefold(),
                "model_version": s.device.model_version,
                "detector": s.detector,
                "subject": s.subject,
                "statistic": s.statistic,
                "threshold": s.threshold,
                "p_value": s.p_value,
                "severity": s.severity,
                "also_drifted": ",".join(s.also_drifted),
                "summary": s.summary,
                "reference_start": s.reference_window[0],
                "reference_end": s.reference_window[1],
                "window_start": s.current_window[0],
                "window_end": s.current_window[1],
                "recorded_at": now,
            }
        )
    known = set(
        session.exec(
            select(DriftSignal.signal_id).where(col(DriftSignal.signal_id).in_(list(unique)))
        )
    )
    new = [r for r in rows if r["signal_id"] not in known]
    insert_ignore(session, DriftSignal, "signal_id", new)
    alerts = 0
    for row in new:
        signal = unique[row["signal_id"]]  # type: ignore[index]
        if signal.severity in ALERTING:
            raise_alert(
                session,
                drift_alert(signal, country=country),
                topic=alerts_topic,
                key=str(signal.signal_id),
            )
            alerts += 1
    session.commit()
    return SignalsRecorded(len(new), len(signals) - len(new), alerts)


def list_drift(
    session: Session,
    *,
    principal: Principal,
    severity: SignalSeverity | None = None,
    device_name: str | None = None,
    limit: int = 50,
) -> list[DriftSignalPublic]:
    """Newest drift signals the caller may read."""
    query = select(DriftSignal).where(scope(principal, DriftSignal.manufacturer_key))
    if severity is not None:
        query = query.where(col(DriftSignal.severity) == severity)
    if device_name is not None:
        query = query.where(col(DriftSignal.device_name) == device_name)
    query = query.order_by(col(DriftSignal.recorded_at).desc()).limit(limit)
    return [DriftSignalPublic.model_validate(s.model_dump()) for s in session.exec(query)]


def get_drift(session: Session, signal_id: uuid.UUID, *, principal: Principal) -> DriftSignalPublic:
    """One drift signal (404 also when it exists but is another manufacturer's)."""
    signal = session.exec(
        select(DriftSignal).where(
            col(DriftSignal.signal_id) == signal_id, scope(principal, DriftSignal.manufacturer_key)
        )
    ).first()
    if signal is None:
        raise NotFound("signal")
    return DriftSignalPublic.model_validate(signal.model_dump())
