"""The dashboard for a clinician: their own reports and cases only, as the API scopes them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import authenticate, create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import record_drift
from tests.support.factories import drift_signal, triaged
from vigie.contracts import DeviceRef, ReportedOutcome

LUNG = DeviceRef(name="Lung Nodule AI", manufacturer="Acme", model_version="1")
SKIN = DeviceRef(name="Skin Check", manufacturer="Globex", model_version="2")


@pytest.fixture
def registry(database_url: str) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """Two clinicians with a serious report each, a regulator, a drift signal; tokens and the
    case of each clinician's report."""
    settings = RegistrySettings(database_url=database_url)
    app = create_app(settings, consume=False)
    with TestClient(app, base_url="https://testserver") as client:
        with Session(app.state.engine) as session:
            tokens = {
                "ana": create_token(session, role=Role.CLINICIAN),
                "ben": create_token(session, role=Role.CLINICIAN),
                "regulator": create_token(session, role=Role.REGULATOR),
            }
            refs = {}
            for who in ("ana", "ben"):
                principal = authenticate(session, tokens[who])
                assert principal is not None
                refs[who] = principal.reporter_ref(key=settings.pseudonym_key_bytes)
            record_triaged(
                session,
                [
                    triaged(outcome=ReportedOutcome.DEATH, device=LUNG, reporter_ref=refs["ana"]),
                    triaged(outcome=ReportedOutcome.INJURY, device=SKIN, reporter_ref=refs["ben"]),
                ],
                alerts_topic="alerts",
            )
            record_drift(session, [drift_signal(LUNG)], alerts_topic="alerts", country="FR")
        cases = {
            who: [
                c["case_id"]
                for c in client.get(
                    "/api/v1/cases", headers={"Authorization": f"Bearer {tokens[who]}"}
                ).json()["items"]
            ]
            for who in ("ana", "ben")
        }
        assert all(len(ids) == 1 for ids in cases.values())
        yield client, tokens, {who: ids[0] for who, ids in cases.items()}


def signed_in(client: TestClient, token: str) -> str:
    form = client.get("/dashboard?lang=en").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    done = client.post(
        "/dashboard/login",
        data={"token": token, "csrf": csrf[1], "lang": "en"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get("/dashboard?lang=en")
    assert page.status_code == 200, page.text
    text: str = page.text
    return text


def test_a_clinician_sees_their_own_cases_and_reports_only(
    registry: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, tokens, case_of = registry
    page = signed_in(client, tokens["ana"])
    assert 'id="queue-title"' in page
    assert re.findall(r'data-case="([^"]+)"', page) == [case_of["ana"]]
    assert re.search(r'id="total-reports">1<', page)
    assert "Lung Nodule AI" in page and "Skin Check" not in page
    assert 'id="drift-title"' not in page  # drift is about devices, not their reports


def test_a_regulator_still_sees_everything(
    registry: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, tokens, case_of = registry
    page = signed_in(client, tokens["regulator"])
    assert sorted(re.findall(r'data-case="([^"]+)"', page)) == sorted(case_of.values())
    assert re.search(r'id="total-reports">2<', page)
    assert 'id="drift-title"' in page and "data-signal=" in page
