"""Figures of the regulator dashboard, computed under the caller's access rules."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.registry.access import report_scope
from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.cases.models import CasePublic
from services.registry.cases.workflow import CaseFilter, list_cases
from services.registry.reports.models import Report
from services.registry.signals.drift import list_drift
from services.registry.signals.models import (
    Breakdown,
    DeviceTrend,
    DisproportionalityRow,
    DriftSignalPublic,
)
from services.registry.signals.statistics import disproportionality, trends
from vigie.contracts import Severity


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows."""

    queue: list[CasePublic]
    weeks: list[str]
    by_severity: dict[str, list[int]]
    by_device: list[tuple[str, int]]
    total_reports: int
    # None for a clinician: drift signals are about devices, not their own reports.
    drift: list[DriftSignalPublic] | None
    # The plots of signals, None for a clinician as drift is: they are about devices.
    signals: Signals | None = None


@dataclass(frozen=True)
class Ratio:
    """A device's disproportionality for one value, with both ratios' 95% intervals."""

    device_name: str
    manufacturer: str
    value: str
    reports: int
    prr: float | None
    prr_ci: tuple[float, float] | None
    ror: float | None
    ror_ci: tuple[float, float] | None
    flagged: bool


@dataclass(frozen=True)
class Signals:
    """What the signal plots show: trends of the devices with the most reports, the strongest
    disproportionalities by problem category and by the clinician's action on an AI output,
    and the drift signals of the period."""

    trends: list[DeviceTrend]
    by_category: list[Ratio]
    by_action: list[Ratio]
    drift: list[DriftSignalPublic]


def prr_interval(a: int, b: int, c: int, d: int) -> tuple[float, float] | None:
    """95% interval of the PRR of a 2x2 table (log-normal approximation), with the half report
    the PRR itself puts in an empty ``c``; None without a report of the device and value.

    >>> low, high = prr_interval(10, 90, 20, 1880)
    >>> round(low, 2), round(high, 2)
    (4.57, 19.75)
    """
    if a <= 0 or a + b <= 0 or c + d <= 0:
        return None
    cc = max(c, 0.5)
    prr = (a / (a + b)) / (cc / (c + d))
    se = math.sqrt(max(1 / a - 1 / (a + b) + 1 / cc - 1 / (c + d), 0.0))
    return prr * math.exp(-1.96 * se), prr * math.exp(1.96 * se)


def _ratio(row: DisproportionalityRow) -> Ratio:
    a = row.reports
    b = row.device_reports - a
    c = row.category_reports - a
    d = row.all_reports - row.device_reports - c
    return Ratio(
        device_name=row.device_name,
        manufacturer=row.manufacturer,
        value=row.category,
        reports=a,
        prr=row.prr,
        prr_ci=prr_interval(a, b, c, d) if row.prr is not None else None,
        ror=row.ror,
        ror_ci=row.ror_ci95,
        flagged=row.flagged,
    )


def signals(
    session: Session, *, principal: Principal, today: date, weeks: int, top: int = 12
) -> Signals:
    """The signal plots' data under the signals' access rules (a manufacturer: its devices)."""
    series = trends(session, principal=principal, weeks=weeks, today=today)
    series.sort(key=lambda t: (not t.flagged_weeks, -sum(w.reports for w in t.weeks)))
    since = datetime.combine(today - timedelta(weeks=weeks), datetime.min.time())
    drift = [
        s
        for s in list_drift(session, principal=principal, limit=200)
        if s.window_end.replace(tzinfo=None) >= since
    ]
    return Signals(
        trends=series[:4],
        by_category=[_ratio(r) for r in disproportionality(session, principal=principal)[:top]],
        by_action=[
            _ratio(r)
            for r in disproportionality(
                session, principal=principal, by=Breakdown.CLINICIAN_ACTION
            )[:top]
        ],
        drift=drift,
    )


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def build(
    session: Session, *, principal: Principal, key: bytes, today: date, weeks: int = 12
) -> Dashboard:
    """Queue of open cases by deadline, weekly reports by severity, reports by device.

    Every figure is under the caller's report scope: a clinician sees the cases and reports
    of their own reports only, as the API shows them, and no drift signals.
    """
    queue = list_cases(
        session,
        principal=principal,
        key=key,
        filters=CaseFilter(open_only=True),
        limit=50,
        offset=0,
        today=today,
    ).items
    scope = report_scope(principal, key=key)
    start = _week(today) - timedelta(weeks=weeks - 1)
    day = func.date(col(Report.submitted_at))
    rows = session.exec(
        select(day, col(Report.severity), func.count())
        .where(scope, col(Report.submitted_at) >= datetime.combine(start, datetime.min.time()))
        .group_by(day, col(Report.severity))
    ).all()
    buckets = [start + timedelta(weeks=i) for i in range(weeks)]
    counts: dict[str, Counter[date]] = defaultdict(Counter)
    for raw_day, severity, n in rows:
        d = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
        counts[Severity(severity).value][_week(d)] += int(n)
    by_severity = {s.value: [counts[s.value][b] for b in buckets] for s in Severity}
    devices = session.exec(
        select(col(Report.device_name), func.count())
        .where(scope)
        .group_by(col(Report.device_name))
        .order_by(func.count().desc())
        .limit(10)
    ).all()
    total = session.exec(select(func.count()).select_from(Report).where(scope)).one()
    return Dashboard(
        queue=queue,
        weeks=[b.strftime("%d/%m") for b in buckets],
        by_severity=by_severity,
        by_device=[(str(n), int(c)) for n, c in devices],
        total_reports=int(total),
        drift=None
        if principal.role is Role.CLINICIAN
        else list_drift(session, principal=principal, limit=20),
        signals=None
        if principal.role is Role.CLINICIAN
        else signals(session, principal=principal, today=today, weeks=weeks),
    )
