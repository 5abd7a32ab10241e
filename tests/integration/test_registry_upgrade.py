"""A database made by an earlier release opens with today's code: added columns are added."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.db import add_missing_columns, init_db, make_engine
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged

# Columns this release added to tables of the previous one.
ADDED = {"audit_record": "state_digest", "api_token": "expires_at"}


def test_an_earlier_releases_database_gains_the_new_columns_and_reads_back(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    init_db(engine)
    event = triaged()
    with Session(engine) as session:
        record_triaged(session, [event], alerts_topic="vigie.alerts.v1")
    # The earlier release's tables: the same, without what this release added.
    with engine.begin() as connection:
        for table, column in ADDED.items():
            connection.execute(text(f'ALTER TABLE "{table}" DROP COLUMN "{column}"'))
    engine.dispose()

    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
            secret = create_token(session, role=Role.REGULATOR)
        headers = {"Authorization": f"Bearer {secret}"}
        found = client.get(f"/api/v1/reports/{event.report.report_id}", headers=headers)
    assert found.status_code == 200
    assert found.json()["narrative"] == event.report.narrative
    engine = make_engine(database_url)
    inspector = inspect(engine)
    for table, column in ADDED.items():
        assert column in {c["name"] for c in inspector.get_columns(table)}
    assert add_missing_columns(engine) == []  # idempotent


def test_a_column_that_cannot_be_added_empty_stops_the_registry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/registry.db"
    engine = make_engine(url)
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE "report" DROP COLUMN "narrative"'))
    with pytest.raises(RuntimeError, match=r"lacks report\.narrative"):
        add_missing_columns(engine)
