"""Progress of a long command on stderr: stage, counts, elapsed time."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Writes ``[  12.3 s] stage 3/19`` lines; on a terminal, counts update in place."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.perf_counter()
        self._live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._open_line = False

    @property
    def elapsed(self) -> float:
        """Seconds since the progress display started."""
        return time.perf_counter() - self.started

    def _write(self, text: str, *, final: bool) -> None:
        line = f"[{self.elapsed:7.1f} s] {text}"
        if self._live:
            self.stream.write("\r\x1b[2K" + line + ("\n" if final else ""))
            self._open_line = not final
        else:
            if final:
                self.stream.write(line + "\n")
        self.stream.flush()

    def stage(self, text: str) -> None:
        """A new stage (one line)."""
        if self._open_line:
            self.stream.write("\n")
            self._open_line = False
        self._write(text, final=True)

    def step(self, stage: str, done: int, total: int) -> None:
        """Progress within a stage; off a terminal only the first and last steps are written."""
        text = f"{stage} {done}/{total}"
        if self._live:
            self._write(text, final=done >= total)
        elif done == 0 or done >= total or done % max(1, total // 4) == 0:
            self._write(text, final=True)


class Silent(Progress):
    """No output (library calls and tests)."""

    def _write(self, text: str, *, final: bool) -> None:
        return None

    def stage(self, text: str) -> None:
        return None
