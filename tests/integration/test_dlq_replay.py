"""`vigie dlq replay`: dead letters go back where they came from, once, after a fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.factories import report
from tests.support.kafka import drain, fresh_namespace, producer, provision
from vigie.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]


def replay(bootstrap: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "dlq", "replay", *args],
        env={**os.environ, "VIGIE_KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_dead_letters_are_replayed_once_to_their_source(kafka_bootstrap: str) -> None:
    settings = CommonSettings(
        kafka_bootstrap_servers=kafka_bootstrap, topic_namespace=fresh_namespace()
    )
    provision(settings)
    source = settings.topics.reports
    fixed = report()
    send = producer(kafka_bootstrap)
    for value, reason in ((fixed.model_dump_json().encode(), "processing"), (b"{", "not_json")):
        send.send(
            source + ".dlq",
            value=value,
            key=fixed.report_id.bytes,
            headers=[
                ("vigie-dlq-reason", reason.encode()),
                ("vigie-dlq-source-topic", source.encode()),
            ],
        ).get(timeout=30)
    send.close()

    assert replay(kafka_bootstrap, source, "--reason", "processing") == "replayed 1, skipped 1"
    # Its progress is kept: a second run replays nothing again.
    assert replay(kafka_bootstrap, source, "--reason", "processing") == "replayed 0, skipped 0"

    records = drain(kafka_bootstrap, source, until=lambda rs: len(rs) >= 2, timeout_s=8)
    assert [r.value for r in records] == [fixed.model_dump_json().encode()]
    assert records[0].key == fixed.report_id.bytes
    headers = dict(records[0].headers)
    assert headers["vigie-replayed-from"].startswith((source + ".dlq/").encode())
