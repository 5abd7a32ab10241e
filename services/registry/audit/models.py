"""Append-only audit records, chained by hash."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, Text
from sqlmodel import Field, SQLModel

from vigie.contracts import utcnow


class AuditRecord(SQLModel, table=True):
    """One change to a case: who, what, when, and the hash that links it to the one before."""

    __tablename__ = "audit_record"

    seq: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=50)
    detail: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    # SHA-256 of the state the change produced (the case with its links, reports and MIR
    # filings, or the token), covered by ``hash``: ``vigie audit verify`` compares the current
    # rows with the newest one, so a row changed or deleted behind the registry's back shows.
    # None on records written before states were bound.
    state_digest: str | None = Field(default=None, max_length=64)


class AuditPublic(SQLModel):
    """An audit record as the API shows it."""

    seq: int
    case_id: uuid.UUID
    actor: str
    action: str
    detail: str
    at: datetime
    hash: str
