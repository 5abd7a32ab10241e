"""CSV that a spreadsheet opens as data: no cell of text can start a formula (OWASP CSV
injection), whoever wrote it (a narrative, a device or manufacturer name)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (tab and carriage
# return too: some strip them first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, s: str, /) -> int: ...


def neutralise(cell: Any) -> Any:
    """``cell`` with a single quote before it when it is text that would start a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class SafeWriter:
    """``csv.writer`` whose text cells are neutralised."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row, text cells neutralised."""
        self._writer.writerow([neutralise(cell) for cell in row])


def writer(out: _Writable) -> SafeWriter:
    """A CSV writer on ``out`` that neutralises formula-like text cells."""
    return SafeWriter(out)
