"""What an insider with write access to the database can do to the audit chain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from services.registry.audit.models import AuditRecord
from services.registry.audit.service import record_hash


def rehash(session: Session, rows: Sequence[AuditRecord], *, after: str) -> str:
    """Relink ``rows`` (edited or not) after the hash ``after`` with fresh hashes, as a chain
    rewritten end to end would be; returns its new head hash (caller commits)."""
    prev = after
    for row in rows:
        row.prev_hash = prev
        row.hash = record_hash(
            prev_hash=prev,
            case_id=row.case_id,
            actor=row.actor,
            action=row.action,
            detail=row.detail,
            at=row.at,
            state_digest=row.state_digest,
        )
        prev = row.hash
        session.add(row)
    return prev
