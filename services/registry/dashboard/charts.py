"""Small server-side SVG charts: no script, no external asset, readable without JavaScript."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

PALETTE = {"death": "#7a0019", "serious": "#d1495b", "malfunction": "#edae49", "other": "#66a182"}


def stacked_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
) -> str:
    """Stacked vertical bars, one per label, one colour per series, with a legend."""
    top = max([sum(values) for values in zip(*series.values(), strict=True)] or [0]) or 1
    n = max(len(labels), 1)
    plot_h, left, bottom = height - 60, 36, height - 40
    step = (width - left - 10) / n
    bar = max(step * 0.7, 1)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{left}" y="12" font-size="11">{top}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#444"/>',
    ]
    for i, label in enumerate(labels):
        x = left + i * step
        y = float(bottom)
        for name, values in series.items():
            h = values[i] / top * plot_h
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE.get(name, "#3a6ea5")}"><title>{escape(label)} '
                    f"{escape(name)}: {values[i]}</title></rect>"
                )
        if n <= 16 or i % max(1, n // 8) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10">{escape(label)}</text>'
            )
    for j, name in enumerate(series):
        lx = left + j * 110
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" '
            f'fill="{PALETTE.get(name, "#3a6ea5")}"/><text x="{lx + 14}" '
            f'y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(items: Sequence[tuple[str, int]], *, title: str, width: int = 640) -> str:
    """One horizontal bar per (label, value)."""
    height = 24 * max(len(items), 1) + 10
    top = max([v for _, v in items] or [0]) or 1
    left = 230
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * 24
        w = value / top * (width - left - 50)
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="11">{escape(label[:38])}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="18" fill="#3a6ea5"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 14}" font-size="11">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# Colours of the plots below: observed and expected counts, a flagged week, the two ratios.
OBSERVED, EXPECTED, FLAGGED = "#3a6ea5", "#1b1b1b", "#d1495b"
PRR_COLOUR, ROR_COLOUR = "#3a6ea5", "#b35c00"
SEVERITY_COLOUR = {"high": "#7a0019", "medium": "#edae49", "low": "#66a182"}


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    """The start of an accessible SVG: named by its title, described by its description."""
    return [
        f'<svg role="img" aria-labelledby="{chart_id}-t {chart_id}-d" id="{chart_id}" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>'
    ]


def _number(value: float) -> str:
    return f"{value:.3g}"


def observed_expected(
    chart_id: str,
    weeks: Sequence[str],
    observed: Sequence[int],
    expected: Sequence[float | None],
    flagged: Sequence[bool],
    *,
    title: str,
    desc: str,
    legend: tuple[str, str, str],
    width: int = 640,
    height: int = 200,
) -> str:
    """Weekly observed reports as bars (flagged weeks in red), the expected count as a line."""
    if not len(weeks) == len(observed) == len(expected) == len(flagged):
        raise ValueError("weeks, observed, expected and flagged must have the same length")
    top = max([*observed, *(e for e in expected if e is not None), 1])
    left, bottom, plot_h = 36, height - 40, height - 60
    step = (width - left - 10) / max(len(weeks), 1)
    parts = _open(chart_id, title, desc, width, height)
    parts.append(f'<text x="4" y="16" font-size="11">{_number(top)}</text>')
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#444"/>')
    line = []
    for i, week in enumerate(weeks):
        x = left + i * step
        h = observed[i] / top * plot_h
        colour = FLAGGED if flagged[i] else OBSERVED
        if h > 0:
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{step * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(week)}: {observed[i]}'
                f"</title></rect>"
            )
        e = expected[i]
        if e is not None:
            line.append(f"{x + step * 0.35:.1f},{bottom - e / top * plot_h:.1f}")
        if len(weeks) <= 16 or i % max(1, len(weeks) // 8) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10">{escape(week[-3:])}</text>'
            )
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="{EXPECTED}" '
            'stroke-width="2" stroke-dasharray="5 3"/>'
        )
    for j, (name, colour) in enumerate(zip(legend, (OBSERVED, EXPECTED, FLAGGED), strict=True)):
        lx = left + j * 170
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _log_x(value: float, low: float, high: float, left: float, right: float) -> float:
    clipped = min(max(value, low), high)
    return left + (math.log10(clipped) - math.log10(low)) / (math.log10(high) - math.log10(low)) * (
        right - left
    )


@dataclass(frozen=True)
class ForestRow:
    """One line of a forest plot: a label and two ratios with their 95% intervals."""

    label: str
    prr: float | None
    prr_ci: tuple[float, float] | None
    ror: float | None
    ror_ci: tuple[float, float] | None
    flagged: bool


def forest(
    chart_id: str,
    rows: Sequence[ForestRow],
    *,
    title: str,
    desc: str,
    legend: tuple[str, str],
    width: int = 640,
) -> str:
    """PRR (square) and ROR (circle) of each row with their 95% intervals, on a log scale with
    the line of no disproportion at 1; flagged rows' labels in bold."""
    height = 28 * max(len(rows), 1) + 50
    left, right = 240, width - 20
    values = [
        v
        for r in rows
        for v in (r.prr, r.ror, *(r.prr_ci or ()), *(r.ror_ci or ()))
        if v is not None and v > 0
    ]
    low = 10 ** math.floor(math.log10(max(min([*values, 1.0]), 0.01)))
    high = 10 ** math.ceil(math.log10(min(max([*values, 1.0]), 1000.0)))
    if high <= low:
        high = low * 10
    parts = _open(chart_id, title, desc, width, height)
    axis = height - 36
    one = _log_x(1.0, low, high, left, right)
    parts.append(f'<line x1="{left}" y1="{axis}" x2="{right}" y2="{axis}" stroke="#444"/>')
    parts.append(
        f'<line x1="{one:.1f}" y1="4" x2="{one:.1f}" y2="{axis}" stroke="#444" '
        'stroke-dasharray="4 3"/>'
    )
    tick = low
    while tick <= high * 1.0001:
        x = _log_x(tick, low, high, left, right)
        parts.append(
            f'<text x="{x:.1f}" y="{axis + 14}" font-size="10" text-anchor="middle">{tick:g}</text>'
        )
        tick *= 10
    for i, row in enumerate(rows):
        y = 14 + i * 28
        weight = ' font-weight="700"' if row.flagged else ""
        parts.append(
            f'<text x="0" y="{y + 8}" font-size="11"{weight}>{escape(row.label[:40])}</text>'
        )
        for offset, value, ci, colour, name, shape in (
            (0, row.prr, row.prr_ci, PRR_COLOUR, legend[0], "square"),
            (10, row.ror, row.ror_ci, ROR_COLOUR, legend[1], "circle"),
        ):
            if value is None or value <= 0:
                continue
            cy = y + offset
            if ci is not None:
                x1, x2 = (_log_x(v, low, high, left, right) for v in ci)
                parts.append(
                    f'<line x1="{x1:.1f}" y1="{cy}" x2="{x2:.1f}" y2="{cy}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                )
            x = _log_x(value, low, high, left, right)
            label = f"{escape(row.label)} {escape(name)}: {_number(value)}"
            if ci is not None:
                label += f" ({_number(ci[0])}–{_number(ci[1])})"
            if shape == "square":
                parts.append(
                    f'<rect x="{x - 4:.1f}" y="{cy - 4}" width="8" height="8" fill="{colour}">'
                    f"<title>{label}</title></rect>"
                )
            else:
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{cy}" r="4.5" fill="{colour}">'
                    f"<title>{label}</title></circle>"
                )
    for j, (name, colour) in enumerate(zip(legend, (PRR_COLOUR, ROR_COLOUR), strict=True)):
        lx = left + j * 170
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class DriftPoint:
    """One drift signal on the timeline: when its window ended, statistic over threshold."""

    at: datetime
    ratio: float
    severity: str
    label: str


