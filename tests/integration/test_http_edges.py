"""The HTTP edges of ingest and the registry: body limits, security headers, bearer parsing,
rate limits, bounded offsets, offsets on timestamps, CSV cells, docs, dashboard sessions."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.common.edges import CONTENT_SECURITY_POLICY
from services.ingest.app import create_app as create_ingest
from services.ingest.reports.models import EXAMPLE_REPORT
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as create_registry
from services.registry.auth.models import Role
from services.registry.auth.service import authenticate, create_token, revoke_token
from services.registry.dashboard.models import DashboardSession
from services.registry.dashboard.sessions import LOGIN_COOKIE, SESSION_COOKIE
from services.registry.exports.csvsafe import neutralise, writer
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from tests.support.factories import triaged
from tests.support.registry_db import migrated_sqlite
from vigie.contracts import DeviceRef, ReportedOutcome

SERVICES = Path(__file__).resolve().parents[2] / "services"
PRODUCTION_KEY = "k" * 40


def registry_app(tmp_path: Path, **settings: Any) -> FastAPI:
    return create_registry(
        RegistrySettings(database_url=migrated_sqlite(tmp_path / "r.db"), **settings),
        consume=False,
    )


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The registry API on SQLite with a case of each of two manufacturers; tokens by role."""
    app = registry_app(tmp_path)
    hyperlink = DeviceRef(
        name='=HYPERLINK("http://evil.example","x")', manufacturer="Acme", model_version="1"
    )
    lung = DeviceRef(name="Veye", manufacturer="Aidence", model_version="3")
    with Session(app.state.engine) as session:
        record_triaged(
            session,
            [
                triaged(outcome=ReportedOutcome.DEATH, device=hyperlink),
                triaged(outcome=ReportedOutcome.INJURY, device=lung),
            ],
            alerts_topic="alerts",
        )
        tokens = {
            "regulator": create_token(session, role=Role.REGULATOR),
            "manufacturer": create_token(session, role=Role.MANUFACTURER, manufacturer="Acme"),
        }
    with TestClient(app, base_url="https://testserver") as client:
        yield client, tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- body limits -------------------------------------------------------------------------


def _post_chunked(app: FastAPI, *, chunks: int, chunk_size: int) -> tuple[int, int]:
    """POST ``chunks`` x ``chunk_size`` bytes, chunked and without a token, straight to the
    ASGI app; the status, and how many chunks the app pulled."""
    pulled = 0
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * chunk_size, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/cases/00000000-0000-0000-0000-000000000000/transitions",
        "raw_path": b"/api/v1/cases/00000000-0000-0000-0000-000000000000/transitions",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status[0], pulled


