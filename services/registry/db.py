"""Database of the registry (SQLite by default, PostgreSQL in production): engine, tables,
sessions, and inserts that skip the rows already there."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import DateTime, event, inspect, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

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


def init_db(engine: Engine) -> None:
    """Create the tables that do not exist yet."""
    # Import for the side effect of registering every table on the metadata.
    from services.registry import outbox as _outbox  # noqa: F401
    from services.registry.audit import models as _audit  # noqa: F401
    from services.registry.auth import models as _auth  # noqa: F401
    from services.registry.cases import models as _cases  # noqa: F401
    from services.registry.dashboard import models as _dashboard  # noqa: F401
    from services.registry.devices import models as _devices  # noqa: F401
    from services.registry.reports import models as _reports  # noqa: F401
    from services.registry.signals import models as _signals  # noqa: F401
    from services.registry.subscriptions import models as _subscriptions  # noqa: F401

    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the nullable columns a release added to tables an earlier release created; return
    them as ``table.column``.

    ``create_all`` creates missing tables but never alters one, so a database from an earlier
    release would fail on its first query. Columns that may be null are added here, empty (rows
    from before read as "not known then"); anything else needs a migration and stops the
    registry at start, naming the column.
    """
    inspector = inspect(engine)
    added: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable or column.server_default is not None:
                raise RuntimeError(
                    f"the registry database lacks {table.name}.{column.name}, which cannot be "
                    "added empty: this database needs a migration"
                )
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.execute(
                    text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                )
            added.append(f"{table.name}.{column.name}")
    if added:
        log.warning("columns added to an earlier release's tables", extra={"columns": added})
    return added


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
