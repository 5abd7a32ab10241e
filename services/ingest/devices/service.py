"""The device catalogue held in memory for the form's typeahead, and the model versions the
registry knows for its devices.

The catalogue is the FDA list of AI-enabled devices the registry seeds from (the same file, which
ingest's image carries): public data, loaded once, searched in memory, so a keystroke costs no
database and no network. The model versions come from the registry, which records the versions
each catalogue device's own telemetry declares; ingest asks for all of them at most once a minute,
however many searches it serves.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import logging
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

CATALOGUE = Path(__file__).resolve().parents[3] / "data" / "devices" / "fda_ai_devices.csv.gz"
# Bounds of a search: the query's length and the number of matches returned.
MIN_QUERY, MAX_QUERY = 2, 100
MAX_RESULTS = 10
# The contract's longest device name (DeviceRef.name): the few catalogue names longer than this
# could not be sent, so they are not offered.
_MAX_NAME = 200


def fold(text: str) -> str:
    """``text`` for matching: case-folded, accents and repeated spaces removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True)
class Entry:
    """One catalogue device."""

    catalogue_id: str
    name: str
    manufacturer: str
    submission_number: str | None

    @property
    def name_key(self) -> str:
        return fold(self.name)

    @property
    def manufacturer_key(self) -> str:
        return fold(self.manufacturer)


class Catalogue:
    """The catalogue's devices, searchable by name, manufacturer or FDA submission number."""

    def __init__(self, entries: list[Entry]) -> None:
        self._entries = sorted(
            (e for e in entries if len(e.name) <= _MAX_NAME),
            key=lambda e: (e.name_key, e.catalogue_id),
        )
        self._keys = [(e.name_key, e.manufacturer_key, e) for e in self._entries]
        self._by_id = {e.catalogue_id: e for e in self._entries}
        self._by_name = {(e.name_key, e.manufacturer_key): e for e in reversed(self._entries)}

    @classmethod
    def load(cls, path: Path = CATALOGUE) -> Catalogue:
        """Read the catalogue file (the first row of an id that the source repeats wins, as in
        the registry's seed)."""
        entries: dict[str, Entry] = {}
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                entries.setdefault(
                    row["device_id"],
                    Entry(
                        catalogue_id=row["device_id"],
                        name=row["device_name"],
                        manufacturer=row["applicant"],
                        submission_number=row["submission_number"] or None,
                    ),
                )
        return cls(list(entries.values()))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, catalogue_id: str) -> Entry | None:
        """The device of this id, if the catalogue has it."""
        return self._by_id.get(catalogue_id)

    def resolve(self, *, catalogue_id: str | None, name: str, manufacturer: str) -> Entry | None:
        """The catalogue device a report names: the one of ``catalogue_id`` if the name and
        manufacturer read as the catalogue spells them (a client may claim any id), else the
        one spelled exactly so; None for a device the catalogue does not have."""
        chosen = self.get(catalogue_id) if catalogue_id else None
        if chosen is not None and (chosen.name_key, chosen.manufacturer_key) == (
            fold(name),
            fold(manufacturer),
        ):
            return chosen
        return self.find(name=name, manufacturer=manufacturer)

    def find(self, *, name: str, manufacturer: str) -> Entry | None:
        """The device spelled so (case, accents and spacing aside), if the catalogue has it."""
        return self._by_name.get((fold(name), fold(manufacturer)))

    def search(self, query: str, *, limit: int = MAX_RESULTS) -> list[Entry]:
        """The devices ``query`` names best: its FDA submission number, then names starting
        with it, names with a word starting with it, names containing it, then manufacturers
        containing it; alphabetical within each rank."""
        q = fold(query)
        if len(q) < MIN_QUERY:
            return []
        ranked: list[tuple[int, Entry]] = []
        for name, manufacturer, entry in self._keys:
            if entry.submission_number and entry.submission_number.casefold() == q:
                rank = 0
            elif name.startswith(q):
                rank = 1
            elif f" {q}" in f" {name}" or f"-{q}" in name:
                rank = 2
            elif q in name:
                rank = 3
            elif q in manufacturer or q in f"{name} {manufacturer}":
                rank = 4
            else:
                continue
            ranked.append((rank, entry))
        ranked.sort(key=lambda r: r[0])  # stable: alphabetical within a rank
        return [entry for _, entry in ranked[:limit]]


class ModelVersions:
    """The model versions the registry knows per catalogue device, refreshed at most every
    ``ttl_s`` seconds; empty (and the search goes on without them) while it does not answer."""

    def __init__(
        self,
        registry_url: str,
        *,
        ttl_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = registry_url
        self._transport = transport
        self._ttl = ttl_s
        self._versions: Mapping[str, list[str]] = {}
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def of(self) -> Mapping[str, list[str]]:
        """Versions by catalogue id (one request to the registry per ``ttl_s``, not per call)."""
        if time.monotonic() < self._expires:
            return self._versions
        async with self._lock:
            if time.monotonic() >= self._expires:
                self._versions = await self._fetch() or self._versions
                # A registry that did not answer is asked again after the same delay: searches
                # must not hammer it while it is down.
                self._expires = time.monotonic() + self._ttl
        return self._versions

    async def _fetch(self) -> dict[str, list[str]] | None:
        try:
            # A client per request, once a minute at most: nothing stays open to be closed.
            async with httpx.AsyncClient(
                base_url=self._url, timeout=2.0, transport=self._transport
            ) as client:
                response = await client.get("/api/v1/devices/catalogue/model-versions")
            response.raise_for_status()
            items = response.json()["items"]
            return {str(i["device_id"]): [str(v) for v in i["model_versions"]] for i in items}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("model versions not read from the registry", extra={"error": repr(exc)})
            return None
