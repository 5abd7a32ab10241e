"""Small server-side SVG charts: no script, no external asset, readable without JavaScript."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
