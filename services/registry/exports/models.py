"""API models of the change feed: what changed since a cursor, one page at a time."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field
from sqlmodel import SQLModel

from services.registry.cases.models import CasePublic
from services.registry.reports.models import ReportPublic


class ChangeKind(StrEnum):
    """What the change feed lists."""

    CASES = "cases"
    REPORTS = "reports"


class _Change(SQLModel):
    changed_at: datetime = Field(description="When the latest change to the item was recorded.")
    cursor: str = Field(
        description="Resume point just after this item: a client that stopped part-way through "
        "a page passes the cursor of the last item it kept as ``since``."
    )


class CaseChange(_Change):
    """A case that changed, as it stands now."""

    case: CasePublic


class ReportChange(_Change):
    """A report whose case changed (recorded, linked, merged, re-triaged, a status change),
    as it stands now."""

    report: ReportPublic


class _ChangePage(SQLModel):
    next_cursor: str = Field(
        description="Pass it as ``since`` for the next page; with no more items it is the point "
        "to poll from later (changes made after it will come)."
    )
    has_more: bool = Field(description="Whether more changes were waiting when this page was read.")


class CaseChangePage(_ChangePage):
    """Cases changed since the cursor, oldest change first."""

    kind: Literal[ChangeKind.CASES] = ChangeKind.CASES
    items: list[CaseChange]


class ReportChangePage(_ChangePage):
    """Reports changed since the cursor, oldest change first."""

    kind: Literal[ChangeKind.REPORTS] = ChangeKind.REPORTS
    items: list[ReportChange]
