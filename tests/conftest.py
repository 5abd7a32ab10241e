"""Fixtures shared by the test suites: real PostgreSQL, SQLite, and (integration) real Kafka.

Markers are applied here from what a test uses, so `make test-fast` can leave out everything
that needs a server, a browser or minutes (see `pytest_collection_modifyitems`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

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
    bootstrap = localkafka.start(spec)
    # The tests' own clients (provisioning topics, producing inputs, draining outputs) are the
    # operator's; services started by the tests get their own principals.
    previous = os.environ.get("VIGIE_KAFKA_CLIENT_PROPERTIES")
    os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = str(localkafka.admin_properties(spec))
    yield bootstrap
    if previous is None:
        os.environ.pop("VIGIE_KAFKA_CLIENT_PROPERTIES", None)
    else:
        os.environ["VIGIE_KAFKA_CLIENT_PROPERTIES"] = previous
    if not was_running:
        localkafka.stop(spec)


# Fixtures whose closure tells what a test needs. Any fixture depending on one of these (the
# `platform` fixture, an `ingest` client on the broker, ...) pulls it into `item.fixturenames`.
KAFKA_FIXTURES = {"kafka_bootstrap"}
POSTGRES_FIXTURES = {"postgres_server"}
BROWSER_FIXTURES = {"browser", "chromium", "page"}
PLATFORM_FIXTURES = {"platform"}
E2E_DIR = Path(__file__).parent / "e2e"


def _drives_a_browser(module: ModuleType | None) -> bool:
    """The module launches Chromium itself (Playwright, with tests.support.browser's settings)."""
    names = vars(module) if module is not None else {}
    return "sync_playwright" in names or "async_playwright" in names or "CHROMIUM" in names


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test `kafka`, `postgres`, `browser`, `slow` from the fixtures it uses.

    A test that starts Kafka (or the whole platform) in a subprocess, with no fixture to show
    it, carries its marker itself with `pytestmark`.
    """
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if fixtures & KAFKA_FIXTURES:
            item.add_marker(pytest.mark.kafka)
        if fixtures & POSTGRES_FIXTURES or params.get("database_url") == "postgres":
            item.add_marker(pytest.mark.postgres)
        if fixtures & BROWSER_FIXTURES or _drives_a_browser(getattr(item, "module", None)):
            item.add_marker(pytest.mark.browser)
        if fixtures & PLATFORM_FIXTURES or item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.slow)
