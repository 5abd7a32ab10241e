"""A local append-only file of telemetry windows not yet acknowledged by Kafka."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

from vigie.contracts import TelemetryWindow


class Spool:
    """Windows written here survive a crash of the device software and are replayed later.

    One JSON document per line, fsync'ed on append: a window the SDK has accepted is on disk
    before ``send`` returns.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, windows: Iterable[TelemetryWindow]) -> None:
        """Add windows at the end, durably."""
        lines = "".join(w.model_dump_json() + "\n" for w in windows)
        if not lines:
            return
        with self._lock, self.path.open("a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> list[TelemetryWindow]:
        """Every spooled window, oldest first (a torn last line from a crash is skipped)."""
        if not self.path.exists():
            return []
        out = []
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip():
                try:
                    out.append(TelemetryWindow.model_validate_json(line))
                except ValueError:
                    continue
        return out

    def replace(self, remaining: list[TelemetryWindow]) -> None:
        """Keep only ``remaining`` (atomic: a crash leaves the old or the new file, whole)."""
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with self._lock:
            with tmp.open("w", encoding="utf-8") as f:
                f.write("".join(w.model_dump_json() + "\n" for w in remaining))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)

    def __len__(self) -> int:
        return len(self.read())
