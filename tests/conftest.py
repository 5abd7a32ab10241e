"""Fixtures shared by the test suites: real PostgreSQL, SQLite, and (integration) real Kafka.

Markers are applied here from what a test uses, so `make test-fast` can leave out everything
that needs a server, a browser or minutes (see `pytest_collection_modifyitems`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def _admin_dsn() -> str:
    spec = localpg.PgSpec()
    return f"host={spec.host} port={spec.port} user=vigie dbname=vigie"


@contextmanager
def _postgres_database(server: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on the test server (a copy of ``template`` if given), dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_template(postgres_server: str) -> Iterator[str]:
    """Name of a PostgreSQL database migrated once to the latest revision, copied per test."""
    from services.registry.db import upgrade_url

    with _postgres_database(postgres_server) as url:
        upgrade_url(url)
        yield url.rsplit("/", 1)[1]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh registry database at the latest migration, on each of the two engines."""
    from tests.support.registry_db import migrated_sqlite

    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path / "registry.db")
        return
    template: str = request.getfixturevalue("postgres_template")
    with _postgres_database(request.getfixturevalue("postgres_server"), template=template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables) on each of the two engines."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    with _postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


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
        engines = (params.get("database_url"), params.get("empty_database_url"))
        if fixtures & POSTGRES_FIXTURES or "postgres" in engines:
            item.add_marker(pytest.mark.postgres)
        if fixtures & BROWSER_FIXTURES or _drives_a_browser(getattr(item, "module", None)):
            item.add_marker(pytest.mark.browser)
        if fixtures & PLATFORM_FIXTURES or item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.slow)
