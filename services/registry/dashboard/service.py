"""Figures of the regulator dashboard, computed under the caller's access rules."""

from __future__ import annotations

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
from services.registry.signals.models import DriftSignalPublic
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
    )
