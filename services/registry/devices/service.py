"""Device catalogue: seeding from the FDA AI-device list, lookup, model versions seen."""

from __future__ import annotations

import csv
import gzip
import hashlib
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from services.registry.devices.models import Device, DeviceModelVersion, DevicePage, DevicePublic
from services.registry.errors import NotFound
from vigie.contracts import DeviceRef

CATALOGUE = Path(__file__).resolve().parents[3] / "data" / "devices" / "fda_ai_devices.csv.gz"
_RISK_CLASS = {"510k": "II (FDA 510(k))", "de_novo": "I/II (FDA De Novo)", "pma": "III (FDA PMA)"}


def seed(session: Session, path: Path = CATALOGUE) -> int:
    """Load the catalogue once (no-op when devices from it are present); returns rows added."""
    present = session.exec(
        select(func.count()).select_from(Device).where(col(Device.source) == "fda-catalogue")
    ).one()
    if present:
        return 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    seen: set[str] = set()
    for row in rows:
        # The source repeats some ids (several extractions of one decision): keep the first.
        if row["device_id"] in seen:
            continue
        seen.add(row["device_id"])
        session.add(
            Device(
                device_id=row["device_id"],
                name=row["device_name"],
                name_key=row["device_name"].casefold(),
                manufacturer=row["applicant"],
                manufacturer_key=row["applicant"].casefold(),
                risk_class=_RISK_CLASS.get(row["submission_pathway"]),
                submission_number=row["submission_number"] or None,
                pathway=row["submission_pathway"] or None,
                year=int(row["year"]) if row["year"].isdigit() else None,
                clinical_domain=row["clinical_domain"] or None,
                device_function=row["device_function"] or None,
                source="fda-catalogue",
            )
        )
    session.commit()
    return len(seen)


def _reported_id(ref: DeviceRef) -> str:
    digest = hashlib.sha256(f"{ref.manufacturer.casefold()}|{ref.name.casefold()}".encode())
    return "REP_" + digest.hexdigest()[:16]


def resolve(session: Session, ref: DeviceRef) -> Device:
    """The catalogue entry of a reported device (UDI-DI first, then name and manufacturer).

    A device absent from the catalogue is added as 'reported' so that its model versions and
    cases are still followed.
    """
    if ref.udi_di:
        found = session.exec(select(Device).where(col(Device.udi_di) == ref.udi_di)).first()
        if found:
            return found
    found = session.exec(
        select(Device).where(
            col(Device.name_key) == ref.name.casefold(),
            col(Device.manufacturer_key) == ref.manufacturer.casefold(),
        )
    ).first()
    if found is None:
        found = session.get(Device, _reported_id(ref))
    if found is None:
        found = Device(
            device_id=_reported_id(ref),
            name=ref.name,
            name_key=ref.name.casefold(),
            manufacturer=ref.manufacturer,
            manufacturer_key=ref.manufacturer.casefold(),
            udi_di=ref.udi_di,
        )
        session.add(found)
        session.flush()
    elif ref.udi_di and not found.udi_di:
        found.udi_di = ref.udi_di
        session.add(found)
    return found


def note_model_version(session: Session, ref: DeviceRef) -> None:
    """Remember that ``ref``'s model version was seen (caller commits)."""
    device = resolve(session, ref)
    known = session.exec(
        select(DeviceModelVersion).where(
            col(DeviceModelVersion.device_id) == device.device_id,
            col(DeviceModelVersion.model_version) == ref.model_version,
        )
    ).first()
    pending = any(
        isinstance(o, DeviceModelVersion)
        and o.device_id == device.device_id
        and o.model_version == ref.model_version
        for o in session.new
    )
    if known is None and not pending:
        session.add(DeviceModelVersion(device_id=device.device_id, model_version=ref.model_version))


def _public(session: Session, devices: list[Device]) -> list[DevicePublic]:
    ids = [d.device_id for d in devices]
    versions: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for v in session.exec(
            select(DeviceModelVersion)
            .where(col(DeviceModelVersion.device_id).in_(ids))
            .order_by(col(DeviceModelVersion.first_seen))
        ):
            versions[v.device_id].append(v.model_version)
    return [
        DevicePublic.model_validate({**d.model_dump(), "model_versions": versions[d.device_id]})
        for d in devices
    ]


def search(
    session: Session, *, q: str | None, manufacturer: str | None, limit: int, offset: int
) -> DevicePage:
    """Devices whose name or manufacturer contains ``q``."""
    statement = select(Device)
    if q:
        like = f"%{q.casefold()}%"
        statement = statement.where(
            or_(col(Device.name_key).like(like), col(Device.manufacturer_key).like(like))
        )
    if manufacturer:
        statement = statement.where(col(Device.manufacturer_key) == manufacturer.casefold())
    rows = list(
        session.exec(
            statement.order_by(col(Device.name_key), col(Device.device_id))
            .offset(offset)
            .limit(limit + 1)
        )
    )
    return DevicePage(
        items=_public(session, rows[:limit]),
        next_offset=offset + limit if len(rows) > limit else None,
    )


def get(session: Session, device_id: str) -> DevicePublic:
    """One device."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(device_id)
    return _public(session, [device])[0]
