"""Recording drift signals and usage, and computing statistical signals over reports."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.devices.service import note_model_versions, ref_key, resolve_many
from services.registry.errors import AccessDenied, NotFound
from services.registry.reports.models import Report
from services.registry.signals import stats
from services.registry.signals.models import (
    DeviceTrend,
    DisproportionalityRow,
    DriftSignal,
    DriftSignalPublic,
    StatisticalSignal,
    TelemetryUsage,
    TrendWeek,
)
from services.registry.subscriptions.service import raise_alert
from vigie.contracts import (
    Alert,
    AlertType,
    DeviceRef,
    DriftDetected,
    Severity,
    SignalSeverity,
    TelemetryWindow,
    utcnow,
)

_ALERT_NAMESPACE = uuid.UUID("0d3d7c3e-8a3f-4bb8-9f5e-7a1c6f0f4e21")
# Drift signals at these severities reach the regulators' alert topic.
ALERTING = frozenset({SignalSeverity.HIGH})


def _insert_ignore(session: Session, model: type, key: str, rows: list[dict[str, object]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key; returns how many rows were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(rows).on_conflict_do_nothing().returning(table.c[key])
    return len(session.execute(statement).all())


@dataclass(frozen=True)
class SignalsRecorded:
    """Outcome of recording a batch of drift signals."""

    inserted: int
    duplicates: int
    alerts: int


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
    _insert_ignore(session, DriftSignal, "signal_id", new)
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
    inserted = _insert_ignore(session, TelemetryUsage, "event_id", rows)
    session.commit()
    return inserted


# --- reading ---------------------------------------------------------------------------------


def _scope(principal: Principal, manufacturer_key: Any) -> ColumnElement[bool]:
    """Rows the principal may read: all for regulators, its own devices' for a manufacturer."""
    if principal.role in (Role.REGULATOR, Role.ADMIN):
        return true()
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        return col(manufacturer_key) == principal.manufacturer_key
    raise AccessDenied(principal.role.value)


def list_drift(
    session: Session,
    *,
    principal: Principal,
    severity: SignalSeverity | None = None,
    device_name: str | None = None,
    limit: int = 50,
) -> list[DriftSignalPublic]:
    """Newest drift signals the caller may read."""
    query = select(DriftSignal).where(_scope(principal, DriftSignal.manufacturer_key))
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
            col(DriftSignal.signal_id) == signal_id, _scope(principal, DriftSignal.manufacturer_key)
        )
    ).first()
    if signal is None:
        raise NotFound("signal")
    return DriftSignalPublic.model_validate(signal.model_dump())


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def trends(
    session: Session,
    *,
    principal: Principal,
    device_name: str | None = None,
    weeks: int = 26,
    today: date | None = None,
) -> list[DeviceTrend]:
    """Weekly incident counts per device (by awareness date) with usage and trend tests."""
    today = today or date.today()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    labels = [_iso_week(first + timedelta(weeks=i)) for i in range(weeks)]
    query = select(
        col(Report.manufacturer_key),
        col(Report.device_name),
        col(Report.manufacturer),
        col(Report.awareness_date),
    ).where(_scope(principal, Report.manufacturer_key), col(Report.awareness_date) >= first)
    if device_name is not None:
        query = query.where(col(Report.device_name) == device_name)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[tuple[str, str], str] = {}
    for key, name, manufacturer, awareness in session.exec(query):
        counts[(key, name)][_iso_week(awareness)] += 1
        names[(key, name)] = manufacturer
    usage = _weekly_usage(session, first)
    out = []
    for (key, name), by_week in sorted(counts.items()):
        used = usage.get((key, name.casefold()), {})
        series = [by_week.get(w, 0) for w in labels]
        uses = [used.get(w) for w in labels]
        points = stats.trend(labels, series, uses)
        out.append(
            DeviceTrend(
                device_name=name,
                manufacturer=names[(key, name)],
                weeks=[
                    TrendWeek(
                        week=p.week,
                        reports=p.reports,
                        usage=p.usage,
                        rate_per_1000_uses=1000 * p.reports / p.usage if p.usage else None,
                        expected=p.expected,
                        ratio=p.ratio,
                        p_value=p.p_value,
                        flagged=p.flagged,
                    )
                    for p in points
                ],
                flagged_weeks=[p.week for p in points if p.flagged],
            )
        )
    return out


