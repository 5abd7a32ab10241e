"""API tokens: issuance, listing, revocation and verification (expiry, last use)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from services.registry.audit.service import append_token
from services.registry.auth.models import ApiToken, Role
from services.registry.db import DATABASE_UNAVAILABLE
from vigie.contracts import utcnow
from vigie.rules.privacy import pseudonymise

log = logging.getLogger(__name__)

TOKEN_PREFIX = "vg_"
# How long a token is valid unless its issuer says otherwise (`--expires-in-days`).
DEFAULT_LIFETIME = timedelta(days=90)
# A token's last use is written at most this often: an audit of who still uses what, not a log.
LAST_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    token_id: str
    role: Role
    manufacturer: str | None

    @property
    def manufacturer_key(self) -> str | None:
        """Manufacturer as compared in access rules."""
        return self.manufacturer.casefold() if self.manufacturer else None

    def reporter_ref(self, *, key: bytes) -> str:
        """The pseudonym under which this caller's own reports are recorded."""
        return pseudonymise(f"token:{self.token_id}", key=key)


def hash_token(token: str) -> str:
    """SHA-256 of a token: enough for 256-bit random secrets, and constant-time lookups."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    role: Role,
    manufacturer: str | None = None,
    label: str | None = None,
    expires_in: timedelta = DEFAULT_LIFETIME,
    actor: str = "operator",
) -> str:
    """Issue a token for ``role``, valid for ``expires_in``, and audit it; returns the secret,
    which is not stored."""
    if role is Role.MANUFACTURER and not manufacturer:
        raise ValueError("a manufacturer token needs --manufacturer")
    if expires_in <= timedelta(0):
        raise ValueError("a token must be valid for some time")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        token_hash=hash_token(token),
        role=role,
        manufacturer=manufacturer,
        label=label,
        created_at=now,
        expires_at=now + expires_in,
    )
    append_token(
        session,
        row,
        actor=actor,
        action="issued",
        detail={
            "role": role.value,
            "manufacturer": manufacturer,
            "label": label,
            "expires_at": row.expires_at,
        },
    )
    session.commit()
    return token


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, oldest first (their secrets are not stored, so none is shown)."""
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.created_at))))


class UnknownToken(LookupError):
    """No token has this id."""


def revoke_token(
    session: Session, token_id: uuid.UUID, *, actor: str = "operator", reason: str | None = None
) -> ApiToken:
    """Revoke a token at once, and audit it; revoking it again changes nothing."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise UnknownToken(str(token_id))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        append_token(session, row, actor=actor, action="revoked", detail={"reason": reason})
        session.commit()
        session.refresh(row)
    return row


def _aware(at: datetime) -> datetime:
    # SQLite hands back naive UTC times.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a valid token (not revoked, not expired), else None; notes its use."""
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if found is None or found.revoked_at is not None:
        return None
    now = utcnow()
    if found.expires_at is not None and _aware(found.expires_at) <= now:
        return None
    if found.last_used_at is None or now - _aware(found.last_used_at) >= LAST_USE_RESOLUTION:
        _note_use(session, found.token_id, now)
    return Principal(token_id=str(found.token_id), role=found.role, manufacturer=found.manufacturer)


def _note_use(session: Session, token_id: uuid.UUID, now: datetime) -> None:
    # One small write a minute per token at most; a busy database must not cost the caller
    # its request, so a failed write is only logged (the next use tries again).
    try:
        session.execute(
            update(ApiToken)
            .where(col(ApiToken.token_id) == token_id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    except DATABASE_UNAVAILABLE as exc:
        session.rollback()
        log.warning("could not record the last use of token %s: %s", token_id, exc)
