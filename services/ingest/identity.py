"""Who submits a report or a telemetry window: bearer tokens are checked by the registry."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import httpx

from services.ingest.errors import RegistryUnavailable, Unauthenticated


@dataclass(frozen=True)
class Identity:
    """The registry's answer for a token: role, manufacturer bound to it, reporter pseudonym."""

    role: str
    manufacturer: str | None
    reporter_ref: str


class Identities:
    """Resolves bearer tokens through the registry's ``/whoami``, with a short cache."""

    def __init__(
        self, registry_url: str, *, ttl_s: float = 60.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(base_url=registry_url, timeout=5.0)
        self._ttl = ttl_s
        # Keyed by a hash of the token so that the secret itself is not kept in memory longer.
        self._cache: dict[str, tuple[float, Identity]] = {}

    async def identity(self, token: str) -> Identity:
        """Who holds ``token``; raises ``Unauthenticated`` if the registry does not know it."""
        key = hashlib.sha256(token.encode()).hexdigest()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        try:
            response = await self._client.get(
                "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailable from exc
        if response.status_code == 401:
            raise Unauthenticated
        if response.status_code != 200:
            raise RegistryUnavailable
        body = response.json()
        found = Identity(
            role=str(body["role"]),
            manufacturer=body.get("manufacturer"),
            reporter_ref=str(body["reporter_ref"]),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + self._ttl, found)
        return found

    async def reporter_ref(self, token: str) -> str:
        """The pseudonym the token's reports are recorded under; raises if the token is bad."""
        return (await self.identity(token)).reporter_ref

    async def close(self) -> None:
        """Release the HTTP connections (of a client this object created)."""
        if self._owns_client:
            await self._client.aclose()
