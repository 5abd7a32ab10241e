"""The AI model versions of the catalogue's devices, as their own telemetry declares them: what
the report form offers a reporter who picked a device."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from services.registry.devices.models import Device
from services.registry.signals.models import TelemetryUsage

# At most this many versions per device, the most recent: a form offers a few, not a history.
MAX_VERSIONS = 20


class CatalogueDeviceVersions(SQLModel):
    """The model versions one catalogue device's telemetry declared, oldest first."""

    device_id: str
    model_versions: list[str]


class CatalogueVersions(SQLModel):
    """Model versions of every catalogue device that has sent telemetry."""

    items: list[CatalogueDeviceVersions]


def model_versions(session: Session) -> CatalogueVersions:
    """The versions each catalogue device's telemetry declared.

    Only catalogue devices (public FDA data) and only telemetry (written by the devices'
    software under their own credentials): nothing a report's author typed, which would make
    any free text of one reporter a suggestion to all others, and nothing that tells whether a
    device was reported.
    """
    first_seen = func.min(col(TelemetryUsage.window_day))
    rows = session.exec(
        select(col(TelemetryUsage.device_id), col(TelemetryUsage.model_version), first_seen)
        .join(Device, col(Device.device_id) == col(TelemetryUsage.device_id))
        .where(col(Device.source) == "fda-catalogue")
        .group_by(col(TelemetryUsage.device_id), col(TelemetryUsage.model_version))
        .order_by(col(TelemetryUsage.device_id), first_seen, col(TelemetryUsage.model_version))
    )
    versions: dict[str, list[str]] = {}
    for device_id, version, _ in rows:
        versions.setdefault(device_id, []).append(version)
    return CatalogueVersions(
        items=[
            CatalogueDeviceVersions(device_id=d, model_versions=v[-MAX_VERSIONS:])
            for d, v in versions.items()
        ]
    )
