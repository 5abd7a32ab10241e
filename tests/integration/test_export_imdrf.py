"""The case CSV carries the IMDRF codes its index report states, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import ReportedOutcome, ReportKind


def test_the_case_csv_has_the_imdrf_columns(database_url: str) -> None:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    followed = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        outcome=ReportedOutcome.DEATH,
        ai={"task": "dosing", "clinician_action": "followed", "patient_exposed": True},
    )
    unseen = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        outcome=ReportedOutcome.DEATH,
        ai={"task": "triage", "clinician_action": "overrode", "patient_exposed": False},
    )
    plain = triaged(outcome=ReportedOutcome.UNKNOWN)
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            record_triaged(session, [followed, unseen, plain], alerts_topic="alerts")
            headers = {"Authorization": f"Bearer {create_token(session, role=Role.REGULATOR)}"}
        exported = client.get("/api/v1/exports/cases.csv", headers=headers)
        assert exported.status_code == 200
        case_of = {
            e.report.report_id: client.get(
                f"/api/v1/reports/{e.report.report_id}", headers=headers
            ).json()["case_id"]
            for e in (followed, unseen, plain)
        }
    rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    columns = ("imdrf_device_problem_codes", "imdrf_health_impact_codes")
    assert tuple(rows[case_of[followed.report.report_id]][c] for c in columns) == (
        "A11",
        "F02",
    )
    # The output never reached the patient: a device problem, no health impact.
    assert tuple(rows[case_of[unseen.report.report_id]][c] for c in columns) == ("A11", "")
    assert tuple(rows[case_of[plain.report.report_id]][c] for c in columns) == ("", "F24")
