"""`vigie serve triage` refuses to start on a missing or corrupted model, saying why."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from services.triage.model import DEFAULT_MODEL_DIR
from vigie.credentials import write_properties


def client_properties(folder: Path) -> Path:
    """Credentials that load (a throwaway CA, a user and password) for a broker that is not
    there: what a service sees when Kafka is down."""
    ca_key, ca = folder / "ca.key", folder / "ca.crt"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=test-ca", "-keyout", str(ca_key), "-out", str(ca)),
        ],
        check=True,
        capture_output=True,
    )
    return write_properties(
        folder / "triage.properties",
        {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "vigie-triage",
            "sasl.password": "not-a-real-secret",
            "ssl.ca.location": str(ca),
        },
    )


def serve_triage(
    model_dir: Path, *, credentials: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "VIGIE_TRIAGE_MODEL_DIR": str(model_dir),
        "VIGIE_TRIAGE_METRICS_PORT": "0",
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "VIGIE_KAFKA_TIMEOUT_S": "2",
    }
    env.pop("VIGIE_KAFKA_CLIENT_PROPERTIES", None)
    if credentials is not None:
        env["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(credentials)
    return subprocess.run(
        [sys.executable, "-m", "vigie_tools", "serve", "triage"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_model(tmp_path: Path) -> None:
    result = serve_triage(tmp_path / "nowhere")
    assert result.returncode != 0
    assert "vigie train" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupted_model(tmp_path: Path) -> None:
    copy = tmp_path / "artefact"
    shutil.copytree(DEFAULT_MODEL_DIR, copy)
    model = next(p for p in copy.iterdir() if p.suffix == ".joblib")
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    result = serve_triage(copy)
    assert result.returncode != 0
    assert "corrupt" in result.stderr.lower() or "checksum" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_missing_kafka_credentials() -> None:
    # No anonymous fallback: without credentials the service says which settings to give.
    result = serve_triage(DEFAULT_MODEL_DIR)
    assert result.returncode != 0
    assert "VIGIE_KAFKA_CLIENT_PROPERTIES" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_drift_state(tmp_path: Path) -> None:
    # The model is fine, but the drift monitor's state cannot be read: starting anyway would
    # learn new references from windows that may already have drifted.
    result = serve_triage(DEFAULT_MODEL_DIR, credentials=client_properties(tmp_path))
    assert result.returncode != 0
    assert "drift monitor state unavailable" in result.stderr
    assert "Traceback" not in result.stderr
