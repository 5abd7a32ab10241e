"""The dashboard's signal plots as SVG: well-formed, accessible, escaped, and the PRR interval."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from services.registry.dashboard import charts, service

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ElementTree.Element:
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") and root.findtext(f"{SVG}desc")
    return root


def test_the_prr_interval_holds_the_prr_and_matches_its_doctest() -> None:
    assert doctest.testmod(service).failed == 0
    low, high = service.prr_interval(3, 7, 0, 100) or (0.0, 0.0)
    prr = (3 / 10) / (0.5 / 100)  # the half report the PRR puts in an empty cell
    assert low < prr < high
    assert service.prr_interval(0, 10, 5, 100) is None


def test_forest_plots_both_ratios_on_a_log_scale_with_escaped_labels() -> None:
    rows = [
        charts.ForestRow("<b>Lung</b> · followed", 9.5, (4.6, 19.8), 10.4, (4.7, 23.0), True),
        charts.ForestRow("Skin · overrode", 0.4, (0.1, 1.6), None, None, False),
    ]
    svg = charts.forest("f", rows, title="PRR & ROR", desc="d", legend=("PRR", "ROR"))
    root = _parse(svg)
    assert "<b>" not in svg and "&lt;b&gt;Lung" in svg
    squares = [r for r in root.iter(f"{SVG}rect") if r.findtext(f"{SVG}title")]
    circles = [c for c in root.iter(f"{SVG}circle") if c.findtext(f"{SVG}title")]
    assert len(squares) == 2 and len(circles) == 1  # no ROR for the second row
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert ticks == ["0.1", "1", "10", "100"]
    # The greater ratio lies further right.
    assert float(squares[0].get("x", "0")) > float(squares[1].get("x", "0"))


def test_observed_expected_draws_flagged_weeks_apart() -> None:
    svg = charts.observed_expected(
        "t",
        ["2026-W01", "2026-W02", "2026-W03"],
        [1, 1, 9],
        [None, 1.0, 1.0],
        [False, False, True],
        title="Lung",
        desc="bars and line",
        legend=("observed", "expected", "flagged"),
    )
    root = _parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.findtext(f"{SVG}title")]
    assert [b.get("fill") for b in bars] == [charts.OBSERVED, charts.OBSERVED, charts.FLAGGED]
    polyline = root.find(f"{SVG}polyline")
    assert polyline is not None and len((polyline.get("points") or "").split()) == 2
    with pytest.raises(ValueError, match="same length"):
        charts.observed_expected(
            "t", ["w"], [1, 2], [None], [False], title="", desc="", legend=("a", "b", "c")
        )


def test_drift_timeline_places_signals_in_time_order() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    points = [
        charts.DriftPoint(start + timedelta(days=3), 3.6, "high", "Lung 1 · psi"),
        charts.DriftPoint(start, 1.2, "low", "Skin 2 · ks"),
    ]
    root = _parse(
        charts.drift_timeline("d", points, title="Drift", desc="dots", legend={"high": "high"})
    )
    dots = [c for c in root.iter(f"{SVG}circle") if c.findtext(f"{SVG}title")]
    assert [d.findtext(f"{SVG}title") for d in dots] == ["Skin 2 · ks: 1.2", "Lung 1 · psi: 3.6"]
    assert float(dots[0].get("cx", "0")) < float(dots[1].get("cx", "0"))
    assert float(dots[0].get("cy", "0")) > float(dots[1].get("cy", "0"))  # higher ratio, higher
    empty = _parse(charts.drift_timeline("e", [], title="Drift", desc="none", legend={}))
    assert not [c for c in empty.iter(f"{SVG}circle")]
