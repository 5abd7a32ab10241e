"""The device SDK installs alone, in a fresh virtual environment, and reports to a real broker.

A manufacturer embedding the reporter must not get the platform with it: no web framework, no
database layer, no machine-learning library, no Kafka runtime of the services.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.kafka import drain, fresh_namespace, provision
from vigie.contracts import TelemetryWindow
from vigie.settings import CommonSettings
from vigie.topics import device_telemetry_topic

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_ONLY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlmodel",
    "sqlalchemy",
    "sklearn",
    "scipy",
    "joblib",
    "faststream",
    "aiokafka",
    "prometheus_client",
    "pydantic_settings",
    "jinja2",
    "services",
    "vigie_tools",
)

SEND = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from vigie.contracts import DeviceRef
    from vigie_sdk import DeviceReporter, summarise_window

    properties, topic, spool = sys.argv[1:4]
    device = DeviceRef(name="Sepsis Watch", manufacturer="Acme Health", model_version="2.4.0")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    rng = np.random.default_rng(7)
    window = summarise_window(
        device, start, start + timedelta(hours=1),
        scores=rng.beta(2, 5, 500), features={"age": rng.normal(60, 12, 500)},
    )
    # A first connection (TLS, SCRAM) on a loaded machine can take a while: wait for the ack.
    # Without topic=, the manufacturer's topic of a platform without namespace.
    reporter = DeviceReporter.from_properties(
        properties, spool_path=spool, topic=topic, send_timeout_s=60
    )
    sent = reporter.send(window)
    reporter.close()
    print(json.dumps({"sent": sent, "event_id": str(window.event_id)}))
    """
)


def run(*args: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_sdk_installs_alone_and_sends_a_window(kafka_bootstrap: str, tmp_path: Path) -> None:
    # Copies of the two distributions: building them must not write into the source tree.
    for part in ("core", "sdk"):
        shutil.copytree(
            ROOT / part,
            tmp_path / part,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"),
        )
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
        "-c", ROOT / "constraints.txt", tmp_path / "core", tmp_path / "sdk",
        cwd=tmp_path,
    )  # fmt: skip

    installed = {
        d["name"].lower()
        for d in json.loads(run(python, "-m", "pip", "list", "--format=json", cwd=tmp_path))
    }
    assert {"vigie-core", "vigie-sdk", "kafka-python", "pydantic", "numpy", "httpx"} <= installed
    present = run(
        python,
        "-c",
        "import importlib.util, sys; "
        f"print(','.join(m for m in {PLATFORM_ONLY!r} if importlib.util.find_spec(m)))",
        cwd=tmp_path,
    ).strip()
    assert present == "", f"the SDK brought platform packages: {present}"

    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    # A device maker's credential, as the operator issues it: its manufacturer's own topic.
    topic = device_telemetry_topic(settings.topics.telemetry, "Acme Health")
    properties = tmp_path / "acme.properties"
    run(
        sys.executable, "-m", "vigie_tools", "kafka", "credentials", "--role", "device",
        "--name", "sepsis-watch", "--manufacturer", "Acme Health", "--topic", topic,
        "--out", properties,
        cwd=ROOT,
    )  # fmt: skip
    # Run from an empty folder so that nothing of the source tree is importable.
    sent = json.loads(run(python, "-c", SEND, properties, topic, tmp_path / "spool", cwd=tmp_path))
    assert sent["sent"] is True

    records = drain(kafka_bootstrap, topic, until=lambda rs: len(rs) >= 1, timeout_s=60)
    assert len(records) == 1
    window = TelemetryWindow.model_validate_json(records[0].value)
    assert str(window.event_id) == sent["event_id"]
    assert window.device.name == "Sepsis Watch"
    assert window.n_predictions == 500
