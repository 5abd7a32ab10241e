"""Statistical signals over reports: weekly trends per use, disproportionality, and the scan
that raises an alert for each newly flagged statistic."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlmodel import Session, col, func, select

from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.errors import AccessDenied
from services.registry.reports.models import Report
from services.registry.signals import stats
from services.registry.signals.access import scope
from services.registry.signals.alerts import statistical_alert
from services.registry.signals.models import (
    Breakdown,
    DeviceTrend,
    DisproportionalityRow,
    StatisticalSignal,
    TelemetryUsage,
    TrendWeek,
)
from services.registry.subscriptions.service import raise_alert

# The report column each breakdown counts by (null: the report does not say, not counted).
_BREAKDOWN_COLUMNS = {
    Breakdown.CATEGORY: col(Report.category),
    Breakdown.CLINICIAN_ACTION: col(Report.ai_clinician_action),
    Breakdown.AI_TASK: col(Report.ai_task),
    Breakdown.PATIENT_AGE_BAND: col(Report.patient_age_band),
    Breakdown.PATIENT_SEX: col(Report.patient_sex),
}


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
    ).where(scope(principal, Report.manufacturer_key), col(Report.awareness_date) >= first)
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
    session: Session,
    *,
    principal: Principal,
    flagged_only: bool = False,
    by: Breakdown = Breakdown.CATEGORY,
) -> list[DisproportionalityRow]:
    """PRR and ROR of each (device, category) against all other devices' reports; ``by``
    counts another property of the reports instead of the problem category (the clinician's
    action on an AI suggestion: is "followed" disproportionate for one device?).

    The comparison is always against the whole database (a manufacturer's own reports alone
    would be no background), but a manufacturer sees only the rows of its own devices.
    """
    dimension = _BREAKDOWN_COLUMNS[by]
    scope_key = None
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        scope_key = principal.manufacturer_key
    elif principal.role not in (Role.REGULATOR, Role.ADMIN):
        raise AccessDenied(principal.role.value)
    cells = session.exec(
        select(
            col(Report.manufacturer_key),
            col(Report.device_name),
            dimension,
            func.count(),
        ).group_by(col(Report.manufacturer_key), col(Report.device_name), dimension)
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
                breakdown=by,
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
        alert = statistical_alert(
            key,
            manufacturer=manufacturer,
            name=name,
            category=category,
            detail=detail,
            country=country,
        )
        raise_alert(session, alert, topic=alerts_topic, key=key)
        raised += 1
    session.commit()
    return raised