def drift_timeline(
    chart_id: str,
    points: Sequence[DriftPoint],
    *,
    title: str,
    desc: str,
    legend: Mapping[str, str],
    width: int = 640,
    height: int = 220,
) -> str:
    """Drift signals over time: one dot per signal at its statistic over its threshold (1 is
    the threshold, dashed), coloured by severity."""
    left, right, top_y, bottom = 40, width - 10, 10, height - 44
    parts = _open(chart_id, title, desc, width, height)
    if points:
        start = min(p.at for p in points)
        end = max(p.at for p in points)
        span = max((end - start).total_seconds(), 3600.0)
        top = max(max(p.ratio for p in points), 1.0) * 1.1

        def y_of(ratio: float) -> float:
            return bottom - min(max(ratio, 0.0), top) / top * (bottom - top_y)

        parts.append(f'<text x="4" y="{top_y + 8}" font-size="11">{_number(top)}</text>')
        parts.append(
            f'<line x1="{left}" y1="{y_of(1.0):.1f}" x2="{right}" y2="{y_of(1.0):.1f}" '
            'stroke="#444" stroke-dasharray="4 3"/>'
            f'<text x="4" y="{y_of(1.0) + 4:.1f}" font-size="11">1</text>'
        )
        for p in sorted(points, key=lambda p: p.at):
            # Signals all of one moment stand in the middle rather than on the axis.
            elapsed = (p.at - start).total_seconds()
            x = left + (elapsed / span if end > start else 0.5) * (right - left)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y_of(p.ratio):.1f}" r="5" '
                f'fill="{SEVERITY_COLOUR.get(p.severity, OBSERVED)}"><title>'
                f"{escape(p.label)}: {_number(p.ratio)}</title></circle>"
            )
        parts.append(
            f'<text x="{left}" y="{bottom + 16}" font-size="10">{start:%Y-%m-%d}</text>'
            f'<text x="{right}" y="{bottom + 16}" font-size="10" text-anchor="end">'
            f"{end:%Y-%m-%d}</text>"
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#444"/>')
    for j, (severity, name) in enumerate(legend.items()):
        lx = left + j * 130
        parts.append(
            f'<circle cx="{lx + 5}" cy="{height - 9}" r="5" '
            f'fill="{SEVERITY_COLOUR.get(severity, OBSERVED)}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
