"""Senders of telemetry windows: Kafka (kafka-python, acks=all) with a local spool, or HTTP."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaProducer
from kafka.errors import KafkaError

from vigie.contracts import TelemetryWindow
from vigie.credentials import KafkaClientConfig
from vigie.topics import TELEMETRY, device_telemetry_topic
from vigie_sdk.spool import Spool

log = logging.getLogger(__name__)

# Device principals are named after their manufacturer (`vigie kafka credentials`).
DEVICE_PREFIX = "device-"


def window_key(window: TelemetryWindow) -> bytes:
    """Partition key: one device and model version always land in the same partition (order)."""
    return (
        f"{window.device.manufacturer}|{window.device.name}|{window.device.model_version}".encode()
    )


class DeviceReporter:
    """Sends telemetry windows to Kafka; never loses one.

    ``send`` returns once every window is either acknowledged by the brokers (acks=all,
    idempotent producer) or written to the local spool. Spooled windows are replayed, oldest
    first, before the next send and by ``replay``. A window may reach Kafka twice (sent, ack
    lost, replayed): consumers de-duplicate on its ``event_id``.
    """

    def __init__(
        self,
        *,
        credentials: KafkaClientConfig,
        spool_path: Path | str,
        topic: str = TELEMETRY.name,
        send_timeout_s: float = 10.0,
        retry_interval_s: float = 5.0,
        producer_config: dict[str, Any] | None = None,
    ) -> None:
        # SASL/SCRAM over TLS with the device's own principal: the broker has no other door.
        self._credentials = credentials
        self._topic = topic
        self._timeout = send_timeout_s
        # After a failure, windows go straight to the spool for this long: a device must not
        # block its clinical work on every window while the broker is down.
        self._retry_interval = retry_interval_s
        self._failed_at: float | None = None
        timeout_ms = int(send_timeout_s * 1000)
        self._config = {
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 20,
            "retries": 5,
            "request_timeout_ms": timeout_ms,
            "max_block_ms": timeout_ms,
            "bootstrap_timeout_ms": timeout_ms,
            "delivery_timeout_ms": timeout_ms + 20,
            "reconnect_backoff_max_ms": 1000,
            "client_id": "vigie-device-sdk",
            **(producer_config or {}),
        }
        self.spool = Spool(spool_path)
        self._producer: KafkaProducer | None = None

    @classmethod
    def from_properties(
        cls, path: Path | str, *, spool_path: Path | str, **options: Any
    ) -> DeviceReporter:
        """A reporter from the client properties file `vigie kafka credentials --role device`
        wrote: the device's principal (``device-<manufacturer>``) and the platform's CA. It
        writes its manufacturer's own telemetry topic, the only one that principal may write
        (``topic=`` for a platform with a topic namespace)."""
        credentials = KafkaClientConfig.from_properties(path)
        if "topic" not in options and credentials.username.startswith(DEVICE_PREFIX):
            manufacturer = credentials.username[len(DEVICE_PREFIX) :]
            options["topic"] = device_telemetry_topic(TELEMETRY.name, manufacturer)
        return cls(credentials=credentials, spool_path=spool_path, **options)

    def _connect(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(**self._credentials.kafka_python(), **self._config)
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            # Unsent records are discarded: they are in the spool and will be replayed.
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=0)
            self._producer = None

    def _deliver(self, windows: Sequence[TelemetryWindow]) -> int:
        """Send in order and wait for the acks; returns how many were acknowledged."""
        if not windows:
            return 0
        if self._failed_at is not None and (
            time.monotonic() - self._failed_at < self._retry_interval
        ):
            return 0
        try:
            producer = self._connect()
            futures = [
                producer.send(self._topic, key=window_key(w), value=w.model_dump_json().encode())
                for w in windows
            ]
            producer.flush(timeout=self._timeout)
            acked = 0
            for future in futures:
                future.get(timeout=self._timeout)
                acked += 1
            self._failed_at = None
            return acked
        except (KafkaError, OSError) as exc:
            log.warning("telemetry not acknowledged, spooling: %s", exc)
            self._failed_at = time.monotonic()
            self._drop_producer()
            # Windows before the first failure may have been acknowledged; counting none keeps
            # the guarantee (duplicates are de-duplicated downstream).
            return 0

    def replay(self) -> int:
        """Send spooled windows; returns how many left the spool."""
        spooled = self.spool.read()
        if not spooled:
            return 0
        acked = self._deliver(spooled)
        if acked:
            self.spool.replace(spooled[acked:])
        return acked

    def send(self, *windows: TelemetryWindow) -> bool:
        """Report windows; True if all reached Kafka now, False if (some) wait in the spool."""
        self.replay()
        if len(self.spool.read()):
            self.spool.append(windows)  # keep the order: never overtake spooled windows
            return False
        acked = self._deliver(windows)
        if acked < len(windows):
            self.spool.append(windows[acked:])
            return False
        return True

    def close(self) -> None:
        """Flush and release the producer (spooled windows stay on disk)."""
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.flush(timeout=self._timeout)
            self._drop_producer()


class HttpReporter:
    """For devices that cannot reach Kafka: windows through ingest's HTTP API, same spool rule."""

    def __init__(
        self, *, ingest_url: str, token: str, spool_path: Path | str, timeout_s: float = 10.0
    ) -> None:
        self._client = httpx.Client(
            base_url=ingest_url, timeout=timeout_s, headers={"Authorization": f"Bearer {token}"}
        )
        self.spool = Spool(spool_path)

    def _post(self, window: TelemetryWindow) -> bool:
        try:
            response = self._client.post(
                "/api/v1/telemetry",
                content=window.model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            log.warning("telemetry not accepted, spooling: %s", exc)
            return False
        if response.status_code == 202:
            return True
        if 400 <= response.status_code < 500:
            raise ValueError(f"ingest refused the window: {response.status_code} {response.text}")
        return False

    def send(self, *windows: TelemetryWindow) -> bool:
        """Report windows; True if all were accepted now."""
        pending = [*self.spool.read(), *windows]
        sent = 0
        for window in pending:
            if not self._post(window):
                break
            sent += 1
        self.spool.replace(pending[sent:])
        return sent == len(pending)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()
