"""Logging set-up shared by every service: one JSON object per line, secrets redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any


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
    """Keep reporters' status-link secrets out of access logs (the registry's status page and
    ingest's follow-up form carry them in their path)."""

    _STATUS = re.compile(r"/(status|follow-up)/[^\s\"?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                self._STATUS.sub(r"/\1/<redacted>", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = self._STATUS.sub(r"/\1/<redacted>", record.msg)
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
