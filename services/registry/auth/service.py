"""Token issue and verification."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from services.registry.auth.models import ApiToken, Role
from vigie.rules.privacy import pseudonymise

TOKEN_PREFIX = "vg_"


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
    session: Session, *, role: Role, manufacturer: str | None = None, label: str | None = None
) -> str:
    """Issue a token for ``role``; returns the secret, which is not stored."""
    if role is Role.MANUFACTURER and not manufacturer:
        raise ValueError("a manufacturer token needs --manufacturer")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(token_hash=hash_token(token), role=role, manufacturer=manufacturer, label=label)
    )
    session.commit()
    return token


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token, else None."""
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if found is None or found.revoked_at is not None:
        return None
    return Principal(token_id=str(found.token_id), role=found.role, manufacturer=found.manufacturer)
