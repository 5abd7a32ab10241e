"""Submission nonces: unpredictable, expiring tokens any ingest replica can verify alone.

An anonymous submission has no principal to scope its idempotency to. The form (and an
anonymous API client) gets a nonce from the server and sends it back as the submission's
idempotency key: only whoever received the nonce can use it, so no one else can submit under it
and be answered with another party's receipt. A nonce is random bytes, its expiry and an HMAC of
both under a key derived for this purpose alone: any replica checks it, before or after a
restart, with no shared store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from vigie.contracts import utcnow

_VERSION = b"n1"
_PREFIX = "n1."
_RANDOM_BYTES = 16
_MAC_BYTES = 16


class InvalidNonce(Exception):
    """A submission nonce that this deployment did not issue, or that expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, _VERSION + body, hashlib.sha256).digest()[:_MAC_BYTES]


def issue_nonce(*, key: bytes, ttl_s: float, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh nonce valid for ``ttl_s`` seconds, and when it expires."""
    expires = int((now or utcnow()).timestamp() + ttl_s)
    body = expires.to_bytes(8, "big") + secrets.token_bytes(_RANDOM_BYTES)
    token = base64.urlsafe_b64encode(body + _mac(key, body)).decode().rstrip("=")
    return _PREFIX + token, datetime.fromtimestamp(expires, UTC)


def check_nonce(nonce: str, *, key: bytes, now: datetime | None = None) -> None:
    """Raise :class:`InvalidNonce` unless ``nonce`` was issued under ``key`` and is unexpired."""
    if not nonce.startswith(_PREFIX):
        raise InvalidNonce("not a submission nonce")
    encoded = nonce[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise InvalidNonce("not a submission nonce") from None
    if len(raw) != 8 + _RANDOM_BYTES + _MAC_BYTES:
        raise InvalidNonce("not a submission nonce")
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise InvalidNonce("not issued by this deployment")
    if int.from_bytes(body[:8], "big") < (now or utcnow()).timestamp():
        raise InvalidNonce("expired")


class SubmissionNonces:
    """Issues and checks the submission nonces of one deployment (no state: any replica)."""

    def __init__(self, *, key: bytes, ttl_s: float) -> None:
        self._key = key
        self._ttl_s = ttl_s

    def issue(self) -> tuple[str, datetime]:
        """A fresh nonce, and when it expires."""
        return issue_nonce(key=self._key, ttl_s=self._ttl_s)

    def check(self, nonce: str) -> None:
        """Raise :class:`InvalidNonce` unless this deployment issued ``nonce`` and it is valid."""
        check_nonce(nonce, key=self._key)
