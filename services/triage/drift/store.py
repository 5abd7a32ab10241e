"""Where the drift monitor keeps its state between windows, restarts and triage instances.

Telemetry is keyed by device and model version, so one triage instance reads a device's windows
at a time; but partitions move between instances (a restart, a rebalance, a pod rescheduled
with an empty disk). :class:`KafkaStateStore` keeps each device's state on a compacted topic
that every instance follows, so the next owner carries on with the same reference, latches and
stream detector instead of learning a new reference from windows that may already have drifted.
:class:`FileStore` keeps it in a local folder, for a single instance.

A device's state is several records, each written when it changes and never again otherwise:

* ``<device>``: the live state (version, latches, recent error rates, the stream detector's
  own state, where the reference stands), a kilobyte or so, written once per device per batch;
* ``<device>␟ref␟<generation>␟<n>``: the n-th window of the reference, written once;
  a new explicit reference starts a new generation and deletes the old one's records;
* ``<device>␟seen␟<window id>``: a window taken, empty, or the signal it raised so that a
  redelivered window gives it back; deleted when the window leaves the recent ones.

(``␟`` is the unit separator U+001F, which no device name may hold.) The names after the device
key are the store's *record names*; ``""`` names the live state.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from kafka import TopicPartition
from kafka.errors import KafkaError

from vigie.kafka import TopicUnavailable, make_consumer, make_producer
from vigie.settings import CommonSettings

# A reference window of a few thousand values stays well under this; the topic allows 8 MB.
_MAX_STATE_BYTES = 8 * 1024 * 1024
SEP = "\x1f"
LIVE = ""
_VERSION_HEADER = "vigie-state-version"


def split_key(key: str) -> tuple[str, str]:
    """A record key as (device key, record name)."""
    device, _, name = key.partition(SEP)
    return device, name


def join_key(device: str, name: str) -> str:
    return device if name == LIVE else f"{device}{SEP}{name}"


class StateStore(Protocol):
    """The latest value of each record of each device."""

    shared: bool
    """Whether other instances write to it too (the monitor then checks versions before use)."""

    def records(self, device: str) -> Mapping[str, bytes]:
        """Every record of ``device``, by name (empty when it has none)."""

    def version(self, device: str) -> int:
        """The version of the device's live state (0 when there is none)."""

    def put(self, device: str, name: str, value: bytes | None, *, version: int = 0) -> None:
        """Write a record (``None`` deletes it); ``version`` goes with the live state."""

    def refresh(self) -> None:
        """Take in what other instances wrote."""

    def flush(self) -> None:
        """Make every ``put`` durable (raises if it cannot)."""


