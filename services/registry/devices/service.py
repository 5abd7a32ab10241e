"""Device catalogue: seeding from the FDA AI-device list, lookup, model versions seen."""

from __future__ import annotations

import csv
import gzip
import hashlib
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from services.registry.devices.models import Device, DeviceModelVersion, DevicePage, DevicePublic
from services.registry.errors import NotFound
from vigie.contracts import DeviceRef, utcnow

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


def ref_key(ref: DeviceRef) -> tuple[str | None, str, str]:
    """How :func:`resolve_many` keys a reported device: UDI-DI, name and manufacturer."""
    return (ref.udi_di, ref.name.casefold(), ref.manufacturer.casefold())


def resolve_many(
    session: Session, refs: Iterable[DeviceRef]
) -> dict[tuple[str | None, str, str], Device]:
    """The catalogue entry of each reported device, keyed by (UDI-DI, name, manufacturer) in
    lower case: UDI-DI first, then name and manufacturer, in two queries for the whole batch.

    A device absent from the catalogue is added as 'reported' so that its model versions and
    cases are still followed.
    """
    wanted = {ref_key(r): r for r in refs}
    if not wanted:
        return {}
    by_udi: dict[str, Device] = {}
    udis = {r.udi_di for r in wanted.values() if r.udi_di}
    if udis:
        for device in session.exec(
            select(Device).where(col(Device.udi_di).in_(udis)).order_by(col(Device.device_id))
        ):
            by_udi.setdefault(device.udi_di or "", device)
    by_name: dict[tuple[str, str], Device] = {}
    for device in session.exec(
        select(Device)
        .where(
            col(Device.name_key).in_({k[1] for k in wanted}),
            col(Device.manufacturer_key).in_({k[2] for k in wanted}),
        )
        .order_by(col(Device.device_id))
    ):
        by_name.setdefault((device.name_key, device.manufacturer_key), device)
    found: dict[tuple[str | None, str, str], Device] = {}
    added = False
    for key, ref in wanted.items():
        match = by_udi.get(ref.udi_di or "") or by_name.get(key[1:])
        if match is None:
            match = session.get(Device, _reported_id(ref))
        if match is None:
            device = Device(
                device_id=_reported_id(ref),
                name=ref.name,
                name_key=key[1],
                manufacturer=ref.manufacturer,
                manufacturer_key=key[2],
                udi_di=ref.udi_di,
            )
            session.add(device)
            added = True
        else:
            device = match
            if ref.udi_di and not device.udi_di:
                device.udi_di = ref.udi_di
                session.add(device)
        by_name.setdefault(key[1:], device)
        found[key] = device
    if added:
        session.flush()
    return found


def note_model_versions(
    session: Session, refs: Iterable[DeviceRef]
) -> dict[tuple[str | None, str, str], Device]:
    """Remember that each device's model version was seen (caller commits), in a few queries
    for the whole batch; returns the devices as :func:`resolve_many` does."""
    refs = list(refs)
    devices = resolve_many(session, refs)
    seen = {(devices[ref_key(r)].device_id, r.model_version) for r in refs}
    known = set(
        session.exec(
            select(DeviceModelVersion.device_id, DeviceModelVersion.model_version).where(
                col(DeviceModelVersion.device_id).in_({d for d, _ in seen})
            )
        )
    )
    pending = {
        (o.device_id, o.model_version) for o in session.new if isinstance(o, DeviceModelVersion)
    }
    for device_id, version in sorted(seen - known - pending):
        session.add(
            DeviceModelVersion(device_id=device_id, model_version=version, first_seen=utcnow())
        )
    return devices


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
