"""Where the drift monitor keeps its state between windows, restarts and triage instances.

Telemetry is keyed by device and model version, so one triage instance reads a device's windows
at a time; but partitions move between instances (a restart, a rebalance, a pod rescheduled
with an empty disk). :class:`KafkaStateStore` keeps each device's state on a compacted topic
that every instance follows, so the next owner carries on with the same reference and latches
instead of learning a new reference from windows that may already have drifted.
:class:`FileStore` keeps it in a local folder, for a single instance.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any, Protocol

from kafka import TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from vigie.contracts import DriftMonitorState
from vigie.kafka import TopicUnavailable, make_consumer, make_producer
from vigie.settings import CommonSettings

log = logging.getLogger(__name__)

# A reference of a few windows of samples stays well under this; the topic allows 8 MB.
_MAX_STATE_BYTES = 8 * 1024 * 1024


class StateStore(Protocol):
    """Latest state per device key."""

    shared: bool
    """Whether other instances write to it too (the monitor then re-reads before each use)."""

    def get(self, key: str) -> DriftMonitorState | None: ...

    def put(self, key: str, state: DriftMonitorState) -> None: ...

    def refresh(self) -> None:
        """Take in what other instances wrote."""

    def flush(self) -> None:
        """Make every ``put`` durable (raises if it cannot)."""


class FileStore:
    """One JSON file per device in ``folder``, replaced atomically; for a single instance."""

    shared = False

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def get(self, key: str) -> DriftMonitorState | None:
        path = self._path(key)
        if not path.exists():
            return None
        return DriftMonitorState.model_validate_json(path.read_bytes())

    def put(self, key: str, state: DriftMonitorState) -> None:
        path = self._path(key)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json())
        os.replace(tmp, path)

    def refresh(self) -> None:
        return None

    def flush(self) -> None:
        return None


class KafkaStateStore:
    """States on a compacted topic, followed to its end before each batch (a small table)."""

    shared = True

    def __init__(self, settings: CommonSettings, *, timeout_s: float | None = None) -> None:
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
        self._table: dict[str, DriftMonitorState] = {}
        self._pending: list[Any] = []
        self.refresh()

    def get(self, key: str) -> DriftMonitorState | None:
        return self._table.get(key)

    def put(self, key: str, state: DriftMonitorState) -> None:
        self._table[key] = state
        self._pending.append(
            self._producer.send(
                self.topic, key=key.encode(), value=state.model_dump_json().encode()
            )
        )

    def refresh(self) -> None:
        end = self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + self._timeout_ms / 1000
        while any(self._consumer.position(tp) < end[tp] for tp in self._partitions):
            batches = self._consumer.poll(timeout_ms=500)
            if not batches and time.monotonic() > deadline:
                raise TopicUnavailable(f"no progress reading {self.topic}")
            for records in batches.values():
                for record in records:
                    self._take(record.key, record.value)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        name = key.decode()
        if value is None:  # tombstone
            self._table.pop(name, None)
            return
        try:
            state = DriftMonitorState.model_validate_json(value)
        except ValidationError:
            log.error("unreadable drift state ignored", extra={"device": name})
            return
        known = self._table.get(name)
        if known is None or state.version >= known.version:
            self._table[name] = state

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        self._producer.flush()
        for future in pending:
            future.get(timeout=self._timeout_ms / 1000)  # raises if a state was not written

    def close(self) -> None:
        self._producer.close()
        self._consumer.close()