class _Table:
    """Records by device, with the live state's version beside them."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, bytes]] = {}
        self._versions: dict[str, int] = {}

    def records(self, device: str) -> Mapping[str, bytes]:
        return self._records.get(device, {})

    def version(self, device: str) -> int:
        return self._versions.get(device, 0)

    def take(self, device: str, name: str, value: bytes | None, version: int) -> None:
        if value is None:
            records = self._records.get(device)
            if records is not None:
                records.pop(name, None)
                if not records:
                    del self._records[device]
            if name == LIVE:
                self._versions.pop(device, None)
            return
        if name == LIVE:
            if version < self._versions.get(device, 0):
                return  # an older owner's late write: the newest state wins
            self._versions[device] = version
        self._records.setdefault(device, {})[name] = value


class MemoryStore(_Table):
    """Records in memory, shared by the monitors given the same instance (tests, replays)."""

    shared = True

    def put(self, device: str, name: str, value: bytes | None, *, version: int = 0) -> None:
        self.take(device, name, value, version)

    def refresh(self) -> None:
        return None

    def flush(self) -> None:
        return None


class FileStore:
    """One folder per device in ``folder``, one file per record, replaced atomically; for a
    single instance."""

    shared = False

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def _device_folder(self, device: str) -> Path:
        return self.folder / hashlib.sha256(device.encode()).hexdigest()[:32]

    @staticmethod
    def _file_name(name: str) -> str:
        return "state.json" if name == LIVE else name.replace(SEP, "-") + ".json"

    def records(self, device: str) -> Mapping[str, bytes]:
        folder = self._device_folder(device)
        if not folder.is_dir():
            return {}
        found: dict[str, bytes] = {}
        for path in folder.glob("*.json"):
            stem = path.name.removesuffix(".json")
            name = LIVE if stem == "state" else stem.replace("-", SEP, 1 + stem.startswith("ref"))
            found[name] = path.read_bytes()
        return found

    def version(self, device: str) -> int:
        return 0  # a single instance: nobody else writes

    def put(self, device: str, name: str, value: bytes | None, *, version: int = 0) -> None:
        folder = self._device_folder(device)
        path = folder / self._file_name(name)
        if value is None:
            path.unlink(missing_ok=True)
            return
        folder.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(value)
        os.replace(tmp, path)

    def refresh(self) -> None:
        return None

    def flush(self) -> None:
        return None


class KafkaStateStore(_Table):
    """Records on a compacted topic, followed to its end before each batch. Writes of a batch
    are held until :meth:`flush`, so a device's live state goes out once per batch however
    many of its windows the batch held."""

    shared = True

    def __init__(self, settings: CommonSettings, *, timeout_s: float | None = None) -> None:
        super().__init__()
        timeout_s = settings.kafka_timeout_s if timeout_s is None else timeout_s
        self.topic = settings.topics.drift_state
        self._timeout_ms = int(timeout_s * 1000)
        try:
            self._consumer = make_consumer(
                settings,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_bytes=4 * _MAX_STATE_BYTES,
                max_partition_fetch_bytes=_MAX_STATE_BYTES,
                bootstrap_timeout_ms=self._timeout_ms,
            )
            # A topic created a moment ago may not be in the metadata yet.
            deadline = time.monotonic() + timeout_s
            partitions = self._consumer.partitions_for_topic(self.topic)
            while not partitions and time.monotonic() < deadline:
                time.sleep(0.2)
                self._consumer.poll(timeout_ms=0)  # lets the client refresh its metadata
                partitions = self._consumer.partitions_for_topic(self.topic)
        except KafkaError as exc:
            raise TopicUnavailable(f"{self.topic}: {exc}") from exc
        if not partitions:
            raise TopicUnavailable(f"{self.topic} does not exist (run `vigie topics`)")
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        self._consumer.seek_to_beginning(*self._partitions)
        self._producer = make_producer(
            settings, client_id="vigie-drift-state", max_request_size=_MAX_STATE_BYTES
        )
        self._held: dict[tuple[str, str], tuple[bytes | None, int]] = {}
        self._pending: list[Any] = []
        self.written_bytes = 0
        """Bytes of keys and values sent so far (what the state costs the topic)."""
        self.refresh()

    def put(self, device: str, name: str, value: bytes | None, *, version: int = 0) -> None:
        self.take(device, name, value, version)
        self._held[(device, name)] = (value, version)

    def refresh(self) -> None:
        end = self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + self._timeout_ms / 1000
        while any(self._consumer.position(tp) < end[tp] for tp in self._partitions):
            batches = self._consumer.poll(timeout_ms=500)
            if not batches and time.monotonic() > deadline:
                raise TopicUnavailable(f"no progress reading {self.topic}")
            for records in batches.values():
                for record in records:
                    if record.key is None:
                        continue
                    device, name = split_key(record.key.decode())
                    self.take(device, name, record.value, _version_of(record.headers))

    def flush(self) -> None:
        held, self._held = self._held, {}
        for (device, name), (value, version) in held.items():
            key = join_key(device, name).encode()
            headers = [(_VERSION_HEADER, str(version).encode())] if name == LIVE else []
            self.written_bytes += len(key) + (len(value) if value else 0)
            self._pending.append(
                self._producer.send(self.topic, key=key, value=value, headers=headers)
            )
        pending, self._pending = self._pending, []
        self._producer.flush()
        for future in pending:
            future.get(timeout=self._timeout_ms / 1000)  # raises if a record was not written

    def close(self) -> None:
        self._producer.close()
        self._consumer.close()


def _version_of(headers: list[tuple[str, bytes]] | None) -> int:
    for name, value in headers or ():
        if name == _VERSION_HEADER:
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
