"""Who may read which reports: the one rule every read path applies, directly or through a case."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from services.registry.auth.models import Role
from services.registry.auth.service import Principal
from services.registry.errors import AccessDenied
from services.registry.reports.models import Report

# Roles that read every report.
READ_ALL = (Role.REGULATOR, Role.ADMIN)


def report_scope(principal: Principal, *, key: bytes) -> ColumnElement[bool]:
    """Rows the principal may read: all for regulators and administrators, a manufacturer's
    own devices' reports, a clinician's own reports; nothing for any other role."""
    if principal.role in READ_ALL:
        return col(Report.report_id).is_not(None)
    if principal.role is Role.MANUFACTURER and principal.manufacturer_key:
        return col(Report.manufacturer_key) == principal.manufacturer_key
    if principal.role is Role.CLINICIAN:
        return col(Report.reporter_ref) == principal.reporter_ref(key=key)
    raise AccessDenied(principal.role.value)


def readable_reports(
    session: Session, report_ids: Iterable[uuid.UUID], *, principal: Principal, key: bytes
) -> set[uuid.UUID]:
    """Those of ``report_ids`` the principal may read.

    A case can hold reports of several parties (a regulator links a report of another
    manufacturer, or of another clinician, into it): who may read the case does not make its
    every report readable.
    """
    ids = list(report_ids)
    if principal.role in READ_ALL or not ids:
        return set(ids)
    statement = select(Report.report_id).where(
        col(Report.report_id).in_(ids), report_scope(principal, key=key)
    )
    return set(session.exec(statement))
