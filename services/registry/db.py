"""Database of the registry (SQLite by default, PostgreSQL in production): engine, migrations
(Alembic, in ``migrations/``), sessions, and inserts that skip the rows already there."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, event, inspect
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

# The database being unavailable (down, restarting, locked): no fault of the record being
# written. Consumers pause and retry the batch instead of dead-lettering it.
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
)


class _UtcDateTime(sqlite.DATETIME):
    """SQLite keeps no offset: timestamps are written in UTC and read back as UTC, so they
    leave the registry with their offset (RFC 3339) as they do from PostgreSQL."""

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any] | None:
        process = super().bind_processor(dialect)

        def bind(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)
            return process(value) if process is not None else value

        return bind

    def result_processor(self, dialect: Any, coltype: object) -> Callable[[Any], Any] | None:
        process = super().result_processor(dialect, coltype)

        def result(value: Any) -> Any:
            value = process(value) if process is not None else value
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return result


def make_engine(url: str) -> Engine:
    """Engine for ``url``; SQLite gets WAL and a busy timeout so API reads and the consumer mix."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        engine.dialect.colspecs = {**engine.dialect.colspecs, DateTime: _UtcDateTime}

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def import_models() -> None:
    """Register every table of the registry on ``SQLModel.metadata``."""
    # Imported for the side effect of defining the tables.
    from services.registry import outbox as _outbox  # noqa: F401
    from services.registry.audit import models as _audit  # noqa: F401
    from services.registry.auth import models as _auth  # noqa: F401
    from services.registry.cases import models as _cases  # noqa: F401
    from services.registry.dashboard import models as _dashboard  # noqa: F401
    from services.registry.devices import models as _devices  # noqa: F401
    from services.registry.followups import models as _followups  # noqa: F401
    from services.registry.reports import models as _reports  # noqa: F401
    from services.registry.signals import models as _signals  # noqa: F401
    from services.registry.subscriptions import models as _subscriptions  # noqa: F401


# The revision whose schema is exactly release 0.1.0's, which created its tables with
# ``create_all`` and kept no revision: such a database is stamped here before upgrading.
BASELINE = "0001"
MIGRATIONS = Path(__file__).parent / "migrations"


class NotAtHead(RuntimeError):
    """The database is not at the latest migration: ``vigie db upgrade`` brings it there."""


def _alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, in code: no ``alembic.ini``, nothing written next to the code.
    ``migrations/env.py`` runs the revisions on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The latest revision the code knows."""
    revision = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database or one never stamped."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _made_by_create_all(connection: Connection) -> bool:
    """Tables of a release that kept no revision (0.1.0 and the code until migrations)."""
    inspector = inspect(connection)
    return not inspector.has_table("alembic_version") and inspector.has_table("report")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to the latest revision, in one transaction; return (before, after).

    A database that ``create_all`` made (no revision table) is first stamped at the baseline;
    the revisions after it leave alone what such a database already has.
    """
    sqlite_db = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite_db:
            # Batch mode rebuilds a SQLite table by copying it: foreign keys are checked once,
            # after the whole upgrade, as SQLite's own ALTER procedure does. The pragma is a
            # no-op inside a transaction, hence before it begins.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                before = MigrationContext.configure(connection).get_current_revision()
                config = _alembic_config(connection)
                if before is None and _made_by_create_all(connection):
                    command.stamp(config, BASELINE)
                    before = BASELINE
                command.upgrade(config, "head")
                if sqlite_db:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"foreign keys broken by the upgrade: {broken[:5]}")
                after = MigrationContext.configure(connection).get_current_revision()
        finally:
            if sqlite_db:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    assert after is not None
    if before != after:
        log.info("registry database upgraded", extra={"from": before, "to": after})
    return before, after


def upgrade_url(url: str) -> tuple[str | None, str]:
    """``upgrade`` on the database at ``url``, with an engine of its own, closed after."""
    engine = make_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def _known(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations."""
    script = ScriptDirectory.from_config(_alembic_config())
    return any(r.revision == revision for r in script.walk_revisions())


def require_head(engine: Engine) -> None:
    """Refuse a database that is not at the latest revision (the registry never alters it)."""
    at, latest = current(engine), head()
    if at is not None and at != latest and not _known(at):
        raise NotAtHead(
            f"the registry database is at revision {at}, which this code does not know: it was"
            f" upgraded by a later release (this code needs {latest}); run that release, or"
            " restore the backup taken before its upgrade"
        )
    if at != latest:
        raise NotAtHead(
            f"the registry database is at revision {at or 'none'}, the code needs {latest}: "
            "run `vigie db upgrade` (with the same VIGIE_DATABASE_URL) before starting it"
        )


def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for one unit of work (FastAPI dependency body)."""
    with Session(engine) as session:
        yield session


def insert_ignore(session: Session, model: type, key: str, rows: list[dict[str, object]]) -> int:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key; returns how many rows were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = model.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(rows).on_conflict_do_nothing().returning(table.c[key])
    return len(session.execute(statement).all())
