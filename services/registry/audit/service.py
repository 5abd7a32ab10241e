"""Audit chain: every case change, and every token issued or revoked, appended with a SHA-256
link to the previous record.

Any later edit, deletion or reordering of a record breaks the chain at that point, which
``verify`` reports. Removing the newest records leaves a shorter valid chain, and whoever can
write the table can also rewrite the whole chain with fresh hashes: the registry therefore
publishes the head, signed, on Kafka (:mod:`services.registry.audit.witness`) and ``verify``
checks the chain against those witnessed heads.
The chain is global (not per case) so that deleting a whole case's history is detected too.
Each record also carries the digest of the state it produced
(:mod:`services.registry.audit.state`), so that ``verify`` catches the rows themselves being
changed behind the registry's back, not only its records.
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
from services.registry.audit.state import (
    all_case_ids,
    case_digests,
    token_digest,
    unlinked_reports,
)
from services.registry.auth.models import ApiToken
from vigie.contracts import utcnow

GENESIS = "0" * 64
# Actions of the records whose subject is an API token rather than a case.
TOKEN_ACTION_PREFIX = "token_"


def _stamp(at: datetime) -> str:
    # Databases differ in how they return time zones: hash a normalised UTC form.
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(
    *,
    prev_hash: str,
    case_id: uuid.UUID,
    actor: str,
    action: str,
    detail: str,
    at: datetime,
    state_digest: str | None = None,
) -> str:
    """Hash of a record's content (and the digest of the state it produced) chained to the
    previous hash."""
    content = [prev_hash, str(case_id), actor, action, detail, _stamp(at)]
    if state_digest is not None:  # records written before states were bound hash as they did
        content.append(state_digest)
    canonical = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
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
        self,
        *,
        case_id: uuid.UUID,
        actor: str,
        action: str,
        detail: dict[str, Any],
        state_digest: str,
    ) -> AuditRecord:
        """Add a record after the tail (records are inserted in the order they are added);
        ``state_digest`` is the digest of the state the change produced
        (:mod:`services.registry.audit.state`)."""
        record = AuditRecord(
            **self.row(
                case_id=case_id,
                actor=actor,
                action=action,
                detail=detail,
                state_digest=state_digest,
            )
        )
        self._session.add(record)
        return record

    def row(
        self,
        *,
        case_id: uuid.UUID,
        actor: str,
        action: str,
        detail: dict[str, Any],
        state_digest: str,
    ) -> dict[str, Any]:
        """The values of the record after the tail, which becomes the tail: for a caller that
        inserts records in bulk, in the order they were made and before any other append."""
        body = json.dumps(detail, sort_keys=True, default=str, ensure_ascii=False)
        at = utcnow()
        digest = record_hash(
            prev_hash=self.tail,
            case_id=case_id,
            actor=actor,
            action=action,
            detail=body,
            at=at,
            state_digest=state_digest,
        )
        values = {
            "case_id": case_id,
            "actor": actor,
            "action": action,
            "detail": body,
            "at": at,
            "prev_hash": self.tail,
            "hash": digest,
            "state_digest": state_digest,
        }
        self.tail = digest
        return values


def append(
    session: Session, *, case_id: uuid.UUID, actor: str, action: str, detail: dict[str, Any]
) -> AuditRecord:
    """Append a record of a change to a case in the caller's transaction, bound to the case's
    state as the session holds it now: make every change first, then append."""
    digest = case_digests(session, [case_id])[case_id]
    return Chain(session).append(
        case_id=case_id, actor=actor, action=action, detail=detail, state_digest=digest
    )


def append_token(
    session: Session, token: ApiToken, *, actor: str, action: str, detail: dict[str, Any]
) -> AuditRecord:
    """Append a record of a token's issuance or revocation (its id as the subject), bound to
    the token's row: a token that no record vouches for was not issued by the registry."""
    session.add(token)
    session.flush()
    return Chain(session).append(
        case_id=token.token_id,
        actor=actor,
        action=TOKEN_ACTION_PREFIX + action,
        detail=detail,
        state_digest=token_digest(token),
    )


@dataclass(frozen=True)
class Verification:
    """Result of checking the chain, then the rows against the states it recorded."""

    records: int
    ok: bool
    head: str = GENESIS
    first_bad_seq: int | None = None
    problem: str | None = None
    witnessed: int = 0
    # What differs between the rows and the newest states of the chain, one line each.
    state_problems: tuple[str, ...] = ()
    # Cases whose newest record predates state binding: checked by the chain alone.
    unbound: int = 0


@dataclass(frozen=True)
class Newest:
    """The newest record about one subject (a case or a token)."""

    seq: int
    action: str
    state_digest: str | None

    @property
    def is_token(self) -> bool:
        return self.action.startswith(TOKEN_ACTION_PREFIX)


def verify(session: Session, witnessed: Mapping[int, str] | None = None) -> Verification:
    """Walk the whole chain and report the first record that does not match; if it holds,
    compare the current rows with the newest state it recorded for each case and token.

    ``witnessed`` maps sequence numbers to the hashes published as checkpoints outside the
    database (see :mod:`services.registry.audit.witness`): each must still be in the chain,
    unchanged, which the chain alone cannot show for its newest records or for a chain
    rewritten with fresh hashes.
    """
    unseen = dict(witnessed or {})
    prev = GENESIS
    count = 0
    newest: dict[uuid.UUID, Newest] = {}
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
            state_digest=record.state_digest,
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
        newest[record.case_id] = Newest(record.seq or 0, record.action, record.state_digest)
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
    problems, unbound = check_state(session, newest)
    return Verification(
        count,
        not problems,
        head=prev,
        witnessed=len(witnessed or {}),
        state_problems=tuple(problems),
        unbound=unbound,
    )


def check_state(session: Session, newest: Mapping[uuid.UUID, Newest]) -> tuple[list[str], int]:
    """What differs between the rows and the newest recorded states, and how many cases have
    no recorded state (their records predate state binding)."""
    problems: list[str] = []
    cases = {s: n for s, n in newest.items() if not n.is_token}
    current = case_digests(session, all_case_ids(session))
    unbound = 0
    for case_id, digest in current.items():
        last = cases.get(case_id)
        if last is None:
            problems.append(f"case {case_id} has no audit record: not opened by the registry")
        elif last.state_digest is None:
            unbound += 1
        elif last.state_digest != digest:
            problems.append(
                f"case {case_id} differs from the state its last audited change left "
                f"(record {last.seq}, {last.action}): its case, report, link or MIR rows "
                "were changed outside the registry"
            )
    for case_id, last in cases.items():
        if case_id not in current:
            problems.append(
                f"case {case_id} was deleted (last audited: record {last.seq}, {last.action})"
            )
    problems += [
        f"report {report_id} is in no case: recorded outside the registry"
        for report_id in unlinked_reports(session)
    ]
    problems += _token_problems(session, {s: n for s, n in newest.items() if n.is_token})
    return problems, unbound


def _token_problems(session: Session, audited: Mapping[uuid.UUID, Newest]) -> list[str]:
    problems: list[str] = []
    tokens = {t.token_id: t for t in session.exec(select(ApiToken))}
    for token_id, token in tokens.items():
        last = audited.get(token_id)
        if last is None:
            problems.append(
                f"API token {token_id} (role {token.role.value}) has no audit record: "
                "not issued by the registry"
            )
        elif last.state_digest != token_digest(token):
            problems.append(
                f"API token {token_id} (role {token.role.value}) differs from its last audited "
                f"state (record {last.seq}, {last.action})"
            )
    for token_id, last in audited.items():
        if token_id not in tokens:
            problems.append(
                f"API token {token_id} was deleted (last audited: record {last.seq}, {last.action})"
            )
    return problems


def history(session: Session, case_id: uuid.UUID) -> list[AuditRecord]:
    """A case's records, oldest first."""
    statement = (
        select(AuditRecord)
        .where(col(AuditRecord.case_id) == case_id)
        .order_by(col(AuditRecord.seq))
    )
    return list(session.exec(statement))
