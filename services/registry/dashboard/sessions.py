"""Dashboard sessions: opened with an API token, held by the browser as a random id only.

The browser's cookie holds a random secret; the table holds its SHA-256 and the API token sealed
under it (XOR with an HMAC-SHA256 keystream of the secret, used for this one token only). Each
request unseals the token and authenticates it again, so a revoked or expired token closes its
sessions at once. Forms carry the session's CSRF token (synchronizer pattern); the sign-in form,
before any session exists, a nonce also set in a cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, delete

from services.registry.auth.service import Principal, authenticate
from services.registry.dashboard.models import DashboardSession
from vigie.contracts import utcnow

SESSION_COOKIE = "__Host-vigie_session"
LOGIN_COOKIE = "__Host-vigie_login"


@dataclass(frozen=True)
class Opened:
    """A session just opened: the cookie's secret and the CSRF token of its forms."""

    secret: str
    csrf_token: str


@dataclass(frozen=True)
class Current:
    """The caller behind a session cookie, and its session's CSRF token."""

    principal: Principal
    csrf_token: str
    session_hash: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _keystream(secret: str, length: int) -> bytes:
    blocks = (
        hmac.digest(secret.encode(), b"vigie-dashboard-token" + i.to_bytes(4, "big"), "sha256")
        for i in range(length // 32 + 1)
    )
    return b"".join(blocks)[:length]


def _seal(token: str, secret: str) -> str:
    data = token.encode()
    return bytes(a ^ b for a, b in zip(data, _keystream(secret, len(data)), strict=True)).hex()


def _unseal(sealed: str, secret: str) -> str | None:
    try:
        data = bytes.fromhex(sealed)
        clear = bytes(a ^ b for a, b in zip(data, _keystream(secret, len(data)), strict=True))
        return clear.decode()
    except ValueError:  # not hex, or not UTF-8: not a token this module sealed
        return None


def open_session(session: Session, *, token: str, hours: float) -> Opened | None:
    """A new session for a valid ``token`` (None if it is not), pruning expired ones."""
    if authenticate(session, token) is None:
        return None
    now = utcnow()
    session.exec(delete(DashboardSession).where(col(DashboardSession.expires_at) < now))
    secret = secrets.token_urlsafe(32)
    row = DashboardSession(
        session_hash=_hash(secret),
        sealed_token=_seal(token, secret),
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.commit()
    return Opened(secret=secret, csrf_token=row.csrf_token)


def current(session: Session, secret: str | None) -> Current | None:
    """Who is signed in behind the cookie ``secret`` (None: no live session, or its token is no
    longer valid)."""
    if not secret:
        return None
    row = session.get(DashboardSession, _hash(secret))
    if row is None or row.expires_at <= utcnow():
        return None
    token = _unseal(row.sealed_token, secret)
    principal = authenticate(session, token) if token else None
    if principal is None:
        return None
    return Current(principal=principal, csrf_token=row.csrf_token, session_hash=row.session_hash)


def close_session(session: Session, signed_in: Current) -> None:
    """End the session (sign-out)."""
    session.exec(
        delete(DashboardSession).where(col(DashboardSession.session_hash) == signed_in.session_hash)
    )
    session.commit()


def same(expected: str | None, given: str | None) -> bool:
    """Whether a CSRF token matches, in constant time (both must be present)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
