"""What a reporter's follow-up does beyond the case's deadline: the exports (FHIR, MIR, CSV)
give the outcome as it now stands, with the follow-ups' texts, and a case whose clock had
stopped (reported or closed) goes back to assessment when a follow-up brings a worse outcome,
audited in the same transaction. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.adverseevent import AdverseEvent
from sqlmodel import Session, col, select

from services.registry.app import create_app
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import verify
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.cases.models import Case, CaseStatus
from services.registry.cases.workflow import count_overdue
from services.registry.followups.service import record_followups
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support import factories
from vigie.contracts import (
    ReportedOutcome,
    ReportFollowedUp,
    ReportKind,
    ReportTriaged,
    Severity,
    utcnow,
)

ALERTS = "vigie.alerts.v1"
TOKEN_HASH = hashlib.sha256(b"the-reporters-status-secret-0123456789").hexdigest()
DIED = "The patient died two days later."


def reported(**overrides: object) -> ReportTriaged:
    return factories.linked(TOKEN_HASH, **{"outcome": ReportedOutcome.NO_HARM, **overrides})


def followup(report: ReportTriaged, **overrides: object) -> ReportFollowedUp:
    return factories.followup(report, TOKEN_HASH, **overrides)


@dataclass
class Registry:
    client: TestClient
    headers: dict[str, str]

    @property
    def session(self) -> Session:
        return Session(self.client.app.state.engine)  # type: ignore[attr-defined]

    def record(self, report: ReportTriaged, *followups: ReportFollowedUp) -> uuid.UUID:
        with self.session as session:
            record_triaged(session, [report], alerts_topic=ALERTS)
            if followups:
                record_followups(session, list(followups), alerts_topic=ALERTS)
        return self.case_of(report)

    def case_of(self, report: ReportTriaged) -> uuid.UUID:
        found = self.client.get(f"/api/v1/reports/{report.report.report_id}", headers=self.headers)
        assert found.status_code == 200, found.text
        return uuid.UUID(found.json()["case_id"])


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        with Session(app.state.engine) as session:
            token = create_token(session, role=Role.REGULATOR)
        yield Registry(client, {"Authorization": f"Bearer {token}"})


def _outcome_codes(resource: dict[str, Any]) -> list[str]:
    [stated] = resource["outcome"]
    return [c["code"] for c in stated["coding"]]


def test_the_exports_give_the_outcome_a_follow_up_stated(registry: Registry) -> None:
    """A no-harm report followed up with a death: FHIR, MIR and CSV say death (Annex F F02),
    not "resolved"/F26 beside a serious case."""
    report = reported()
    later = utcnow().date() - timedelta(days=1)
    case_id = registry.record(report, followup(report, awareness_date=later))
    resource = registry.client.get(f"/api/v1/cases/{case_id}/fhir", headers=registry.headers)
    assert resource.status_code == 200, resource.text
    fhir = resource.json()
    AdverseEvent.model_validate(fhir)  # a valid FHIR R5 resource
    assert fhir["seriousness"]["coding"][0]["code"] == "serious"
    assert _outcome_codes(fhir) == ["fatal", "F02"]
    assert fhir["actuality"] == "actual"
    narrative, note = fhir["note"]
    assert narrative == {"text": report.report.narrative}
    assert note["text"] == (
        f"Follow-up of report {report.report.tracking_number} "
        f"(outcome now: death; learned of on {later.isoformat()}): {DIED}"
    )
    assert note["time"].startswith(utcnow().date().isoformat())

    mir = registry.client.get(f"/api/v1/cases/{case_id}/mir", headers=registry.headers).json()
    [stated] = mir["3_incident_information"]["reports"]
    assert stated["patient_outcome"] == "death"
    assert [c["code"] for c in stated["stated_imdrf_health_impact_codes"]] == ["F02"]
    assert [(f["outcome"], f["text"]) for f in stated["follow_ups"]] == [("death", DIED)]
    assert mir["1_administrative_information"]["incident_classification"] == "serious incident"

    exported = registry.client.get("/api/v1/exports/cases.csv", headers=registry.headers)
    [row] = [r for r in csv.DictReader(io.StringIO(exported.text)) if r["case_id"] == str(case_id)]
    assert (row["severity"], row["imdrf_health_impact_codes"]) == ("death", "F02")


def test_the_exports_keep_the_worst_outcome_whatever_the_order(registry: Registry) -> None:
    """A later, milder follow-up does not undo a death; a text-only one adds its note."""
    report = reported(outcome=ReportedOutcome.INJURY)
    death = followup(report)
    milder = followup(report, outcome=ReportedOutcome.NO_HARM, text="Recovered, it seemed.")
    text_only = followup(report, outcome=None, text="The scan is attached.")
    case_id = registry.record(report, death, milder, text_only)
    fhir = registry.client.get(f"/api/v1/cases/{case_id}/fhir", headers=registry.headers).json()
    AdverseEvent.model_validate(fhir)
    assert _outcome_codes(fhir) == ["fatal", "F02"]
    assert len(fhir["note"]) == 4
    assert fhir["note"][-1]["text"].endswith(": The scan is attached.")
    exported = registry.client.get("/api/v1/exports/cases.csv", headers=registry.headers)
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["imdrf_health_impact_codes"] == "F02"


def test_a_near_miss_whose_patient_died_exports_as_an_actual_event(registry: Registry) -> None:
    report = reported(kind=ReportKind.NEAR_MISS)
    before = registry.record(report)
    fhir = registry.client.get(f"/api/v1/cases/{before}/fhir", headers=registry.headers).json()
    assert fhir["actuality"] == "potential" and _outcome_codes(fhir) == ["resolved"]
    with registry.session as session:
        record_followups(session, [followup(report)], alerts_topic=ALERTS)
        case = session.exec(select(Case)).one()
        assert case.deadline == utcnow().date() + timedelta(days=10)
    fhir = registry.client.get(f"/api/v1/cases/{before}/fhir", headers=registry.headers).json()
    AdverseEvent.model_validate(fhir)
    assert fhir["actuality"] == "actual"
    assert _outcome_codes(fhir) == ["fatal", "F02"]
    exported = registry.client.get("/api/v1/exports/cases.csv", headers=registry.headers)
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["imdrf_health_impact_codes"] == "F02"


def test_the_exports_give_only_the_follow_ups_of_reports_the_reader_may_read(
    registry: Registry,
) -> None:
    """A manufacturer reads its own cases; another's case, follow-ups included, is not found."""
    report = reported()
    case_id = registry.record(report, followup(report))
    with registry.session as session:
        acme = create_token(session, role=Role.MANUFACTURER, manufacturer="Acme")
        globex = create_token(session, role=Role.MANUFACTURER, manufacturer="Globex")
    url = f"/api/v1/cases/{case_id}/fhir"
    own = registry.client.get(url, headers={"Authorization": f"Bearer {acme}"})
    assert own.status_code == 200 and _outcome_codes(own.json()) == ["fatal", "F02"]
    other = registry.client.get(url, headers={"Authorization": f"Bearer {globex}"})
    assert other.status_code == 404
    assert DIED not in other.text
    exported = registry.client.get(
        "/api/v1/exports/cases.csv", headers={"Authorization": f"Bearer {globex}"}
    )
    assert exported.status_code == 200 and str(case_id) not in exported.text


