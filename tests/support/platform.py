"""The platform started as a user starts it (`vigie run`), for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

INGEST = "http://127.0.0.1:8000"
REGISTRY = "http://127.0.0.1:8001"


@pytest.fixture
def platform(kafka_bootstrap: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """`vigie run` in a fresh topic namespace and database, stopped with Ctrl-C afterwards."""
    env = {
        **os.environ,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VIGIE_TOPIC_NAMESPACE": f"e2e{uuid.uuid4().hex[:8]}",
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
    }
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigie_tools", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while b"Press Ctrl-C to stop." not in (tmp_path / "run.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "run.log").read_text()
            time.sleep(0.3)
        yield env
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        output = (tmp_path / "run.log").read_text()
        assert code == 0, output
        assert "Stopped." in output


def regulator_token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "token", "create", "--role", "regulator"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()
