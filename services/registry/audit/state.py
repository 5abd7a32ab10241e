"""Digests of the state an audit record leaves behind: a case with what hangs on it, or a token.

The hash chain proves the audit records themselves; these digests bind the records to the rows
they describe. Each audited change stores the digest of the state it produced, and
``vigie audit verify`` recomputes the digests from the current rows: a severity lowered, a case
closed, a report deleted or a narrative rewritten directly in the database, or an API token
inserted there, no longer matches the newest digest (or has none).

A digest covers every column of the rows involved, normalised so that SQLite and PostgreSQL
give the same bytes (times in UTC to the microsecond, enumerations by value), except columns
that change without an audited act (a token's last use) and columns a later release added,
while they are null (:data:`ADDED_LATER`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, SQLModel, col, select

from services.registry.auth.models import ApiToken
from services.registry.cases.models import Case, CaseReport, MirReport
from services.registry.reports.models import AI_COLUMNS, Report

# Columns left out of a digest: they change on their own, with nothing to audit.
_UNAUDITED: dict[str, frozenset[str]] = {"api_token": frozenset({"last_used_at"})}
# Nullable columns a release added to a table whose rows earlier releases had digested: left
# out of a digest while null, so that the digests recorded before them still match the rows
# (which read null there), and covered as soon as they hold a value.
ADDED_LATER: dict[str, frozenset[str]] = {"report": frozenset(AI_COLUMNS)}
# Cases digested per round of queries by :func:`case_digests` over many cases.
_CHUNK = 500


# Types a digest takes as they are (exact types: an enumeration deriving from str is not one).
_PLAIN = frozenset({str, int, bool, type(None)})


def _value(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        # SQLite returns naive UTC, PostgreSQL aware times in the session's zone.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date | uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def _columns(row: SQLModel) -> dict[str, Any]:
    table = row.__table__  # type: ignore[attr-defined]
    return _values(table, {c.key: getattr(row, c.key) for c in table.columns})


def _values(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _value(row[key])
        for key, added_later in _audited(table)
        if not (added_later and row[key] is None)
    }


@functools.cache
def _audited(table: Table) -> tuple[tuple[str, bool], ...]:
    """The digested columns of ``table``, each with whether a later release added it."""
    skipped = _UNAUDITED.get(table.name, frozenset())
    later = ADDED_LATER.get(table.name, frozenset())
    return tuple((c.key, c.key in later) for c in table.columns if c.key not in skipped)


def _digest(content: object) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def case_digest(
    case: Case,
    links: Iterable[CaseReport],
    reports: Iterable[Report],
    mirs: Iterable[MirReport] = (),
) -> str:
    """Digest of a case, its links, the reports linked to it and its MIR filings."""
    return _digest(
        {
            "case": _columns(case),
            "links": _sorted(links, "report_id"),
            "reports": _sorted(reports, "report_id"),
            "mirs": _sorted(mirs, "mir_id"),
        }
    )


def opened_case_digest(
    case: Mapping[str, Any], link: Mapping[str, Any], report: Mapping[str, Any]
) -> str:
    """:func:`case_digest` of a case just opened on one report, from the values of its rows
    (as inserted in bulk, the report's as stored) rather than from ORM objects."""
    return _digest(
        {
            "case": _values(_table(Case), case),
            "links": [_values(_table(CaseReport), link)],
            "reports": [_values(_table(Report), report)],
            "mirs": [],
        }
    )


def _table(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


def _sorted(rows: Iterable[SQLModel], key: str) -> list[dict[str, Any]]:
    columns = [_columns(row) for row in rows]
    return sorted(columns, key=lambda c: str(c[key]))


def token_digest(token: ApiToken) -> str:
    """Digest of a token's row (its secret's hash, role, validity), not of its last use."""
    return _digest({"token": _columns(token)})


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def case_digests(session: Session, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Digest of each of ``case_ids`` that exists, from the rows as they stand (pending changes
    of the session included)."""
    found: dict[uuid.UUID, str] = {}
    for ids in _chunks(list(dict.fromkeys(case_ids))):
        cases = session.exec(select(Case).where(col(Case.case_id).in_(ids))).all()
        links: dict[uuid.UUID, list[CaseReport]] = {c.case_id: [] for c in cases}
        for link in session.exec(select(CaseReport).where(col(CaseReport.case_id).in_(ids))):
            links.setdefault(link.case_id, []).append(link)
        report_ids = {link.report_id for linked in links.values() for link in linked}
        reports = {
            r.report_id: r
            for r in session.exec(select(Report).where(col(Report.report_id).in_(report_ids)))
        }
        mirs: dict[uuid.UUID, list[MirReport]] = {}
        for mir in session.exec(select(MirReport).where(col(MirReport.case_id).in_(ids))):
            mirs.setdefault(mir.case_id, []).append(mir)
        for case in cases:
            linked = links[case.case_id]
            found[case.case_id] = case_digest(
                case,
                linked,
                [reports[link.report_id] for link in linked if link.report_id in reports],
                mirs.get(case.case_id, ()),
            )
    return found


def all_case_ids(session: Session) -> list[uuid.UUID]:
    """Every case in the database."""
    return list(session.exec(select(Case.case_id)))


def unlinked_reports(session: Session) -> list[uuid.UUID]:
    """Reports that stand in no case: the registry records none, so one was inserted by hand
    (or its case and links deleted)."""
    linked = select(CaseReport.report_id)
    return list(session.exec(select(Report.report_id).where(col(Report.report_id).not_in(linked))))


def token_digests(session: Session) -> dict[uuid.UUID, str]:
    """Digest of every API token."""
    return {t.token_id: token_digest(t) for t in session.exec(select(ApiToken))}
