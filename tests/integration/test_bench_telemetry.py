"""``python -m bench.telemetry --quick``: its own broker and triage services, figures for every
state store and instance count that agree with its inputs, and nothing left running."""

from __future__ import annotations

import json
import math
import socket
from datetime import timedelta

import pytest

from bench.telemetry import (
    REFERENCE_WINDOWS,
    SHIFTED_EVERY,
    START,
    make_windows,
    median_size,
    options,
    rate_between,
)
from bench.telemetry import main as bench_main
from vigie.contracts import TelemetryWindow


def test_windows_come_reference_first_and_a_fifth_of_the_devices_shift() -> None:
    windows = make_windows(40, 5)
    assert len(windows) == 40
    parsed = [TelemetryWindow.model_validate_json(w.value) for w in windows]
    # Every device's reference windows before any device's ordinary ones.
    starts = [w.window_start for w in parsed]
    assert starts == sorted(starts)
    assert len({w.device.name for w in parsed[: 5 * REFERENCE_WINDOWS]}) == 5
    assert {w.key for w in windows} == {
        f"Acme Health|{w.device.name}|2.4.0".encode() for w in parsed
    }
    # Device 0 (0 % SHIFTED_EVERY == 0) shifts half-way through its 8 windows to older
    # patients; device 1 does not, and neither did device 0 before.

    def mean_age(device: int, *, late: bool) -> float:
        half = START + timedelta(hours=4)
        means = [
            f.mean
            for w in parsed
            if w.device.name == f"Sepsis Watch {device}" and (w.window_start >= half) == late
            for f in w.features
            if f.name == "age" and f.mean is not None
        ]
        return sum(means) / len(means)

    assert 1 % SHIFTED_EVERY != 0
    assert mean_age(0, late=True) - mean_age(1, late=True) > 8
    assert abs(mean_age(0, late=False) - mean_age(1, late=False)) < 4


def test_rate_counts_from_the_steady_state_or_says_it_could_not() -> None:
    # Steady from 100 records at 1.5 s; the end, 1,000, at 10.5 s.
    samples = [(0.0, 0, False), (1.0, 50, False), (1.5, 100, True), (10.5, 1000, True)]
    rate, steady = rate_between(samples, 1000)
    assert rate == pytest.approx(900 / 9.0) and steady
    # Half or more done before the steady state: counted from the first sample, and said so.
    late = [(0.0, 0, False), (1.0, 300, False), (2.0, 600, True), (4.0, 1000, True)]
    assert rate_between(late, 1000) == (250.0, False)
    with pytest.raises(ValueError, match="end was not reached"):
        rate_between(samples[:3], 1000)


def ratio(a: float, b: float) -> object:
    """``a / b`` as the JSON line has it: computed before ``a`` and ``b`` were rounded to
    0.1, then rounded itself to 3 or 4 decimals."""
    return pytest.approx(a / b, abs=0.05 / b + 0.05 * a / b**2 + 1e-3)


@pytest.mark.kafka
@pytest.mark.slow
def test_quick_run_gives_figures_for_every_store_and_instance_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = options(["--quick"])
    bench_main(["--quick"])
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert figures["benchmark"] == "telemetry"
    assert figures["windows"] == args.windows == 60
    assert figures["devices"] == args.devices
    expected_size = median_size(make_windows(args.windows, args.devices))
    assert abs(figures["window_bytes_median"] - expected_size) <= 0.01 * expected_size
    bare = figures["bare_consume_windows_per_s_median"]
    consumer_perf = figures["consumer_perf_records_per_s_median"]
    assert bare > 0 and consumer_perf > 0 and figures["producer_perf_records_per_s_median"] > 0
    for store in ("kafka", "file"):
        for instances in (1, 2):
            name = f"monitor_{store}_x{instances}"
            rate = figures[f"{name}_windows_per_s_median"]
            assert len(figures[f"{name}_windows_per_s"]) == args.repeats
            assert len(figures[f"{name}_steady"]) == args.repeats
            assert math.isfinite(rate) and rate > 0
            assert figures[f"{name}_vs_bare_ratio"] == ratio(rate, bare)
            assert figures[f"{name}_vs_consumer_perf_ratio"] == ratio(rate, consumer_perf)
            # Every device leaves state behind: its reference at least.
            assert figures[f"{name}_state_bytes_per_window_median"] > 0
            assert figures[f"{name}_state_records_per_window_median"] >= args.devices / args.windows
        assert figures[f"monitor_{store}_x2_vs_one_instance_ratio"] == ratio(
            figures[f"monitor_{store}_x2_windows_per_s_median"],
            figures[f"monitor_{store}_x1_windows_per_s_median"],
        )

    # The broker it started is stopped: nothing listens on its port any more.
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", args.base_port)) != 0
