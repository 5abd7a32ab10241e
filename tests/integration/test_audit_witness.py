"""The registry publishes its audit head on Kafka; `vigie audit verify` checks against it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from services.registry.app import create_app
from services.registry.audit.models import AuditRecord
from services.registry.audit.witness import witnessed_heads
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from tests.support.kafka import fresh_namespace, provision


def audit_verify(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigie_tools", "audit", "verify", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_removing_the_newest_records_is_caught_by_the_witnessed_head(
    kafka_bootstrap: str, database_url: str
) -> None:
    namespace = fresh_namespace()
    settings = RegistrySettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_namespace=namespace,
        registry_group_id=f"{namespace}-registry",
        audit_checkpoint_s=0.2,
    )
    provision(settings)
    env = {
        "VIGIE_DATABASE_URL": database_url,
        "VIGIE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "VIGIE_TOPIC_NAMESPACE": namespace,
    }
    with TestClient(create_app(settings)) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        with Session(engine) as session:
            record_triaged(session, [triaged() for _ in range(3)], alerts_topic="alerts")
            newest = session.exec(
                select(AuditRecord).order_by(col(AuditRecord.seq).desc()).limit(1)
            ).one()
        deadline = time.monotonic() + 30
        while witnessed_heads(settings).get(newest.seq or 0) != newest.hash:
            assert time.monotonic() < deadline, "the registry published no checkpoint"
            time.sleep(0.2)

    intact = audit_verify(env)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "audit chain intact: 3 records" in intact.stdout
    assert f"newest: record {newest.seq}" in intact.stdout

    with Session(engine) as session:
        session.delete(session.get(AuditRecord, newest.seq))
        session.commit()
    caught = audit_verify(env)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert f"AUDIT CHAIN BROKEN at record {newest.seq}" in caught.stdout
    assert "newest records removed" in caught.stdout
    # The chain alone cannot see it: that is what the witness is for.
    alone = audit_verify(env, "--chain-only")
    assert alone.returncode == 0 and "audit chain intact: 2 records" in alone.stdout


def test_verify_fails_closed_when_the_witness_is_unreachable(tmp_path: Path) -> None:
    unreachable = audit_verify(
        {
            "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
            "VIGIE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
            "VIGIE_KAFKA_TIMEOUT_S": "2",
        }
    )
    assert unreachable.returncode == 2
    assert "cannot read the witnessed heads" in unreachable.stdout
