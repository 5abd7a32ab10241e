"""The AI part of a report in the registry: stored, read back, exported, and audited."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from fhir.resources.adverseevent import AdverseEvent
from sqlalchemy import inspect, text
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.audit.service import verify
from services.registry.audit.state import ADDED_LATER
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.db import make_engine, upgrade
from services.registry.reports.models import Report
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, ReportedOutcome, ReportKind

DEVICE = DeviceRef(name="Dose Helper", manufacturer="Acme", model_version="2.1")
AI = {
    "task": "dosing",
    "output": "Give 10 mg/kg of gentamicin.",
    "output_confidence": 0.91,
    "clinician_action": "followed",
    "patient_exposed": True,
    "input_data_problems": ["wrong", "out_of_intended_population"],
    "patient_age_band": "80+",
    "patient_sex": "female",
}


@dataclass
class World:
    client: TestClient
    regulator: dict[str, str]
    maker: dict[str, str]
    with_ai: uuid.UUID
    without_ai: uuid.UUID

    def case_of(self, report_id: uuid.UUID) -> str:
        found = self.client.get(f"/api/v1/reports/{report_id}", headers=self.regulator)
        case_id: str = found.json()["case_id"]
        return case_id


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    followed = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        outcome=ReportedOutcome.SERIOUS_DETERIORATION,
        device=DEVICE,
        narrative="The dose the software proposed was followed; acute kidney injury.",
        ai=AI,
    )
    plain = triaged(outcome=ReportedOutcome.INJURY, device=DEVICE)
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            record_triaged(session, [followed, plain], alerts_topic="alerts")
            regulator = create_token(session, role=Role.REGULATOR)
            maker = create_token(session, role=Role.MANUFACTURER, manufacturer="Acme")
        yield World(
            client,
            {"Authorization": f"Bearer {regulator}"},
            {"Authorization": f"Bearer {maker}"},
            followed.report.report_id,
            plain.report.report_id,
        )


def test_the_api_shows_the_ai_part(world: World) -> None:
    shown = world.client.get(f"/api/v1/reports/{world.with_ai}", headers=world.regulator).json()
    assert {k: v for k, v in shown.items() if k.startswith(("ai_", "patient_"))} == {
        "ai_task": "dosing",
        "ai_output": "Give 10 mg/kg of gentamicin.",
        "ai_output_confidence": 0.91,
        "ai_clinician_action": "followed",
        "ai_patient_exposed": True,
        "ai_input_data_problems": "wrong,out_of_intended_population",
        "patient_age_band": "80+",
        "patient_sex": "female",
    }
    plain = world.client.get(f"/api/v1/reports/{world.without_ai}", headers=world.regulator)
    assert all(v is None for k, v in plain.json().items() if k.startswith("ai_"))


def test_the_fhir_export_maps_the_ai_part(world: World) -> None:
    case_id = world.case_of(world.with_ai)
    fhir = world.client.get(f"/api/v1/cases/{case_id}/fhir", headers=world.regulator).json()
    resource = AdverseEvent.model_validate(fhir)  # a valid FHIR R5 AdverseEvent
    assert resource.actuality == "actual"
    assert resource.participant is not None
    functions = {p.function.coding[0].code: p.actor for p in resource.participant}  # type: ignore[index, union-attr]
    assert functions["dosing"].reference == "#device-1"
    assert functions["followed"].display == "physician"
    factors = [f.itemCodeableConcept.coding[0].code for f in resource.contributingFactor or []]  # type: ignore[union-attr, index]
    assert factors == ["followed", "wrong", "out_of_intended_population"]
    contained = {c["id"]: c for c in fhir["contained"]}
    assert contained["ai-output"]["valueString"] == "Give 10 mg/kg of gentamicin."
    assert contained["ai-output"]["component"][0]["valueQuantity"]["value"] == 91
    assert contained["patient-age"]["valueRange"] == {
        "low": {"value": 80, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}
    }
    assert contained["patient-sex"]["valueCodeableConcept"]["coding"][0]["code"] == "female"
    assert [s["itemReference"]["reference"] for s in fhir["supportingInfo"]] == [
        "#ai-output",
        "#patient-age",
        "#patient-sex",
    ]
    plain_case = world.case_of(world.without_ai)
    plain = world.client.get(f"/api/v1/cases/{plain_case}/fhir", headers=world.regulator).json()
    AdverseEvent.model_validate(plain)
    assert not {"participant", "contributingFactor", "supportingInfo"} & set(plain)


def test_an_output_that_never_reached_the_patient_is_a_potential_event(
    database_url: str,
) -> None:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    unseen = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        device=DEVICE,
        ai={"task": "triage", "clinician_action": "overrode", "patient_exposed": False},
    )
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            record_triaged(session, [unseen], alerts_topic="alerts")
            headers = {"Authorization": f"Bearer {create_token(session, role=Role.REGULATOR)}"}
        case_id = client.get(f"/api/v1/reports/{unseen.report.report_id}", headers=headers).json()[
            "case_id"
        ]
        fhir = client.get(f"/api/v1/cases/{case_id}/fhir", headers=headers).json()
    resource = AdverseEvent.model_validate(fhir)
    assert resource.actuality == "potential"
    assert "contributingFactor" not in fhir  # overriding the output is no contributing factor


def test_the_mir_and_csv_exports_carry_the_ai_part(world: World) -> None:
    case_id = world.case_of(world.with_ai)
    mir = world.client.get(f"/api/v1/cases/{case_id}/mir", headers=world.maker).json()
    [entry] = mir["3_incident_information"]["reports"]
    assert entry["ai"]["clinician_action"] == "followed"
    assert entry["ai"]["input_data_problems"] == ["wrong", "out_of_intended_population"]
    exported = world.client.get("/api/v1/exports/cases.csv", headers=world.regulator)
    rows = {r["case_id"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    row = rows[case_id]
    assert (row["ai_task"], row["ai_clinician_action"], row["ai_patient_exposed"]) == (
        "dosing",
        "followed",
        "True",
    )
    assert row["ai_input_data_problems"] == "wrong,out_of_intended_population"
    assert (row["patient_age_band"], row["patient_sex"]) == ("80+", "female")
    plain = rows[world.case_of(world.without_ai)]
    assert plain["ai_task"] == plain["ai_clinician_action"] == ""


def test_the_audit_covers_the_ai_part(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        assert verify(session).ok
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE report SET ai_clinician_action = 'overrode' WHERE ai_task = 'dosing'")
        )
    with Session(engine) as session:
        checked = verify(session)
    assert not checked.ok and checked.state_problems


def test_reports_recorded_before_the_ai_columns_still_verify(database_url: str) -> None:
    engine = make_engine(database_url)
    with Session(engine) as session:
        record_triaged(
            session,
            [triaged(outcome=ReportedOutcome.DEATH, device=DEVICE)],
            alerts_topic="alerts",
        )
    # The earlier release's report table, without the AI columns; its digests stay valid.
    with engine.begin() as connection:
        for column in sorted(ADDED_LATER["report"]):
            connection.execute(text(f'ALTER TABLE "report" DROP COLUMN "{column}"'))
        # Made by create_all, as releases before migrations made it: no revision recorded.
        connection.execute(text("DROP TABLE alembic_version"))
        # Nor the tables of the revisions that came with migrations.
        connection.execute(text('DROP TABLE "report_followup"'))
    engine.dispose()
    engine = make_engine(database_url)
    upgrade(engine)  # stamped at 0.1.0's revision, then the columns added back, empty
    columns = {c["name"] for c in inspect(engine).get_columns("report")}
    assert ADDED_LATER["report"] <= columns
    with Session(engine) as session:
        assert verify(session).ok


def test_every_column_added_to_reports_is_declared() -> None:
    # A column added to the report table changes the digest of every audited case unless it is
    # left out while null: declare it in ADDED_LATER (or migrate the digests).
    first_release = {
        "report_id", "tracking_number", "kind", "reporter_role", "country", "establishment",
        "device_name", "manufacturer", "udi_di", "model_version", "is_medical_device",
        "event_date", "awareness_date", "outcome", "severity", "needs_review", "review_reasons",
        "category", "confidence", "triage_model_version", "serious_incident", "deadline",
        "narrative", "submitted_at", "recorded_at", "manufacturer_key", "patient_pseudonym",
        "reporter_ref", "status_token_hash", "payload",
    }  # fmt: skip
    assert {c.name for c in Report.__table__.columns} == first_release | ADDED_LATER["report"]  # type: ignore[attr-defined]
