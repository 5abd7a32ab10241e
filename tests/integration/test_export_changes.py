"""The change feed (GET /api/v1/exports/changes) on SQLite and PostgreSQL: pages, changes made
while a client pages, resuming, scoping, and refused cursors."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.exports.changes import Position, encode_cursor
from services.registry.exports.models import ChangeKind
from services.registry.followups.service import record_followups
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from vigie.contracts import DeviceRef, ReportedOutcome, ReportFollowedUp, ReportTriaged

ALERTS = "vigie.alerts.v1"
ACME = DeviceRef(name="Lung", manufacturer="Acme", model_version="1")
GLOBEX = DeviceRef(name="Skin", manufacturer="Globex", model_version="2")


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    with TestClient(app) as c:
        yield c


def _session(client: TestClient) -> Session:
    return Session(client.app.state.engine)  # type: ignore[attr-defined]


def _headers(client: TestClient, role: Role, manufacturer: str | None = None) -> dict[str, str]:
    with _session(client) as session:
        secret = create_token(session, role=role, manufacturer=manufacturer)
    return {"Authorization": f"Bearer {secret}"}


def _record(client: TestClient, events: list[ReportTriaged]) -> None:
    with _session(client) as session:
        record_triaged(session, events, alerts_topic=ALERTS)


def _page(
    client: TestClient, headers: dict[str, str], kind: str, since: str | None, limit: int
) -> dict[str, Any]:
    params: dict[str, str | int] = {"kind": kind, "limit": limit}
    if since is not None:
        params["since"] = since
    response = client.get("/api/v1/exports/changes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["kind"] == kind
    assert len(body["items"]) <= limit
    return body


def _ids(body: dict[str, Any], kind: str) -> list[str]:
    field, key = ("case", "case_id") if kind == "cases" else ("report", "report_id")
    return [item[field][key] for item in body["items"]]


def _drain(
    client: TestClient, headers: dict[str, str], kind: str, since: str | None, limit: int
) -> tuple[list[str], str]:
    seen: list[str] = []
    while True:
        body = _page(client, headers, kind, since, limit)
        seen += _ids(body, kind)
        since = body["next_cursor"]
        if not body["has_more"]:
            assert since is not None
            return seen, since


def _report_ids(events: list[ReportTriaged]) -> set[str]:
    return {str(e.report.report_id) for e in events}


@pytest.mark.parametrize("kind", ["cases", "reports"])
def test_pages_list_every_item_once_and_polling_brings_only_new_ones(
    client: TestClient, kind: str
) -> None:
    first = [triaged(device=ACME) for _ in range(23)]
    _record(client, first)
    regulator = _headers(client, Role.REGULATOR)
    seen, cursor = _drain(client, regulator, kind, None, 5)
    assert len(seen) == len(set(seen)) == 23
    if kind == "reports":
        assert set(seen) == _report_ids(first)
    # Nothing new: an empty page whose cursor stays where it was.
    idle = _page(client, regulator, kind, cursor, 5)
    assert (idle["items"], idle["next_cursor"], idle["has_more"]) == ([], cursor, False)
    later = [triaged(device=GLOBEX) for _ in range(4)]
    _record(client, later)
    news, _ = _drain(client, regulator, kind, cursor, 3)
    assert len(news) == 4 and not set(news) & set(seen)
    if kind == "reports":
        assert set(news) == _report_ids(later)


def test_changes_while_paging_skip_nothing_and_repeat_only_what_changed_again(
    client: TestClient,
) -> None:
    _record(client, [triaged(device=ACME) for _ in range(10)])
    regulator = _headers(client, Role.REGULATOR)
    body = _page(client, regulator, "cases", None, 4)
    seen = _ids(body, "cases")
    # Between pages: new reports arrive, a case already sent and one not yet sent change.
    _record(client, [triaged(device=GLOBEX) for _ in range(5)])
    sent = seen[0]
    r = client.post(
        f"/api/v1/cases/{sent}/transitions",
        json={"to": "under_assessment", "reason": "assessing it"},
        headers=regulator,
    )
    assert r.status_code == 200, r.text
    pending, _ = _drain(client, regulator, "cases", body["next_cursor"], 4)
    assert len(seen) + len(pending) == 16  # 15 cases, one of them changed after it was sent
    assert len(set(seen) | set(pending)) == 15
    assert pending.count(sent) == 1 and pending[-1] == sent  # its newest change comes last
    again = next(
        i
        for i in _page(client, regulator, "cases", body["next_cursor"], 20)["items"]
        if i["case"]["case_id"] == sent
    )
    assert again["case"]["status"] == "under_assessment"


def test_a_writer_recording_while_a_reader_pages_loses_nothing(client: TestClient) -> None:
    regulator = _headers(client, Role.REGULATOR)
    batches = [[triaged(device=ACME) for _ in range(3)] for _ in range(12)]
    started = threading.Event()

    def write() -> None:
        started.set()
        for batch in batches:
            _record(client, batch)

    writer = threading.Thread(target=write)
    writer.start()
    started.wait()
    seen: list[str] = []
    cursor: str | None = None
    while writer.is_alive():
        body = _page(client, regulator, "reports", cursor, 2)
        seen += _ids(body, "reports")
        cursor = body["next_cursor"]
    writer.join()
    rest, _ = _drain(client, regulator, "reports", cursor, 2)
    seen += rest
    expected = set().union(*(_report_ids(b) for b in batches))
    assert len(seen) == len(set(seen)) == 36
    assert set(seen) == expected


def test_a_client_resumes_from_the_last_item_it_kept(client: TestClient) -> None:
    _record(client, [triaged(device=ACME) for _ in range(9)])
    regulator = _headers(client, Role.REGULATOR)
    everything, _ = _drain(client, regulator, "reports", None, 100)
    body = _page(client, regulator, "reports", None, 6)
    # The client stored items 0..2, then stopped: it resumes from the third item's cursor.
    kept = body["items"][2]["cursor"]
    resumed, _ = _drain(client, regulator, "reports", kept, 4)
    assert _ids(body, "reports")[:3] + resumed == everything


def test_a_report_comes_again_when_it_is_linked_into_another_case(client: TestClient) -> None:
    one, two = triaged(device=ACME), triaged(device=ACME)
    _record(client, [one, two])
    regulator = _headers(client, Role.REGULATOR)
    _, cursor = _drain(client, regulator, "reports", None, 10)
    cases, _ = _drain(client, regulator, "cases", None, 10)
    target = next(
        c
        for c in cases
        if client.get(f"/api/v1/cases/{c}", headers=regulator).json()["report_ids"]
        == [str(two.report.report_id)]
    )
    r = client.post(
        f"/api/v1/cases/{target}/links",
        json={"report_id": str(one.report.report_id), "reason": "same patient, same day"},
        headers=regulator,
    )
    assert r.status_code == 204, r.text
    changed, _ = _drain(client, regulator, "reports", cursor, 10)
    # Both are in the case that changed; each once.
    assert sorted(changed) == sorted(_report_ids([one, two]))


def test_each_role_sees_only_what_it_may_read(client: TestClient) -> None:
    who = {
        "regulator": _headers(client, Role.REGULATOR),
        "admin": _headers(client, Role.ADMIN),
        "acme": _headers(client, Role.MANUFACTURER, "ACME"),
        "clinician": _headers(client, Role.CLINICIAN),
        "device": _headers(client, Role.DEVICE),
    }
    ref = client.get("/api/v1/whoami", headers=who["clinician"]).json()["reporter_ref"]
    acme = [triaged(device=ACME) for _ in range(3)]
    mine = triaged(device=GLOBEX, reporter_ref=ref)
    globex = [triaged(device=GLOBEX) for _ in range(4)]
    _record(client, [*acme, mine, *globex])
    expected = {
        "regulator": _report_ids([*acme, mine, *globex]),
        "admin": _report_ids([*acme, mine, *globex]),
        "acme": _report_ids(acme),
        "clinician": _report_ids([mine]),
    }
    for party, reports in expected.items():
        seen, _ = _drain(client, who[party], "reports", None, 2)
        assert (party, sorted(seen)) == (party, sorted(reports))
        cases, _ = _drain(client, who[party], "cases", None, 2)
        assert len(cases) == len(reports)
        for case_id in cases:
            listed = client.get(f"/api/v1/cases/{case_id}", headers=who[party]).json()
            assert set(listed["report_ids"]) <= reports
    for kind in ("cases", "reports"):
        r = client.get("/api/v1/exports/changes", params={"kind": kind}, headers=who["device"])
        assert r.status_code == 403
        assert client.get("/api/v1/exports/changes", params={"kind": kind}).status_code == 401


@pytest.mark.parametrize(
    "since",
    [
        "not-a-cursor",
        "%%%",
        encode_cursor(ChangeKind.CASES, Position(1, Position.start().item_id)),  # other feed
        "WzEsInJlcG9ydHMiLC0xLCIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAiXQ",  # seq -1
        "WzIsInJlcG9ydHMiLDEsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",  # version 2
    ],
)
def test_a_cursor_not_of_this_feed_is_refused_with_the_field_named(
    client: TestClient, since: str
) -> None:
    regulator = _headers(client, Role.REGULATOR)
    r = client.get(
        "/api/v1/exports/changes",
        params={"kind": "reports", "since": since},
        headers=regulator,
    )
    assert r.status_code == 400, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "since"]
    for params in ({"kind": "everything"}, {"kind": "cases", "limit": 0}):
        assert (
            client.get("/api/v1/exports/changes", params=params, headers=regulator).status_code
            == 422
        )


def test_a_reporters_follow_up_brings_the_case_and_its_report_again(client: TestClient) -> None:
    first = triaged(
        device=ACME,
        outcome=ReportedOutcome.INJURY,
        tracking_number="VG-FUFU-0001",
        status_token_hash="5c" * 32,
    )
    other = triaged(device=ACME)
    _record(client, [first, other])
    regulator = _headers(client, Role.REGULATOR)
    _, cases_cursor = _drain(client, regulator, "cases", None, 10)
    _, reports_cursor = _drain(client, regulator, "reports", None, 10)
    with _session(client) as session:
        done = record_followups(
            session,
            [
                ReportFollowedUp(
                    followup_id=uuid.uuid4(),
                    report_id=first.report.report_id,
                    tracking_number="VG-FUFU-0001",
                    status_token_hash="5c" * 32,
                    language="en",
                    outcome=ReportedOutcome.DEATH,
                )
            ],
            alerts_topic=ALERTS,
        )
    assert done.inserted == 1
    body = _page(client, regulator, "cases", cases_cursor, 10)
    [changed] = body["items"]
    assert changed["case"]["report_ids"] == [str(first.report.report_id)]
    assert changed["case"]["severity"] == "death"
    assert _drain(client, regulator, "reports", reports_cursor, 10)[0] == [
        str(first.report.report_id)
    ]
