"""Shared helpers of the benchmarks: machine description, medians, the JSON last line."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from typing import Any

from vigie.credentials import KafkaClientConfig


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def median(values: list[float]) -> float:
    """Median of repeated measurements (the machines are shared and noisy)."""
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def say(line: str = "") -> None:
    """A line of the human-readable report."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def finish(figures: dict[str, Any]) -> None:
    """The last line: one JSON object with every figure."""
    say(json.dumps(figures, sort_keys=True))


def aiokafka_connection(client: KafkaClientConfig) -> dict[str, Any]:
    """aiokafka's keyword arguments to reach the broker as ``client`` does (SASL/SCRAM, TLS)."""
    return {
        "bootstrap_servers": list(client.bootstrap_servers),
        "security_protocol": client.security_protocol,
        "sasl_mechanism": client.sasl_mechanism,
        "sasl_plain_username": client.username,
        "sasl_plain_password": client.password,
        "ssl_context": client.ssl_context(),
    }


def restore_environment(name: str, previous: str | None) -> None:
    """Put environment variable ``name`` back as it was (``None``: unset)."""
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous
