"""Who submits a report: bearer tokens are checked by the registry, which owns them."""

from __future__ import annotations

import hashlib
import time

import httpx

from services.ingest.errors import RegistryUnavailable, Unauthenticated


class Identities:
    """Resolves bearer tokens to reporter pseudonyms through the registry, with a short cache."""

    def __init__(
        self, registry_url: str, *, ttl_s: float = 60.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(base_url=registry_url, timeout=5.0)
        self._ttl = ttl_s
        # Keyed by a hash of the token so that the secret itself is not kept in memory longer.
        self._cache: dict[str, tuple[float, str]] = {}

    async def reporter_ref(self, token: str) -> str:
        """The pseudonym the token's reports are recorded under; raises if the token is bad."""
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
        ref = str(response.json()["reporter_ref"])
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + self._ttl, ref)
        return ref

    async def close(self) -> None:
        """Release the HTTP connections (of a client this object created)."""
        if self._owns_client:
            await self._client.aclose()
