"""Case follow-up on SQLite and PostgreSQL: workflow, MIR sequence, merges, audit, exports."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from fhir.resources.adverseevent import AdverseEvent
from sqlmodel import Session, col, select

from services.registry.app import create_app
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import verify
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.audit import rehash
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, ReportedOutcome, ReportTriaged, utcnow

ACME = DeviceRef(name="Lung", manufacturer="Acme", model_version="1", udi_di="0871234567890")
MIR = {
    "manufacturer_awareness_date": "2026-03-02",
    "incident_description": "Nodule not flagged by the detection model on a low-dose CT.",
    "imdrf_device_problem_codes": ["A11"],
    "imdrf_cause_codes": ["D19"],
}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as c:
        yield c


def headers(client: TestClient, role: Role, manufacturer: str | None = None) -> dict[str, str]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return {
            "Authorization": f"Bearer {create_token(session, role=role, manufacturer=manufacturer)}"
        }


def record(client: TestClient, *events: ReportTriaged) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        record_triaged(session, list(events), alerts_topic="alerts")


def case_of(client: TestClient, event: ReportTriaged, h: dict[str, str]) -> str:
    report = client.get(f"/api/v1/reports/{event.report.report_id}", headers=h).json()
    return str(report["case_id"])


def test_serious_case_from_triage_to_closure(client: TestClient, database_url: str) -> None:
    event = triaged(
        outcome=ReportedOutcome.DEATH,
        device=ACME,
        patient_pseudonym="ps1:" + "a" * 32,
        awareness_date=utcnow().date() - timedelta(days=3),
    )
    record(client, event)
    regulator = headers(client, Role.REGULATOR)
    maker = headers(client, Role.MANUFACTURER, "acme")
    case_id = case_of(client, event, regulator)

    case = client.get(f"/api/v1/cases/{case_id}", headers=regulator).json()
    assert case["status"] == "triaged" and case["days_left"] == 7 and not case["overdue"]

    def move(to: str, reason: str = "assessment step", h: dict[str, str] = regulator) -> int:
        r = client.post(
            f"/api/v1/cases/{case_id}/transitions", headers=h, json={"to": to, "reason": reason}
        )
        return int(r.status_code)

    assert move("under_assessment") == 200
    assert move("awaiting_manufacturer", h=maker) == 403
    assert move("awaiting_manufacturer") == 200
    # The manufacturer answers with its MIR reports, in the legal order.
    follow_up = {"report_type": "follow_up", "content": MIR}
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/mir-reports", headers=maker, json=follow_up
        ).status_code
        == 409
    )
    initial = client.post(
        f"/api/v1/cases/{case_id}/mir-reports",
        headers=maker,
        json={"report_type": "initial", "content": MIR},
    )
    assert initial.status_code == 201
    assert client.get(f"/api/v1/cases/{case_id}", headers=regulator).json()["status"] == (
        "under_assessment"
    )
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/mir-reports", headers=maker, json=follow_up
        ).status_code
        == 201
    )
    final = {
        "report_type": "final",
        "content": {
            **MIR,
            "root_cause_analysis": "Training set lacked low-dose scans.",
            "corrective_actions": "Model 1.1 retrained.",
        },
    }
    assert (
        client.post(f"/api/v1/cases/{case_id}/mir-reports", headers=maker, json=final).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/cases/{case_id}/mir-reports", headers=maker, json=follow_up
        ).status_code
        == 409
    )
    assert move("reported_to_authority") == 200
    assert move("awaiting_manufacturer") == 409  # not an allowed move
    assert move("closed", "Corrective action verified by the authority.") == 200
    closed = client.get(f"/api/v1/cases/{case_id}", headers=regulator).json()
    assert closed["status"] == "closed" and closed["days_left"] is None

    fhir = client.get(f"/api/v1/cases/{case_id}/fhir", headers=regulator).json()
    resource = AdverseEvent.model_validate(fhir)
    assert resource.status == "completed"
    assert resource.seriousness and resource.seriousness.coding
    assert resource.seriousness.coding[0].code == "serious"
    assert resource.outcome and resource.outcome[0].coding
    assert resource.outcome[0].coding[0].code == "fatal"
    assert resource.subject.identifier and resource.subject.identifier.value == "ps1:" + "a" * 32
    mir = client.get(f"/api/v1/cases/{case_id}/mir", headers=maker).json()
    assert mir["1_administrative_information"]["report_type"] == "final"
    assert mir["4_manufacturer_investigation"]["root_cause_analysis"].startswith("Training")
    assert mir["2_medical_device_information"]["udi_di"] == "0871234567890"

    trail = client.get(f"/api/v1/cases/{case_id}/audit", headers=regulator).json()
    assert [r["action"] for r in trail] == [
        "opened",
        "status_changed",
        "status_changed",
        "mir_filed",
        "status_changed",
        "mir_filed",
        "mir_filed",
        "status_changed",
        "status_changed",
    ]
    env = {**os.environ, "VIGIE_DATABASE_URL": database_url}
    ok = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "audit", "verify", "--chain-only"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # The case's nine records and the issuance of the regulator's and the maker's tokens.
    assert "audit chain intact: 11 records" in ok.stdout

    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.exec(select(AuditRecord).where(AuditRecord.action == "mir_filed")).first()
        assert row is not None
        row.detail = row.detail.replace("initial", "final")
        session.add(row)
        session.commit()
        result = verify(session)
    assert not result.ok and result.first_bad_seq == row.seq
    broken = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "audit", "verify", "--chain-only"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 1 and "AUDIT CHAIN BROKEN" in broken.stdout


def test_deleting_an_audit_record_is_detected(client: TestClient) -> None:
    events = [triaged(device=ACME) for _ in range(3)]
    record(client, *events)
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert verify(session).ok
        middle = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))).all()[1]
        session.delete(middle)
        session.commit()
        result = verify(session)
    assert not result.ok and "removed" in (result.problem or "")


def test_witnessed_heads_catch_truncation_and_a_rewritten_chain(client: TestClient) -> None:
    record(client, *[triaged(device=ACME) for _ in range(4)])
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        rows = session.exec(select(AuditRecord).order_by(col(AuditRecord.seq))).all()
        witnessed = {int(r.seq or 0): r.hash for r in (rows[1], rows[-1])}
        assert verify(session, witnessed).ok and verify(session, witnessed).witnessed == 2

        # Removing the newest record leaves a valid shorter chain: only the witness sees it,
        # and the rows, whose case no record opened any more.
        session.delete(rows[-1])
        session.commit()
        alone = verify(session)
        assert alone.first_bad_seq is None and f"case {rows[-1].case_id} has no audit record" in (
            " ".join(alone.state_problems)
        )
        truncated = verify(session, witnessed)
        assert not truncated.ok and truncated.first_bad_seq == rows[-1].seq
        assert "missing" in (truncated.problem or "")

        # Editing a record and re-hashing everything after it keeps the chain consistent.
        rows[1].detail = rows[1].detail[:-1] + ', "edited": true}'
        rehash(session, rows[1:-1], after=rows[0].hash)
        session.commit()
        assert verify(session).first_bad_seq is None
        rewritten = verify(session, {int(rows[1].seq or 0): witnessed[int(rows[1].seq or 0)]})
    assert not rewritten.ok and "rewritten" in (rewritten.problem or "")


def test_queue_puts_overdue_first_and_merges_keep_every_report(client: TestClient) -> None:
    today = utcnow().date()
    late = triaged(
        outcome=ReportedOutcome.DEATH, device=ACME, awareness_date=today - timedelta(days=12)
    )
    soon = triaged(
        outcome=ReportedOutcome.INJURY, device=ACME, awareness_date=today - timedelta(days=1)
    )
    duplicate = triaged(
        outcome=ReportedOutcome.DEATH, device=ACME, awareness_date=today - timedelta(days=2)
    )
    harmless = triaged(device=ACME)
    record(client, harmless, soon, late, duplicate)
    regulator = headers(client, Role.REGULATOR)
    queue = client.get("/api/v1/cases", headers=regulator).json()["items"]
    first = queue[0]
    assert first["overdue"] and first["days_left"] == -2
    assert [c["deadline"] is None for c in queue] == [False, False, False, True]

    target = case_of(client, soon, regulator)
    dup = case_of(client, duplicate, regulator)
    merged = client.post(
        f"/api/v1/cases/{target}/merge",
        headers=regulator,
        json={"duplicate_case_id": dup, "reason": "same patient and event"},
    )
    assert merged.status_code == 200
    body = merged.json()
    assert set(body["report_ids"]) == {str(soon.report.report_id), str(duplicate.report.report_id)}
    assert body["severity"] == "death"  # the worse of the two
    assert body["deadline"] == (today - timedelta(days=2) + timedelta(days=10)).isoformat()
    old = client.get(f"/api/v1/cases/{dup}", headers=regulator).json()
    assert old["status"] == "closed" and old["merged_into"] == target
    # Both reports are still there, and both now point to the surviving case.
    for event in (soon, duplicate):
        report = client.get(f"/api/v1/reports/{event.report.report_id}", headers=regulator)
        assert report.status_code == 200 and report.json()["case_id"] == target
    again = client.post(
        f"/api/v1/cases/{target}/merge",
        headers=regulator,
        json={"duplicate_case_id": dup, "reason": "again"},
    )
    assert again.status_code == 409
    link = client.post(
        f"/api/v1/cases/{target}/links",
        headers=regulator,
        json={"report_id": str(harmless.report.report_id), "reason": "same software release"},
    )
    assert link.status_code == 204
    assert len(client.get(f"/api/v1/cases/{target}", headers=regulator).json()["report_ids"]) == 3
    # The harmless report keeps its own case too.
    assert (
        client.get(f"/api/v1/reports/{harmless.report.report_id}", headers=regulator).json()[
            "case_id"
        ]
        != target
    )

    exported = client.get("/api/v1/exports/cases.csv", headers=regulator)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4 and rows[0]["overdue"] == "True"


def test_manufacturer_cannot_touch_other_makers_cases(client: TestClient) -> None:
    other = triaged(device=DeviceRef(name="Skin", manufacturer="Globex", model_version="2"))
    record(client, other)
    regulator = headers(client, Role.REGULATOR)
    case_id = case_of(client, other, regulator)
    maker = headers(client, Role.MANUFACTURER, "Acme")
    for method, path, body in [
        ("get", f"/api/v1/cases/{case_id}", None),
        ("get", f"/api/v1/cases/{case_id}/fhir", None),
        ("get", f"/api/v1/cases/{case_id}/mir", None),
        ("get", f"/api/v1/cases/{case_id}/audit", None),
        (
            "post",
            f"/api/v1/cases/{case_id}/mir-reports",
            {"report_type": "initial", "content": MIR},
        ),
    ]:
        response = client.request(method, path, headers=maker, json=body)
        assert response.status_code == 404, path
        assert "Globex" not in response.text
    assert client.get("/api/v1/cases", headers=maker).json()["items"] == []
    device = headers(client, Role.DEVICE)
    assert client.get("/api/v1/cases", headers=device).status_code == 403


def test_review_queue_decision_sets_deadline_and_publishes_feedback(client: TestClient) -> None:
    from services.registry.outbox import pending
    from vigie.contracts import TriageFeedback

    unsure = triaged(
        outcome=ReportedOutcome.UNKNOWN,
        device=ACME,
        awareness_date=utcnow().date() - timedelta(days=1),
    )
    sure = triaged(outcome=ReportedOutcome.NO_HARM, device=ACME)
    record(client, unsure, sure)
    regulator = headers(client, Role.REGULATOR)
    queue = client.get("/api/v1/cases", headers=regulator, params={"needs_review": True}).json()
    assert [c["report_ids"] for c in queue["items"]] == [[str(unsure.report.report_id)]]
    case_id = queue["items"][0]["case_id"]
    maker = headers(client, Role.MANUFACTURER, "Acme")
    decision = {
        "severity": "serious",
        "category": "missed_finding",
        "reason": "Delayed diagnosis documented in the narrative.",
    }
    assert (
        client.post(f"/api/v1/cases/{case_id}/review", headers=maker, json=decision).status_code
        == 403
    )
    reviewed = client.post(f"/api/v1/cases/{case_id}/review", headers=regulator, json=decision)
    assert reviewed.status_code == 200
    body = reviewed.json()
    assert body["severity"] == "serious" and not body["needs_review"]
    assert body["serious_incident"] and body["days_left"] == 9  # Art. 87(5): 10 days
    assert (
        client.get("/api/v1/cases", headers=regulator, params={"needs_review": True}).json()[
            "items"
        ]
        == []
    )
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        rows = [r for r in pending(session, 10) if r.event_type == "triage_feedback"]
    assert len(rows) == 1 and rows[0].topic == "vigie.triage.feedback.v1"
    feedback = TriageFeedback.model_validate_json(rows[0].payload)
    assert (feedback.predicted_severity.value, feedback.decided_severity.value) == (
        "other",
        "serious",
    )
    assert feedback.narrative == unsure.report.narrative
