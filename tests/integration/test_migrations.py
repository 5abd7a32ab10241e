"""The migrations make exactly the tables the models declare, on SQLite and PostgreSQL; the
registry refuses a database that is not at the latest revision."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from services.registry.app import create_app
from services.registry.db import (
    BASELINE,
    NotAtHead,
    current,
    head,
    import_models,
    make_engine,
    upgrade_url,
)
from services.registry.settings import RegistrySettings


def differences(url: str) -> list[object]:
    """What autogenerate would write to bring the database to the models (nothing, we want)."""
    import_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found: list[object] = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}),
                SQLModel.metadata,
            )
            return found
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models(empty_database_url: str) -> None:
    """Fails when a model changes without a migration: add a revision (CONTRIBUTING.md)."""
    assert upgrade_url(empty_database_url) == (None, head())
    assert differences(empty_database_url) == []
    assert upgrade_url(empty_database_url) == (head(), head())  # a second run changes nothing


def test_a_database_from_between_releases_upgrades_to_the_models(empty_database_url: str) -> None:
    """The code between 0.1.0 and migrations ran create_all, then added nullable columns; a
    database it made lacks some of today's columns and has no revision table."""
    import_models()
    engine = make_engine(empty_database_url)
    SQLModel.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE "audit_record" DROP COLUMN "state_digest"'))
        connection.execute(text('ALTER TABLE "report" DROP COLUMN "patient_sex"'))
        connection.execute(text('DROP INDEX "ix_case_opened"'))
        # Tables of revisions after 0002 came with migrations: that code never made them.
        connection.execute(text('DROP TABLE "report_followup"'))
    engine.dispose()

    assert upgrade_url(empty_database_url) == (BASELINE, head())
    assert differences(empty_database_url) == []
    engine = make_engine(empty_database_url)
    assert "patient_sex" in {c["name"] for c in inspect(engine).get_columns("report")}
    engine.dispose()


def test_the_registry_refuses_a_database_behind_the_code(empty_database_url: str) -> None:
    settings = RegistrySettings(database_url=empty_database_url)
    with pytest.raises(NotAtHead, match=r"revision none.*vigie db upgrade"):
        create_app(settings, consume=False)
    engine = make_engine(empty_database_url)
    assert inspect(engine).get_table_names() == []  # nothing created behind the operator's back
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text(f"INSERT INTO alembic_version VALUES ('{BASELINE}')"))
    with pytest.raises(NotAtHead, match=f"revision {BASELINE}, the code needs {head()}"):
        create_app(settings, consume=False)
    assert current(engine) == BASELINE
    engine.dispose()


def test_the_registry_refuses_a_database_ahead_of_the_code(empty_database_url: str) -> None:
    """An older release restarted on a database a later one upgraded (a rollback, an old pod
    during a rollout) says so, rather than asking for an upgrade that cannot help."""
    upgrade_url(empty_database_url)
    engine = make_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dface0099'"))
    settings = RegistrySettings(database_url=empty_database_url)
    with pytest.raises(NotAtHead, match=r"f00dface0099, which this code does not know.*backup"):
        create_app(settings, consume=False)
    engine.dispose()
