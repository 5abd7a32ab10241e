"""``vigie drift replay`` and ``vigie drift evaluate``: drift detectors offline.

``replay`` runs a drift detector over one column of a CSV file. Stream detectors take the
column's values in row order and report the rows at which a change was detected. Distribution
detectors take the first rows as the reference and compare each following window of rows with
it. ``evaluate`` scores the stream detectors on error streams with known change points (see
:mod:`vigie_tools.drift_eval`). The human-readable lines come first; the last line is one JSON
object, for scripts.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import logging
import math
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from services.triage.drift import (
    DEFAULT_STREAM_DETECTOR,
    DEFAULT_STREAM_PARAMETERS,
    DETECTORS,
    STREAM_DETECTORS,
)
from services.triage.drift.detectors.base import FloatArray
from vigie_tools import drift_eval

log = logging.getLogger(__name__)

EXIT_USAGE = 2


class ReplayError(Exception):
    """The input cannot be replayed (missing file or column, a value that is not a number)."""


@dataclass(frozen=True)
class WindowScore:
    """One window of rows compared with the reference."""

    start: int
    end: int
    statistic: float
    p_value: float | None
    drift: bool


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def read_column(path: Path, column: str) -> FloatArray:
    """The values of ``column`` in ``path`` (CSV with a header row, optionally gzipped)."""
    if not path.is_file():
        raise ReplayError(f"no such file: {path}")
    try:
        with _open(path) as handle:
            return _parse(csv.reader(handle), column, path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReplayError(f"cannot read {path}: {exc}") from exc


def _parse(rows: Iterator[list[str]], column: str, path: Path) -> FloatArray:
    header = next(rows, None)
    if header is None:
        raise ReplayError(f"{path} is empty")
    names = [name.strip() for name in header]
    if column not in names:
        raise ReplayError(f"no column {column!r} in {path}; columns: {', '.join(names)}")
    index = names.index(column)
    values: list[float] = []
    for row_number, row in enumerate(rows):
        if not row:
            continue  # a blank line is no row
        cell = row[index].strip() if index < len(row) else ""
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ReplayError(
                f"row {row_number} (line {row_number + 2}) of {path}: {cell!r} in column "
                f"{column!r} is not a finite number"
            )
        values.append(value)
    return np.asarray(values, dtype=np.float64)


def parse_parameters(pairs: list[str]) -> dict[str, Any]:
    """``["h=8", "mode=up"]`` as keyword arguments: integers, then floats, else text."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ReplayError(f"--param takes NAME=VALUE, got {pair!r}")
        value: Any = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        parameters[name.strip()] = value
    return parameters


def _build(detector: str, *args: Any, **parameters: Any) -> Any:
    """The detector named ``detector``; unknown or invalid parameters are a ReplayError."""
    try:
        return DETECTORS[detector](*args, **parameters)
    except (TypeError, ValueError) as exc:
        raise ReplayError(f"{detector}: {exc}") from exc


def replay_stream(values: FloatArray, detector: str, **parameters: Any) -> list[int]:
    """Rows (0-based) at which the stream detector ``detector`` flags a change."""
    watcher = _build(detector, **parameters)
    return [] if values.size == 0 else list(watcher.update_many(values).tolist())


def replay_windows(
    values: FloatArray, detector: str, *, window: int, reference: int, **parameters: Any
) -> list[WindowScore]:
    """Each full window of ``window`` rows after the first ``reference`` rows, scored."""
    if values.size < reference + window:
        raise ReplayError(
            f"{values.size} rows: need at least {reference} reference rows and one window "
            f"of {window}"
        )
    scorer = _build(detector, values[:reference], **parameters)
    scores = []
    for start in range(reference, values.size - window + 1, window):
        result = scorer.update(values[start : start + window])
        scores.append(
            WindowScore(start, start + window, result.statistic, result.p_value, result.drift)
        )
    return scores


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def replay(args: argparse.Namespace) -> int:
    """Run ``vigie drift replay``; exit code 2 when the input cannot be replayed."""
    try:
        parameters = parse_parameters(args.param)
        if args.detector is None:
            args.detector = DEFAULT_STREAM_DETECTOR
            parameters = {**DEFAULT_STREAM_PARAMETERS, **parameters}
        values = read_column(Path(args.file), args.column)
        summary: dict[str, Any] = {
            "detector": args.detector,
            "column": args.column,
            "rows": int(values.size),
            "parameters": parameters,
        }
        if args.detector in STREAM_DETECTORS:
            detections = replay_stream(values, args.detector, **parameters)
            for row in detections:
                _out(f"drift at row {row}")
            _out(f"{args.detector}: {len(detections)} detection(s) in {values.size} rows")
            summary["detections"] = detections
        else:
            window = args.window
            reference = args.reference or window
            scores = replay_windows(
                values, args.detector, window=window, reference=reference, **parameters
            )
            for score in scores:
                if score.drift:
                    p_value = "" if score.p_value is None else f", p-value {score.p_value:.3g}"
                    _out(
                        f"drift in rows {score.start}-{score.end - 1}: "
                        f"{args.detector} {score.statistic:.4g}{p_value}"
                    )
            drifted = [score.start for score in scores if score.drift]
            tail = values.size - reference - window * len(scores)
            _out(
                f"{args.detector}: {len(drifted)} of {len(scores)} windows of {window} rows "
                f"drifted from the first {reference} rows"
                + (f" ({tail} trailing rows not compared)" if tail else "")
            )
            summary.update(
                reference=reference,
                window=window,
                detections=drifted,
                windows=[asdict(score) for score in scores],
            )
    except ReplayError as exc:
        sys.stderr.write(f"vigie drift replay: {exc}\n")
        return EXIT_USAGE
    log.debug("replayed %s rows of %s with %s", values.size, args.file, args.detector)
    _out(json.dumps(summary))
    return 0