def test_a_100_mib_chunked_post_without_token_is_refused_after_the_limit(tmp_path: Path) -> None:
    app = registry_app(tmp_path, registry_max_body_bytes=64 * 1024)
    chunk = 64 * 1024
    status, pulled = _post_chunked(app, chunks=100 * 1024 * 1024 // chunk, chunk_size=chunk)
    assert status == 413
    assert pulled == 2, "refused as soon as the count passed the limit, the rest never read"


def test_a_declared_length_over_the_limit_is_refused_unread(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = registry
    response = client.post(
        "/api/v1/subscriptions", content=b"{" + b" " * 70_000 + b"}", headers=bearer("x")
    )
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_body_under_the_limit_still_reaches_the_route_when_chunked(tmp_path: Path) -> None:
    app = registry_app(tmp_path, registry_max_body_bytes=64 * 1024)
    status, _ = _post_chunked(app, chunks=2, chunk_size=1024)
    assert status == 422, "read whole and handed on: the route parsed it (not JSON)"


# --- security headers --------------------------------------------------------------------


def _assert_secured(response: Any, *, cached: bool = False) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (response.headers.get("cache-control") == "no-store") is not cached


def test_registry_pages_and_api_carry_the_security_headers(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    for path in ("/api/v1/cases", "/dashboard", "/status/" + "a" * 32, "/healthz"):
        _assert_secured(client.get(path, headers=bearer(tokens["regulator"])))
    _assert_secured(client.get("/api/v1/cases"))  # a 401 too
    _assert_secured(client.get("/static/dashboard.css"), cached=True)


def test_ingest_form_carries_the_security_headers(tmp_path: Path) -> None:
    client = TestClient(create_ingest(IngestSettings()))
    _assert_secured(client.get("/"))
    _assert_secured(client.get("/static/form.css"), cached=True)


def test_no_template_has_inline_script_or_style() -> None:
    templates = list(SERVICES.rglob("templates/*.html"))
    assert len(templates) >= 5
    for path in templates:
        text = path.read_text(encoding="utf-8")
        # Scripts and styles come from /static (the policy's 'self'), never inline.
        inline = r"<script(?![^>]*\ssrc=)|<style|\sstyle=|\son[a-z]+="
        assert not re.search(inline, text, re.I), path.name


def test_docs_are_off_in_production_and_local_elsewhere(tmp_path: Path) -> None:
    production = TestClient(registry_app(tmp_path, env="production", pseudonym_key=PRODUCTION_KEY))
    assert production.get("/docs").status_code == 404
    assert production.get("/redoc").status_code == 404
    assert production.get("/openapi.json").status_code == 200
    ingest = TestClient(
        create_ingest(IngestSettings(env="production", pseudonym_key=PRODUCTION_KEY))
    )
    assert ingest.get("/docs").status_code == 404
    development = TestClient(registry_app(tmp_path / "dev"))
    docs = development.get("/docs")
    assert docs.status_code == 200
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_metrics_are_not_on_the_public_ports(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    assert client.get("/metrics", headers=bearer(tokens["regulator"])).status_code == 404
    assert TestClient(create_ingest(IngestSettings())).get("/metrics").status_code == 404


# --- Authorization header ----------------------------------------------------------------

MALFORMED = ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "vg_x", "Bearer <x>"]


def test_a_malformed_authorization_header_is_401_on_the_registry(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    for header in MALFORMED:
        for path in ("/api/v1/cases", "/api/v1/whoami"):
            response = client.get(path, headers={"Authorization": header})
            assert response.status_code == 401, (header, path)
            assert response.headers["www-authenticate"] == "Bearer"
    # Public pages do not read the header; a well-formed token still works.
    assert (
        client.get("/status/" + "a" * 32, headers={"Authorization": "Basic x"}).status_code == 404
    )
    assert client.get("/api/v1/cases", headers=bearer(tokens["regulator"])).status_code == 200


def test_a_non_ascii_authorization_header_is_401(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = registry
    response = client.get(
        "/api/v1/cases", headers={"Authorization": "Bearer \u00e9t\u00e9".encode("latin-1")}
    )
    assert response.status_code == 401


def _ingest_without_kafka(**settings: Any) -> TestClient:
    app = create_ingest(IngestSettings(**settings))
    app.state.submitter = None  # the refusals tested here come before any submission
    app.state.telemetry_forwarder = None
    return TestClient(app)


@pytest.mark.parametrize("header", MALFORMED)
def test_a_malformed_authorization_header_is_401_on_ingest_not_anonymous(header: str) -> None:
    client = _ingest_without_kafka(ingest_rate_limit="")
    for path in ("/api/v1/reports", "/api/v1/telemetry"):
        response = client.post(path, json=EXAMPLE_REPORT, headers={"Authorization": header})
        assert response.status_code == 401, path


# --- rate limits -------------------------------------------------------------------------


def test_intake_is_rate_limited_per_address_with_retry_after() -> None:
    client = _ingest_without_kafka(ingest_rate_limit="3/minute")
    answers = [client.post("/api/v1/reports", json={}).status_code for _ in range(3)]
    assert answers == [422, 422, 422]
    refused = client.post("/api/v1/reports", json=EXAMPLE_REPORT)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # The form counts against the same address, and its page still loads.
    assert client.post("/", data={"lang": "en"}).status_code == 429
    assert client.get("/").status_code == 200


def test_rate_limits_count_each_address_apart() -> None:
    app = create_ingest(IngestSettings(ingest_rate_limit="1/minute"))
    app.state.submitter = None
    first = TestClient(app, client=("192.0.2.1", 1000))
    second = TestClient(app, client=("192.0.2.2", 1000))
    assert first.post("/api/v1/reports", json={}).status_code == 422
    assert first.post("/api/v1/reports", json={}).status_code == 429
    assert second.post("/api/v1/reports", json={}).status_code == 422


# --- listings, timestamps, CSV -----------------------------------------------------------


def test_offsets_beyond_any_listing_are_422(registry: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = registry
    for path in ("/api/v1/cases", "/api/v1/devices"):
        for offset in ("18446744073709551615", "1000001", "-1"):
            response = client.get(
                path, params={"offset": offset}, headers=bearer(tokens["regulator"])
            )
            assert response.status_code == 422, (path, offset)
        assert (
            client.get(
                path, params={"offset": "1000000"}, headers=bearer(tokens["regulator"])
            ).status_code
            == 200
        )


def test_timestamps_carry_their_offset(registry: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = registry
    regulator = bearer(tokens["regulator"])
    (case, *_) = client.get("/api/v1/cases", headers=regulator).json()["items"]
    report = client.get("/api/v1/reports", headers=regulator).json()["items"][0]
    stamps = [case["opened_at"], case["updated_at"], report["submitted_at"]]
    stamps += [report[k] for k in ("recorded_at",) if report.get(k)]
    for stamp in stamps:
        assert re.search(r"(Z|[+-]\d\d:\d\d)$", stamp), stamp
        assert datetime.fromisoformat(stamp).utcoffset() is not None


def test_csv_cells_cannot_start_a_formula(registry: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = registry
    response = client.get("/api/v1/exports/cases.csv", headers=bearer(tokens["regulator"]))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    names = {row["device_name"] for row in rows}
    assert '\'=HYPERLINK("http://evil.example","x")' in names
    for row in rows:
        for cell in row.values():
            # Numbers (a negative count of days left) are data, not formulas.
            number = re.fullmatch(r"-?\d+(\.\d+)?", cell)
            assert number or not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_neutralise_prefixes_every_formula_start(start: str) -> None:
    assert neutralise(f"{start}1+1") == f"'{start}1+1"


def test_neutralise_leaves_other_cells_alone() -> None:
    assert neutralise("Aidence B.V.") == "Aidence B.V."
    assert neutralise(-3) == -3
    assert neutralise(None) is None
    out = io.StringIO()
    writer(out).writerow(["=cmd|' /C calc'!A0", "ok", 5])
    assert out.getvalue() == "'=cmd|' /C calc'!A0,ok,5\r\n"


# --- dashboard sessions ------------------------------------------------------------------


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_dashboard_session_is_server_side_behind_a_host_cookie(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    token = tokens["regulator"]
    sign_in = client.get("/dashboard")
    assert LOGIN_COOKIE in sign_in.cookies
    response = client.post(
        "/dashboard/login",
        data={"token": token, "csrf": _csrf(sign_in.text), "lang": "en"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    (session_cookie,) = [
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    ]
    attributes = {a.strip().split("=")[0].lower() for a in session_cookie.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "samesite=strict" in session_cookie.lower()
    assert "domain" not in attributes
    assert token not in str(response.headers)
    secret = client.cookies[SESSION_COOKIE]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        (row,) = session.exec(select(DashboardSession)).all()
    assert token not in row.model_dump_json() and secret not in row.model_dump_json()

    page = client.get("/dashboard?lang=en")
    assert 'id="queue-title"' in page.text
    # Sign-out needs the session's CSRF token.
    forged = client.post("/dashboard/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    assert 'id="queue-title"' in client.get("/dashboard?lang=en").text
    out = client.post("/dashboard/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    # The session is gone server-side: replaying its cookie signs nobody in.
    client.cookies.set(SESSION_COOKIE, secret)
    assert 'id="queue-title"' not in client.get("/dashboard?lang=en").text


def test_dashboard_sign_in_refuses_a_forged_form(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    client.get("/dashboard")
    for csrf in ("", "guess"):
        response = client.post(
            "/dashboard/login",
            data={"token": tokens["regulator"], "csrf": csrf},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert SESSION_COOKIE not in response.cookies


def test_dashboard_ignores_a_raw_token_in_a_cookie(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    client.cookies.set(SESSION_COOKIE, tokens["regulator"])
    client.cookies.set("vigie_token", tokens["regulator"])
    assert 'id="queue-title"' not in client.get("/dashboard").text


def test_revoking_the_token_ends_its_dashboard_sessions(
    registry: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = registry
    sign_in = client.get("/dashboard")
    client.post(
        "/dashboard/login",
        data={"token": tokens["regulator"], "csrf": _csrf(sign_in.text)},
        follow_redirects=False,
    )
    assert 'id="queue-title"' in client.get("/dashboard").text
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        principal = authenticate(session, tokens["regulator"])
        assert principal is not None
        revoke_token(session, uuid.UUID(principal.token_id))
    assert 'id="queue-title"' not in client.get("/dashboard").text