@pytest.mark.parametrize("stopped", [CaseStatus.CLOSED, CaseStatus.REPORTED_TO_AUTHORITY])
def test_a_worse_outcome_puts_a_stopped_case_back_into_assessment(
    registry: Registry, stopped: CaseStatus
) -> None:
    """A death learned of after the case was reported or closed is new information the
    authority must get: the case is assessed again, its 10-day clock runs and shows, and the
    audit trail records the move, its chain intact."""
    report = reported(outcome=ReportedOutcome.INJURY)
    case_id = registry.record(report)
    moved = registry.client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"to": stopped.value, "reason": "assessed"},
        headers=registry.headers,
    )
    assert moved.status_code == 200, moved.text
    seen = registry.client.get(f"/api/v1/cases/{case_id}", headers=registry.headers).json()
    assert seen["status"] == stopped.value and seen["days_left"] is None
    death = followup(report)
    with registry.session as session:
        result = record_followups(session, [death], alerts_topic=ALERTS)
        assert result.retimed == 1
    seen = registry.client.get(f"/api/v1/cases/{case_id}", headers=registry.headers).json()
    assert seen["status"] == CaseStatus.UNDER_ASSESSMENT.value
    assert seen["severity"] == Severity.DEATH.value
    assert seen["days_left"] == 10 and not seen["overdue"]
    assert str(death.followup_id) in seen["status_reason"]
    with registry.session as session:
        records = session.exec(
            select(AuditRecord)
            .where(col(AuditRecord.case_id) == case_id)
            .order_by(col(AuditRecord.seq))
        ).all()
        assert [r.action for r in records][-2:] == ["follow_up_received", "status_changed"]
        detail = json.loads(records[-1].detail)
        assert (detail["from"], detail["to"]) == (stopped.value, "under_assessment")
        assert records[-1].actor == "system"
        assert verify(session).ok
        # The overdue count sees it once its deadline passes.
        assert count_overdue(session, today=utcnow().date() + timedelta(days=11)) == 1


def test_a_follow_up_no_worse_than_known_leaves_a_closed_case_closed(registry: Registry) -> None:
    report = reported(outcome=ReportedOutcome.DEATH)
    case_id = registry.record(report)
    moved = registry.client.post(
        f"/api/v1/cases/{case_id}/transitions",
        json={"to": "closed", "reason": "assessed"},
        headers=registry.headers,
    )
    assert moved.status_code == 200, moved.text
    with registry.session as session:
        record_followups(
            session,
            [followup(report), followup(report, outcome=None, text="More detail.")],
            alerts_topic=ALERTS,
        )
        case = session.exec(select(Case)).one()
        assert case.status is CaseStatus.CLOSED
        actions = session.exec(
            select(AuditRecord.action).where(col(AuditRecord.case_id) == case_id)
        ).all()
        assert "status_changed" in actions and actions.count("follow_up_received") == 2
        assert list(actions).count("status_changed") == 1  # the closing only
        assert verify(session).ok
