"""Metric catalogue and logging set-up shared by every service."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# --- metric catalogue: every metric Vigie exports, with what it counts --------------------

# Messages taken from a topic by a consumer (valid or not).
CONSUMED = Counter("vigie_messages_consumed", "Kafka messages consumed", ["service", "topic"])
# Messages a consumer could not process and sent to <topic>.dlq.
DEAD_LETTERED = Counter(
    "vigie_messages_dead_lettered",
    "Messages sent to a dead-letter topic",
    ["service", "topic", "reason"],
)
# Events a service published and the broker acknowledged.
PUBLISHED = Counter("vigie_messages_published", "Kafka messages published", ["service", "topic"])
# Time to process one consumed batch, effects made durable included.
BATCH_SECONDS = Histogram(
    "vigie_batch_seconds",
    "Time to process a consumed batch",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Reports accepted by ingest (202 returned).
REPORTS_ACCEPTED = Counter("vigie_reports_accepted", "Reports accepted by ingest", ["kind"])
# Reports refused by ingest (validation, size).
REPORTS_REFUSED = Counter("vigie_reports_refused", "Reports refused by ingest", ["reason"])
# Time from request to Kafka acknowledgement of a report.
INGEST_PUBLISH_SECONDS = Histogram(
    "vigie_ingest_publish_seconds", "Time for Kafka to acknowledge a submitted report"
)
# Reports triaged, by final severity and whether a human must review them.
TRIAGED = Counter("vigie_reports_triaged", "Reports triaged", ["severity", "needs_review"])
# Registry upserts: inserted for a new report, duplicate for a redelivery.
REGISTRY_UPSERTS = Counter("vigie_registry_upserts", "Registry report upserts", ["result"])
# Alerts published from the outbox.
ALERTS_PUBLISHED = Counter("vigie_alerts_published", "Alerts published to Kafka", ["alert_type"])
# Telemetry windows accepted over HTTP by ingest, and refused (by reason).
TELEMETRY_ACCEPTED = Counter("vigie_telemetry_accepted", "Telemetry windows accepted by ingest")
TELEMETRY_REFUSED = Counter(
    "vigie_telemetry_refused", "Telemetry windows refused by ingest", ["reason"]
)
# Drift signals published by the triage drift monitor, by detector and severity.
DRIFT_SIGNALS = Counter("vigie_drift_signals", "Drift signals published", ["detector", "severity"])
# Drift detections suppressed by the cool-down (one drift, one signal).
DRIFT_SUPPRESSED = Counter(
    "vigie_drift_suppressed", "Drift detections suppressed by the cool-down", ["detector"]
)
# Outbox rows waiting to be published.
OUTBOX_PENDING = Gauge("vigie_outbox_pending", "Outbox events not yet published")


class _JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors parse without rules."""

    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class _RedactSecrets(logging.Filter):
    """Keep reporters' status-link secrets out of access logs."""

    _STATUS = re.compile(r"/status/[^\s\"?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self._STATUS.sub("/status/<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self._STATUS.sub("/status/<redacted>", record.msg)
        return True


def configure_logging(level: str = "INFO") -> None:
    """Structured logs on stderr for a service process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    handler.addFilter(_RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
