"""Every registry route, every role, after a regulator linked a report of another party into a
case: nothing of a report leaks to anyone who may not read that report, on SQLite and PostgreSQL.

Each party's data carries a marker; a route's answer to a role may contain a marker only if that
role may read what it marks. The test fails when the registry gains a route it does not cover.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.registry.app import create_app
from services.registry.auth.models import ApiToken, Role
from services.registry.auth.service import create_token, hash_token
from services.registry.followups.service import record_followups
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, ReportedOutcome, ReportFollowedUp

ALERTS = "vigie.alerts.v1"
PARTIES = (
    "regulator",
    "admin",
    "acme",
    "globex",
    "clinician_acme",
    "clinician_globex",
    "device",
    "anonymous",
)
SUPERVISORS = {"regulator", "admin"}
# marker -> the parties that may read it
MARKERS = {
    "ACME-NARRATIVE-7f3a": SUPERVISORS | {"acme", "clinician_acme"},
    "GLOBEX-NARRATIVE-91c2": SUPERVISORS | {"globex", "clinician_globex"},
    "GLOBEX-TRACKING": SUPERVISORS | {"globex", "clinician_globex"},
    "GLOBEX-PATIENT": SUPERVISORS | {"globex", "clinician_globex"},
    "GLOBEX-FOLLOWUP-4b8e": SUPERVISORS | {"globex", "clinician_globex"},
    "ACME-MIR-CONTENT-5d1e": SUPERVISORS | {"acme"},
    "REGULATOR-REASON-c0d3": SUPERVISORS,
    "REGULATOR-TOKEN-ID": SUPERVISORS,
}


@dataclass
class World:
    client: TestClient
    headers: dict[str, dict[str, str]]
    values: dict[str, str]  # path parameters and marker substitutions


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as client:
        engine = client.app.state.engine  # type: ignore[attr-defined]
        roles = {
            "regulator": (Role.REGULATOR, None),
            "admin": (Role.ADMIN, None),
            "acme": (Role.MANUFACTURER, "Acme"),
            "globex": (Role.MANUFACTURER, "Globex"),
            "clinician_acme": (Role.CLINICIAN, None),
            "clinician_globex": (Role.CLINICIAN, None),
            "device": (Role.DEVICE, None),
        }
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        with Session(engine) as session:
            for party, (role, manufacturer) in roles.items():
                secret = create_token(session, role=role, manufacturer=manufacturer)
                headers[party] = {"Authorization": f"Bearer {secret}"}
                if party == "regulator":
                    regulator_token_id = session.exec(
                        select(ApiToken.token_id).where(ApiToken.token_hash == hash_token(secret))
                    ).one()
        who = {p: client.get("/api/v1/whoami", headers=headers[p]).json() for p in roles}
        acme = triaged(
            device=DeviceRef(name="Lung", manufacturer="Acme", model_version="1"),
            outcome=ReportedOutcome.DEATH,
            narrative="ACME-NARRATIVE-7f3a: the model missed a nodule.",
            reporter_ref=who["clinician_acme"]["reporter_ref"],
            tracking_number="VG-AAAA-0001",
        )
        globex = triaged(
            device=DeviceRef(name="Skin", manufacturer="Globex", model_version="2"),
            outcome=ReportedOutcome.INJURY,
            narrative="GLOBEX-NARRATIVE-91c2: a melanoma was called benign.",
            reporter_ref=who["clinician_globex"]["reporter_ref"],
            tracking_number="VG-GGGG-0002",
            patient_pseudonym="ps1:" + "9e" * 16,
            status_token_hash="4b" * 32,
        )
        with Session(engine) as session:
            record_triaged(session, [acme, globex], alerts_topic=ALERTS)
            # The globex reporter's follow-up: it goes where the globex report goes, no further.
            followed_up = record_followups(
                session,
                [
                    ReportFollowedUp(
                        followup_id=uuid.uuid4(),
                        report_id=globex.report.report_id,
                        tracking_number=globex.report.tracking_number,
                        status_token_hash="4b" * 32,
                        language="en",
                        text="GLOBEX-FOLLOWUP-4b8e: the lesion was excised.",
                    )
                ],
                alerts_topic=ALERTS,
            )
            assert followed_up.inserted == 1
        reports = client.get("/api/v1/reports", headers=headers["regulator"]).json()["items"]
        case_of = {r["report_id"]: r["case_id"] for r in reports}
        acme_case = case_of[str(acme.report.report_id)]
        globex_case = case_of[str(globex.report.report_id)]
        regulator = headers["regulator"]
        # The cross-party link, a reasoned decision, and the manufacturer's MIR filing.
        linked = client.post(
            f"/api/v1/cases/{acme_case}/links",
            headers=regulator,
            json={
                "report_id": str(globex.report.report_id),
                "reason": "REGULATOR-REASON-c0d3 same failure mode",
            },
        )
        assert linked.status_code == 204, linked.text
        moved = client.post(
            f"/api/v1/cases/{acme_case}/transitions",
            headers=regulator,
            json={"to": "under_assessment", "reason": "REGULATOR-REASON-c0d3 escalate"},
        )
        assert moved.status_code == 200, moved.text
        filed = client.post(
            f"/api/v1/cases/{acme_case}/mir-reports",
            headers=headers["acme"],
            json={
                "report_type": "initial",
                "content": {
                    "manufacturer_awareness_date": "2026-03-02",
                    "incident_description": "ACME-MIR-CONTENT-5d1e investigation under way",
                },
            },
        )
        assert filed.status_code == 201, filed.text
        subscribed = client.post(
            "/api/v1/subscriptions",
            headers=regulator,
            json={"name": "all-serious", "severities": ["death"]},
        )
        assert subscribed.status_code in (200, 201), subscribed.text
        values = {
            "report_id": str(globex.report.report_id),
            "case_id": acme_case,
            "globex_case": globex_case,
            "sub_id": subscribed.json()["sub_id"],
            "device_id": client.get("/api/v1/devices", headers=regulator).json()["items"][0][
                "device_id"
            ],
            "signal_id": str(uuid.uuid4()),
            "token": "0" * 32,
            "REGULATOR-TOKEN-ID": str(regulator_token_id),
            "GLOBEX-TRACKING": globex.report.tracking_number,
            "GLOBEX-PATIENT": "9e" * 16,
        }
        yield World(client, headers, values)


# Every GET route of the API; the test fails when one is missing here.
READS = {
    "/api/v1/reports/{report_id}",
    "/api/v1/reports",
    "/api/v1/status/{token}",
    "/api/v1/cases",
    "/api/v1/cases/{case_id}",
    "/api/v1/cases/{case_id}/mir-reports",
    "/api/v1/cases/{case_id}/audit",
    "/api/v1/cases/{case_id}/follow-ups",
    "/api/v1/cases/{case_id}/fhir",
    "/api/v1/cases/{case_id}/mir",
    "/api/v1/exports/cases.csv",
    "/api/v1/exports/changes",
    "/api/v1/devices",
    "/api/v1/devices/catalogue/model-versions",
    "/api/v1/devices/{device_id}",
    "/api/v1/subscriptions",
    "/api/v1/subscriptions/{sub_id}/deliveries",
    "/api/v1/whoami",
    "/api/v1/signals/drift",
    "/api/v1/signals/drift/{signal_id}",
    "/api/v1/signals/trends",
    "/api/v1/signals/disproportionality",
    "/status/{token}",
    "/healthz",
    "/readyz",
}
# Every write route, with who may use it (2xx) when aimed at the linked case; others must fail.
WRITES = {
    ("post", "/api/v1/cases/{case_id}/transitions"): SUPERVISORS,
    ("post", "/api/v1/cases/{case_id}/review"): SUPERVISORS,
    ("post", "/api/v1/cases/{case_id}/mir-reports"): SUPERVISORS | {"acme"},
    ("post", "/api/v1/cases/{case_id}/links"): SUPERVISORS,
    ("post", "/api/v1/cases/{case_id}/merge"): SUPERVISORS,
    ("post", "/api/v1/subscriptions"): SUPERVISORS | {"acme", "globex"},
    ("delete", "/api/v1/subscriptions/{sub_id}"): SUPERVISORS,
    # Authorised by the status link's secret in its body, whoever calls.
    ("post", "/api/v1/status-links/check"): set(PARTIES),
}


def _write_body(path: str, party: str, world: World) -> dict[str, object] | None:
    bodies: dict[str, dict[str, object]] = {
        "transitions": {"to": "awaiting_manufacturer", "reason": "ask the maker"},
        "review": {"severity": "death", "reason": "confirmed"},
        "mir-reports": {
            "report_type": "follow_up",
            "content": {
                "manufacturer_awareness_date": "2026-03-02",
                "incident_description": "follow-up with new findings",
            },
        },
        "links": {"report_id": world.values["report_id"], "reason": "link again"},
        "merge": {"duplicate_case_id": world.values["globex_case"], "reason": "duplicate"},
    }
    if path == "/api/v1/subscriptions":
        return {"name": f"s-{party.replace('_', '-')}", "severities": ["death"]}
    return bodies.get(path.rsplit("/", 1)[-1])


def test_every_route_is_covered(world: World) -> None:
    paths = world.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    reads = {p for p, ops in paths.items() if "get" in ops}
    writes = {(m, p) for p, ops in paths.items() for m in ops if m != "get"}
    assert reads == READS
    assert writes == set(WRITES)


def test_no_read_route_leaks_a_report_to_a_party_that_may_not_read_it(world: World) -> None:
    leaks = []
    checked = 0
    for template in sorted(READS):
        url = template.format(**world.values)
        for party in PARTIES:
            response = world.client.get(url, headers=world.headers[party])
            assert response.status_code < 500, (url, party, response.text)
            for marker, readers in MARKERS.items():
                text = world.values.get(marker, marker)
                if party not in readers and text in response.text:
                    leaks.append((template, party, marker))
            checked += 1
    assert checked == len(READS) * len(PARTIES)
    assert leaks == [], "\n".join(map(str, leaks))


def test_the_linked_case_shows_each_party_its_own_part(world: World) -> None:
    client, h, case = world.client, world.headers, world.values["case_id"]
    foreign = world.values["report_id"]
    listed = {party: client.get(f"/api/v1/cases/{case}", headers=h[party]) for party in PARTIES}
    assert foreign in listed["regulator"].json()["report_ids"]
    assert foreign not in listed["acme"].json()["report_ids"]
    assert listed["acme"].json()["report_ids"]  # its own report still there
    assert listed["globex"].status_code == 404  # another maker's case
    assert listed["clinician_acme"].status_code == 200
    assert listed["device"].status_code == 403 and listed["anonymous"].status_code == 401
    # The MIR filing: the authority and the filing manufacturer only.
    for party, expected in (("regulator", 200), ("acme", 200), ("clinician_acme", 403)):
        mir = client.get(f"/api/v1/cases/{case}/mir-reports", headers=h[party])
        assert mir.status_code == expected, (party, mir.text)
    # The audit trail: whole for the authority, facts only for the others.
    whole = client.get(f"/api/v1/cases/{case}/audit", headers=h["regulator"]).json()
    minimal = client.get(f"/api/v1/cases/{case}/audit", headers=h["acme"]).json()
    assert [r["hash"] for r in whole] == [r["hash"] for r in minimal]
    assert any(r["actor"].startswith("regulator:") for r in whole)
    assert {r["actor"] for r in minimal} <= {"system", "regulator", "manufacturer", "admin"}
    statuses = [r for r in minimal if r["action"] == "status_changed"]
    assert statuses and '"to": "under_assessment"' in statuses[0]["detail"]


def test_writes_only_by_who_may(world: World) -> None:
    for (method, template), allowed in sorted(WRITES.items()):
        for party in PARTIES:
            if party in allowed:
                continue
            url = template.format(**world.values)
            body = _write_body(template, party, world)
            response = world.client.request(method, url, headers=world.headers[party], json=body)
            assert response.status_code in (401, 403, 404), (method, template, party)