def _weekly_usage(session: Session, first: date) -> dict[tuple[str, str], dict[str, int]]:
    from services.registry.devices.models import Device

    query = (
        select(
            col(Device.manufacturer_key),
            col(Device.name_key),
            col(TelemetryUsage.window_day),
            func.sum(col(TelemetryUsage.n_predictions)),
        )
        .join(Device, col(Device.device_id) == col(TelemetryUsage.device_id))
        .where(col(TelemetryUsage.window_day) >= first)
        .group_by(
            col(Device.manufacturer_key), col(Device.name_key), col(TelemetryUsage.window_day)
        )
    )
    usage: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for manufacturer_key, name_key, day, total in session.exec(query):
        usage[(manufacturer_key, name_key)][_iso_week(day)] += int(total)
    return usage


def disproportionality(
    session: Session, *, principal: Principal, flagged_only: bool = False
) -> list[DisproportionalityRow]:
    """PRR and ROR of each (device, category) against all other devices' reports.

    The comparison is always against the whole database (a manufacturer's own reports alone
    would be no background), but a manufacturer sees only the rows of its own devices.
    """
    scope_key = None
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        scope_key = principal.manufacturer_key
    elif principal.role not in (Role.REGULATOR, Role.ADMIN):
        raise AccessDenied(principal.role.value)
    cells = session.exec(
        select(
            col(Report.manufacturer_key),
            col(Report.device_name),
            col(Report.category),
            func.count(),
        ).group_by(col(Report.manufacturer_key), col(Report.device_name), col(Report.category))
    ).all()
    device_totals: dict[tuple[str, str], int] = defaultdict(int)
    category_totals: dict[str, int] = defaultdict(int)
    total = 0
    for key, name, category, n in cells:
        device_totals[(key, name)] += n
        total += n
        if category:
            category_totals[category] += n
    manufacturers = dict(
        session.exec(select(Report.manufacturer_key, Report.manufacturer).distinct()).all()
    )
    rows = []
    for key, name, category, a in cells:
        if not category or (scope_key is not None and key != scope_key):
            continue
        n_device = device_totals[(key, name)]
        c = category_totals[category] - a
        result = stats.disproportionality(a, n_device - a, c, total - n_device - c)
        if flagged_only and not result.flagged:
            continue
        rows.append(
            DisproportionalityRow(
                device_name=name,
                manufacturer=manufacturers.get(key, key),
                category=category,
                reports=a,
                device_reports=n_device,
                category_reports=category_totals[category],
                all_reports=total,
                prr=result.prr,
                chi2=result.chi2,
                ror=result.ror,
                ror_ci95=(result.ror_lower, result.ror_upper)
                if result.ror_lower is not None and result.ror_upper is not None
                else None,
                flagged=result.flagged,
            )
        )
    rows.sort(key=lambda r: (not r.flagged, -(r.prr or 0)))
    return rows


def scan(session: Session, *, alerts_topic: str, country: str, today: date | None = None) -> int:
    """Raise one alert per newly flagged statistic (disproportionality, trend week)."""
    system = Principal(token_id="system", role=Role.REGULATOR, manufacturer=None)
    found: list[tuple[str, str, str, str, str]] = []
    for row in disproportionality(session, principal=system, flagged_only=True):
        found.append(
            (
                f"prr|{row.manufacturer.casefold()}|{row.device_name}|{row.category}",
                row.manufacturer,
                row.device_name,
                row.category,
                f"{row.device_name}: {row.category} reported disproportionately "
                f"(PRR {row.prr:.1f}, chi-square {row.chi2:.1f}, N {row.reports})",
            )
        )
    for device in trends(session, principal=system, today=today):
        for week in device.flagged_weeks:
            point = next(w for w in device.weeks if w.week == week)
            found.append(
                (
                    f"trend|{device.manufacturer.casefold()}|{device.device_name}|{week}",
                    device.manufacturer,
                    device.device_name,
                    "trend",
                    f"{device.device_name}: {point.reports} incidents in {week}, "
                    f"{point.ratio:.1f}x expected (p={point.p_value:.2g})",
                )
            )
    if not found:
        return 0
    known = set(
        session.exec(
            select(StatisticalSignal.key).where(
                col(StatisticalSignal.key).in_([f[0] for f in found])
            )
        )
    )
    raised = 0
    for key, manufacturer, name, category, detail in found:
        if key in known:
            continue
        session.add(
            StatisticalSignal(
                key=key,
                kind=key.split("|")[0],
                manufacturer_key=manufacturer.casefold(),
                device_name=name,
                detail=detail[:1000],
            )
        )
        alert = Alert(
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
        raise_alert(session, alert, topic=alerts_topic, key=key)
        raised += 1
    session.commit()
    return raised
