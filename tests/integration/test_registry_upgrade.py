"""A database of release 0.1.0, filled as 0.1.0 filled it, upgrades with `vigie db upgrade` and
every old report reads back through the registry API."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.registry.app import create_app
from services.registry.db import BASELINE, NotAtHead, current, head, make_engine
from services.registry.settings import RegistrySettings
from vigie_tools.cli import main
from vigie_tools.commands import upgrade_registry_database

DATA = Path(__file__).parents[1] / "data"
ROWS = json.loads((DATA / "registry-0.1.0.rows.json").read_text(encoding="utf-8"))


def _value(column: sa.Column[Any], stored: Any) -> Any:
    """A value as 0.1.0 stored it in SQLite, for the same column on this engine."""
    if stored is None:
        return None
    kind = column.type
    if isinstance(kind, sa.Uuid):  # PostgreSQL's UUID; SQLite keeps 0.1.0's CHAR(32) text
        return uuid.UUID(stored)
    if isinstance(kind, sa.Boolean):
        return bool(stored)
    if isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(stored)
    return stored


def build_release_0_1_0(url: str) -> None:
    """The schema 0.1.0's create_all made (tests/data DDL), with the rows 0.1.0 wrote."""
    engine = make_engine(url)
    ddl = (DATA / f"registry-0.1.0.{engine.dialect.name}.sql").read_text(encoding="utf-8")
    code = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    try:
        with engine.begin() as connection:
            for statement in filter(str.strip, code.split(";")):
                connection.exec_driver_sql(statement)
            tables = sa.MetaData()
            tables.reflect(connection)
            for table in tables.sorted_tables:
                rows = ROWS["tables"][table.name]
                if rows:
                    connection.execute(
                        table.insert(),
                        [{k: _value(table.c[k], v) for k, v in row.items()} for row in rows],
                    )
    finally:
        engine.dispose()


def vigie(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> int:
    """The `vigie` command, in process, on the registry database at ``url``."""
    monkeypatch.setenv("VIGIE_DATABASE_URL", url)
    # Restored after the test, whatever the command sets for operator commands.
    monkeypatch.delenv("VIGIE_KAFKA_CLIENT_PROPERTIES", raising=False)
    return main(list(args))


def test_vigie_run_upgrades_a_0_1_0_database_before_starting_the_registry(
    empty_database_url: str, tmp_path: Path
) -> None:
    build_release_0_1_0(empty_database_url)
    env = {**os.environ, "VIGIE_DATABASE_URL": empty_database_url}
    with (tmp_path / "registry.log").open("wb") as log:
        upgrade_registry_database(env, log)  # what `vigie run` calls before the registry
    assert f"to {head()} (head)" in (tmp_path / "registry.log").read_text()
    engine = make_engine(empty_database_url)
    assert current(engine) == head()
    engine.dispose()


def test_a_0_1_0_database_upgrades_and_every_report_reads_back(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = empty_database_url
    build_release_0_1_0(url)
    engine = make_engine(url)
    assert current(engine) is None  # 0.1.0 kept no revision
    with pytest.raises(NotAtHead, match="vigie db upgrade"):
        create_app(RegistrySettings(database_url=url), consume=False)
    assert vigie(monkeypatch, url, "db", "current") == 1

    assert vigie(monkeypatch, url, "db", "upgrade") == 0
    assert f"upgraded from {BASELINE} to {head()}" in capsys.readouterr().out
    assert current(engine) == head()
    engine.dispose()
    assert vigie(monkeypatch, url, "db", "current") == 0
    assert vigie(monkeypatch, url, "db", "upgrade") == 0
    assert "nothing to do" in capsys.readouterr().out

    old = {uuid.UUID(row["report_id"]): row for row in ROWS["tables"]["report"]}
    app = create_app(RegistrySettings(database_url=url), consume=False)
    with TestClient(app) as client:
        # Tokens issued by 0.1.0 (no expiry then) still authenticate.
        regulator = {"Authorization": f"Bearer {ROWS['tokens']['regulator']}"}
        acme = {"Authorization": f"Bearer {ROWS['tokens']['manufacturer']}"}
        for report_id, row in old.items():
            found = client.get(f"/api/v1/reports/{report_id}", headers=regulator)
            assert found.status_code == 200, found.text
            body = found.json()
            for field in ("tracking_number", "narrative", "country", "manufacturer"):
                assert body[field] == row[field], field
            # Enumerations: their names in the database, their values in the API.
            assert body["severity"].upper() == row["severity"]
            assert body["case_status"].upper() == "TRIAGED"
        listed = client.get("/api/v1/reports", params={"limit": 50}, headers=regulator)
        assert listed.status_code == 200
        assert {uuid.UUID(r["report_id"]) for r in listed.json()["items"]} == set(old)
        theirs = client.get("/api/v1/reports", params={"limit": 50}, headers=acme).json()
        assert {r["manufacturer"] for r in theirs["items"]} == {"Acme Health"}
        assert len(theirs["items"]) == sum(r["manufacturer"] == "Acme Health" for r in old.values())
