"""Fixtures shared by the test suites: real PostgreSQL, SQLite, and (integration) real Kafka."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from vigie_tools import localpg


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server started by the project; fails (never skips) if it cannot start.

    Stopped afterwards if the tests started it.
    """
    spec = localpg.PgSpec()
    was_running = localpg.is_ready(spec)
    yield localpg.start(spec)
    if not was_running:
        localpg.stop(spec)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty registry database on each of the two supported engines."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    server: str = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    spec = localpg.PgSpec()
    admin = f"host={spec.host} port={spec.port} user=vigie dbname=vigie"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The real single-node broker started by the project; fails (never skips) if it cannot.

    Stopped afterwards if the tests started it.
    """
    from vigie_tools import localkafka

    spec = localkafka.ClusterSpec()
    was_running = all(node.running for node in localkafka.status(spec))
    yield localkafka.start(spec)
    if not was_running:
        localkafka.stop(spec)
