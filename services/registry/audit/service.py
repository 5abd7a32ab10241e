"""Audit chain: every case change appended with a SHA-256 link to the previous record.

Any later edit, deletion or reordering of a record breaks the chain at that point, which
``verify`` reports. Removing the newest records leaves a shorter valid chain, and whoever can
write the table can also rewrite the whole chain with fresh hashes: the registry therefore
publishes the head on Kafka (:mod:`services.registry.audit.witness`) and ``verify`` checks the
chain against those witnessed heads.
The chain is global (not per case) so that deleting a whole case's history is detected too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from services.registry.audit.models import AuditRecord
from vigie.contracts import utcnow

GENESIS = "0" * 64


def _stamp(at: datetime) -> str:
    # Databases differ in how they return time zones: hash a normalised UTC form.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(
    *, prev_hash: str, case_id: uuid.UUID, actor: str, action: str, detail: str, at: datetime
) -> str:
    """Hash of a record's content chained to the previous hash."""
    canonical = json.dumps(
        [prev_hash, str(case_id), actor, action, detail, _stamp(at)],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    # Two writers must not both extend the same tail: serialise appends.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7271)"))


def head(session: Session) -> AuditRecord | None:
    """The newest committed record of the chain."""
    return session.exec(select(AuditRecord).order_by(col(AuditRecord.seq).desc()).limit(1)).first()


class Chain:
    """The tail of the audit chain, extended in memory within the caller's transaction.

    Opening it takes the append lock (PostgreSQL) and reads the tail once, so that a batch of
    appends costs one query however many records it adds.
    """

    def __init__(self, session: Session) -> None:
        _lock_chain(session)
        pending = [o for o in session.new if isinstance(o, AuditRecord)]
        if pending:
            self.tail = pending[-1].hash
        else:
            last = head(session)
            self.tail = last.hash if last else GENESIS
        self._session = session

    def append(
        self, *, case_id: uuid.UUID, actor: str, action: str, detail: dict[str, Any]
    ) -> AuditRecord:
        """Add a record after the tail (records are inserted in the order they are added)."""
        body = json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)
        at = utcnow()
        record = AuditRecord(
            case_id=case_id,
            actor=actor,
            action=action,
            detail=body,
            at=at,
            prev_hash=self.tail,
            hash=record_hash(
                prev_hash=self.tail, case_id=case_id, actor=actor, action=action, detail=body, at=at
            ),
        )
        self._session.add(record)
        self.tail = record.hash
        return record


def append(
    session: Session, *, case_id: uuid.UUID, actor: str, action: str, detail: dict[str, Any]
) -> AuditRecord:
    """Append a record in the caller's transaction."""
    return Chain(session).append(case_id=case_id, actor=actor, action=action, detail=detail)


@dataclass(frozen=True)
class Verification:
    """Result of checking the chain."""

    records: int
    ok: bool
    head: str = GENESIS
    first_bad_seq: int | None = None
    problem: str | None = None
    witnessed: int = 0


def verify(session: Session, witnessed: Mapping[int, str] | None = None) -> Verification:
    """Walk the whole chain; report the first record that does not match.

    ``witnessed`` maps sequence numbers to the hashes published as checkpoints outside the
    database (see :mod:`services.registry.audit.witness`): each must still be in the chain,
    unchanged, which the chain alone cannot show for its newest records or for a chain
    rewritten with fresh hashes.
    """
    unseen = dict(witnessed or {})
    prev = GENESIS
    count = 0
    # Sequence numbers may have gaps (rolled-back transactions): the hash links, not the
    # numbers, are what proves that nothing was removed.
    for record in session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))):
        count += 1
        if record.prev_hash != prev:
            return Verification(
                count,
                False,
                first_bad_seq=record.seq,
                problem="link to previous record broken (removed or reordered)",
            )
        recomputed = record_hash(
            prev_hash=record.prev_hash,
            case_id=record.case_id,
            actor=record.actor,
            action=record.action,
            detail=record.detail,
            at=record.at,
        )
        if recomputed != record.hash:
            return Verification(
                count, False, first_bad_seq=record.seq, problem="record content changed"
            )
        expected = unseen.pop(record.seq, None) if record.seq is not None else None
        if expected is not None and expected != record.hash:
            return Verification(
                count,
                False,
                first_bad_seq=record.seq,
                problem="record differs from the head witnessed on Kafka (chain rewritten)",
            )
        prev = record.hash
    if unseen:
        missing = min(unseen)
        return Verification(
            count,
            False,
            head=prev,
            first_bad_seq=missing,
            problem="record witnessed on Kafka is missing (newest records removed)",
        )
    return Verification(count, True, head=prev, witnessed=len(witnessed or {}))


def history(session: Session, case_id: uuid.UUID) -> list[AuditRecord]:
    """A case's records, oldest first."""
    statement = (
        select(AuditRecord)
        .where(col(AuditRecord.case_id) == case_id)
        .order_by(col(AuditRecord.seq))
    )
    return list(session.exec(statement))
