"""The splits a deployment meets: device families, manufacturers, later years and sources unseen.

Each split is a list of folds; a fold names the rows a model is trained on and the rows it is
tested on, never the same. Pooled over a split's folds, every tested row is predicted by a model
that never saw its family, manufacturer, year or source. Groups too small to be read alone (the
long tail of manufacturers, the odd source) are pooled into one fold rather than dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# A group with fewer rows than this is pooled with the other small ones into one fold.
MIN_FOLD_ROWS = 150
# The newest years are tested in periods of at least this many reports, trained on older ones.
YEAR_PERIOD_ROWS = 300
YEAR_PERIODS = 3


@dataclass(frozen=True)
class Fold:
    """Rows one model is trained on, and the rows it is then tested on."""

    name: str
    train: NDArray[np.bool_]
    test: NDArray[np.bool_]


@dataclass(frozen=True)
class Split:
    """One way of holding data out: its name, what it stands for, and its folds."""

    name: str
    title: str
    folds: list[Fold]


def leave_one_group_out(
    name: str,
    title: str,
    groups: NDArray[np.str_],
    usable: NDArray[np.bool_],
    *,
    min_rows: int = MIN_FOLD_ROWS,
    tail: str = "others pooled",
) -> Split:
    """One fold per group among ``usable`` rows; groups under ``min_rows`` tested together."""
    counts = Counter(groups[usable].tolist())
    big = sorted(g for g, n in counts.items() if n >= min_rows)
    small = sorted(g for g, n in counts.items() if n < min_rows)
    folds = []
    for group in big:
        test = usable & (groups == group)
        folds.append(Fold(group, usable & ~test, test))
    if small:
        test = usable & np.isin(groups, small)
        label = small[0] if len(small) == 1 else f"{tail} ({len(small)})"
        folds.append(Fold(label, usable & ~test, test))
    return Split(name, title, [f for f in folds if f.train.any() and f.test.any()])


_NON_ALNUM = re.compile(r"[^a-z0-9& ]+")
# Spellings and former names of one manufacturer in MAUDE (free text typed by each reporter),
# tried in order on the normalised name; otherwise a manufacturer is its name's first word, so
# that a maker's divisions and plants ("DEPUY ORTHOPAEDICS", "DEPUY INTERNATIONAL") are one.
_MANUFACTURER_ALIASES = (
    (re.compile(r"resp[a-z]*n[a-z]*c|philips"), "Philips Respironics"),
    (re.compile(r"smith ?(&|and) ?nephew"), "Smith & Nephew"),
    (re.compile(r"^(mcghan|allerg[ae]n)"), "Allergan"),
    (re.compile(r"^(ethicon|johnson)"), "Ethicon"),
    (re.compile(r"^(conceptus|bayer)"), "Bayer"),
    (re.compile(r"^(medtronic|mpri)\b"), "Medtronic"),
    (re.compile(r"^stryke"), "Stryker"),
    (re.compile(r"^(william )?cook\b"), "Cook"),
    (re.compile(r"^boston scientific"), "Boston Scientific"),
    (re.compile(r"^(unk|unknown|na|n a|none)$"), "not stated"),
)


def manufacturer_key(name: str) -> str:
    """One key per manufacturer however the reporter spelt it; an empty field is "not stated"."""
    text = " ".join(_NON_ALNUM.sub(" ", name.lower()).split())
    if not text:
        return "not stated"
    for pattern, key in _MANUFACTURER_ALIASES:
        if pattern.search(text):
            return key
    words = [w for w in text.split() if w not in {"inc", "ltd", "llc", "corp", "co", "gmbh"}]
    return words[0].title() if words else "not stated"


def manufacturer_split(
    names: NDArray[np.str_],
    usable: NDArray[np.bool_],
    device_makers: NDArray[np.str_] | None = None,
) -> Split:
    """Leave-one-manufacturer-out; the long tail of small manufacturers is one fold.

    A report names its manufacturer in MAUDE's ``manufacturer_name`` (who filed it) or, when that
    is empty, ``manufacturer_d_name`` (who made the device): ``device_makers``.
    """
    makers = device_makers if device_makers is not None else np.full(len(names), "", dtype=str)
    keys = np.asarray(
        [manufacturer_key(str(n) or str(d)) for n, d in zip(names, makers, strict=True)], dtype=str
    )
    return leave_one_group_out(
        "manufacturer",
        "manufacturer left out (the filer, else the device's maker; spellings merged, small ones "
        "pooled)",
        keys,
        usable,
        tail="other manufacturers",
    )


def year_split(dates: NDArray[np.str_], usable: NDArray[np.bool_]) -> Split:
    """Train on earlier years, test on a later period: the newest ``YEAR_PERIODS`` periods."""
    years = np.asarray([int(d[:4]) if d[:4].isdigit() else -1 for d in dates.tolist()])
    known = usable & (years > 0)
    counts = Counter(years[known].tolist())
    periods: list[tuple[int, int]] = []
    end = max(counts) if counts else 0
    rows = 0
    for year in sorted(counts, reverse=True):
        rows += counts[year]
        if rows >= YEAR_PERIOD_ROWS:
            periods.append((year, end))
            end, rows = year - 1, 0
            if len(periods) == YEAR_PERIODS:
                break
    folds = []
    for start, stop in sorted(periods):
        test = known & (years >= start) & (years <= stop)
        train = known & (years < start)
        name = str(start) if start == stop else f"{start}-{stop}"
        if train.any() and test.any():
            folds.append(Fold(name, train, test))
    return Split("year", "later years (trained on earlier years only)", folds)


def source_split(
    sources: NDArray[np.str_], usable: NDArray[np.bool_], external: dict[str, NDArray[np.bool_]]
) -> Split:
    """Leave-one-report-source-out within MAUDE, plus each external file tested on all of MAUDE."""
    named = np.asarray([s or "source not stated" for s in sources.tolist()], dtype=str)
    split = leave_one_group_out(
        "source", "report source left out (MAUDE's own, then other files)", named, usable
    )
    for name, rows in external.items():
        split.folds.append(Fold(name, usable.copy(), rows))
    return split