def evaluate(args: argparse.Namespace) -> int:
    """Run ``vigie drift evaluate``; exit code 2 when it cannot run."""
    size = drift_eval.SIZES[args.size]
    detectors = args.detector or [*sorted(STREAM_DETECTORS), *drift_eval.BASELINES]
    try:
        for name in detectors:
            drift_eval.runner(name)  # an unknown name fails before the streams are made
        streams = drift_eval.make_streams(size, args.family or drift_eval.FAMILIES)
        table = drift_eval.evaluate(streams, detectors, size.tolerance)
        selection = None
        if args.select:
            selection = drift_eval.leave_one_family_out(streams, size.tolerance)
        window_size = drift_eval.WINDOW_SIZES[args.size]
        windows = drift_eval.evaluate_windows(window_size) if args.windows else None
        corrections = drift_eval.evaluate_corrections(window_size) if args.windows else None
    except drift_eval.EvaluationError as exc:
        sys.stderr.write(f"vigie drift evaluate: {exc}\n")
        return EXIT_USAGE
    _out(
        f"{len(streams)} error streams of {size.rows} rows ({size.train} training rows before), "
        f"one drift each; a detection within {size.tolerance} rows of a drift's start catches it"
    )
    for line in drift_eval.format_table(table):
        _out(line)
    summary: dict[str, Any] = {
        "size": args.size,
        "streams": [stream.name for stream in streams],
        "tolerance": size.tolerance,
        "detectors": table,
    }
    if selection is not None:
        for line in drift_eval.format_selection(selection):
            _out(line)
        summary["selection"] = asdict(selection)
    if windows is not None and corrections is not None:
        for line in drift_eval.format_windows(windows, corrections, window_size):
            _out(line)
        summary["windows"] = windows
        summary["corrections"] = corrections
    _out(json.dumps(summary))
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_cli(subparsers: Any) -> None:
    """Register ``vigie drift replay``."""
    parser = subparsers.add_parser("drift", help="drift detectors of deployed AI devices")
    commands = parser.add_subparsers(dest="drift_command", required=True)
    replay_parser = commands.add_parser(
        "replay",
        help="run a drift detector over a CSV column and list where it drifted",
        description=__doc__,
    )
    replay_parser.add_argument("file", help="CSV file with a header row (.csv or .csv.gz)")
    replay_parser.add_argument("--column", required=True, help="numeric column to watch")
    replay_parser.add_argument(
        "--detector",
        default=None,
        choices=sorted(DETECTORS),
        help="stream detectors flag rows, distribution detectors flag windows (default: "
        f"{DEFAULT_STREAM_DETECTOR} with {DEFAULT_STREAM_PARAMETERS}, chosen by "
        "'vigie drift evaluate --select')",
    )
    replay_parser.add_argument(
        "--window", type=_positive, default=500, help="rows per compared window (default: 500)"
    )
    replay_parser.add_argument(
        "--reference",
        type=_positive,
        default=None,
        help="rows of the reference, from the top (default: one window)",
    )
    replay_parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="detector parameter, e.g. --param threshold=0.1 (repeatable)",
    )
    replay_parser.set_defaults(func=replay)

    evaluate_parser = commands.add_parser(
        "evaluate",
        help="score the stream detectors on error streams and annotated real series with known "
        "changes",
        description=drift_eval.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate_parser.add_argument(
        "--size",
        choices=sorted(drift_eval.SIZES),
        default="small",
        help="small: 28 generated streams of 4,000 rows, seconds; full: 70 of 10,000; both add "
        "river's seven annotated TCPD series (default: small)",
    )
    evaluate_parser.add_argument(
        "--family",
        action="append",
        choices=drift_eval.FAMILIES,
        help="stream family to use (repeatable; default: all)",
    )
    evaluate_parser.add_argument(
        "--detector",
        action="append",
        metavar="NAME",
        help="detector or baseline (always, never) to score (repeatable; default: all)",
    )
    evaluate_parser.add_argument(
        "--select",
        action="store_true",
        help="also choose a default by leaving one stream family out (tune on the others, "
        "score on it), over the parameter grid of every detector",
    )
    evaluate_parser.add_argument(
        "--windows",
        action="store_true",
        help="also score the distribution detectors on windows with mean shifts of known size, "
        "and the multiple-testing corrections on windows of 20 features",
    )
    evaluate_parser.set_defaults(func=evaluate)
