"""The dashboard's signal plots (trends, disproportionality, drift over time) on SQLite and
PostgreSQL: rendered as accessible SVG with a data table, in French and English, scoped by role."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import record_drift
from tests.support.factories import drift_signal, triaged
from vigie.contracts import (
    AiSuggestionCategory,
    DeviceRef,
    ReportKind,
    ReportTriaged,
    utcnow,
)

LUNG = DeviceRef(name="Lung Nodule AI", manufacturer="Acme", model_version="1")
SKIN = DeviceRef(name="Skin Check", manufacturer="Globex", model_version="2")
SVG = "{http://www.w3.org/2000/svg}"


def _ai_report(
    device: DeviceRef, action: str, category: AiSuggestionCategory, days_ago: int
) -> ReportTriaged:
    event = triaged(
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        device=device,
        awareness_date=utcnow().date() - timedelta(days=days_ago),
        ai={"task": "detection", "clinician_action": action, "patient_exposed": True},
    )
    return event.model_copy(
        update={"triage": event.triage.model_copy(update={"category": category})}
    )


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Lung: one report a week for eight weeks, then a burst this week, mostly followed missed
    findings; Skin: overridden misleading outputs spread over the weeks; a drift signal each."""
    app = create_app(RegistrySettings(database_url=database_url), consume=False)
    events = [
        _ai_report(LUNG, "followed", AiSuggestionCategory.MISSED_FINDING, 7 * w + 1)
        for w in range(1, 9)
    ]
    events += [
        _ai_report(LUNG, "followed", AiSuggestionCategory.MISSED_FINDING, 0) for _ in range(9)
    ]
    events += [
        _ai_report(SKIN, "overrode", AiSuggestionCategory.FALSE_OR_MISLEADING_OUTPUT, 3 * i)
        for i in range(20)
    ]
    with TestClient(app, base_url="https://testserver") as c:
        with Session(app.state.engine) as session:
            tokens = {
                "regulator": create_token(session, role=Role.REGULATOR),
                "acme": create_token(session, role=Role.MANUFACTURER, manufacturer="Acme"),
                "clinician": create_token(session, role=Role.CLINICIAN),
            }
            record_triaged(session, events, alerts_topic="alerts")
            record_drift(
                session,
                [drift_signal(LUNG), drift_signal(SKIN, statistic=0.5)],
                alerts_topic="alerts",
                country="FR",
            )
        yield c, tokens


def _page(client: TestClient, token: str, lang: str) -> str:
    form = client.get(f"/dashboard?lang={lang}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    done = client.post(
        "/dashboard/login",
        data={"token": token, "csrf": csrf[1], "lang": lang},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = client.get(f"/dashboard?lang={lang}")
    assert page.status_code == 200, page.text
    client.cookies.clear()
    text: str = page.text
    return text


def _svg(page: str, chart_id: str) -> ElementTree.Element:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', page, re.S)
    assert found is not None, chart_id
    svg = ElementTree.fromstring(found[0])  # well-formed XML
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and title.text and desc is not None and desc.text
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    return svg


def _rows(page: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table_id}">.*?</table>', page, re.S)
    assert found is not None, table_id
    table = ElementTree.fromstring(found[0])
    return [["".join(cell.itertext()).strip() for cell in row] for row in table.iter("tr")][1:]


def test_a_regulator_sees_every_plot_with_its_data(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    page = _page(c, tokens["regulator"], "en")
    # Trends: Lung first (its burst is flagged), its last week observed 9 against ~1 expected.
    trend = _svg(page, "trend-0")
    assert "Lung Nodule AI" in (trend.findtext(f"{SVG}title") or "")
    assert trend.find(f"{SVG}polyline") is not None  # the expected line
    weeks = _rows(page, "trend-table-0")
    assert weeks[-1][1] == "9" and weeks[-1][3] == "yes"
    assert float(weeks[-1][2]) < 3
    assert {row[1] for row in weeks[:-1]} <= {"0", "1"}
    # Disproportionality by category: each device's own category stands out.
    _svg(page, "disprop-chart-svg")
    by_category = {(r[0], r[1]): r for r in _rows(page, "disprop-table")}
    lung = by_category[("Lung Nodule AI (Acme)", "missed finding")]
    assert lung[2] == "17" and lung[7] == "yes"
    low, high = (float(x) for x in lung[4].split("–"))
    assert low < float(lung[3]) < high
    # By the clinician's action: "followed" is disproportionate for Lung.
    forest = _svg(page, "actions-chart-svg")
    assert forest.findall(f".//{SVG}circle") and forest.findall(f".//{SVG}rect")
    actions = {(r[0], r[1]): r for r in _rows(page, "actions-table")}
    assert actions[("Lung Nodule AI (Acme)", "followed")][7] == "yes"
    assert actions[("Skin Check (Globex)", "overrode")][2] == "20"
    # Drift over time: one dot per signal, statistic over threshold.
    timeline = _svg(page, "drift-time-svg")
    assert len(timeline.findall(f"{SVG}circle")) == 2 + 3  # two signals, three legend keys
    ratios = sorted(float(r[3]) for r in _rows(page, "drift-time-table"))
    assert ratios == [2.0, 3.6]


def test_the_plots_speak_french(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    page = _page(c, tokens["regulator"], "fr")
    assert "Tendance de Lung Nodule AI (Acme)" in (
        _svg(page, "trend-0").findtext(f"{SVG}title") or ""
    )
    assert "Disproportionnalité par catégorie de problème" in page
    assert "Signaux de dérive dans le temps" in page
    assert ["Lung Nodule AI (Acme)", "suivie"] in [r[:2] for r in _rows(page, "actions-table")]


def test_a_manufacturer_sees_its_own_devices_only(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, tokens = client
    page = _page(c, tokens["acme"], "en")
    assert "Lung Nodule AI" in page and "Skin Check" not in page and "Globex" not in page
    assert 'id="trend-1"' not in page
    assert {r[0] for r in _rows(page, "actions-table")} == {"Lung Nodule AI (Acme)"}
    assert len(_rows(page, "drift-time-table")) == 1


def test_a_clinician_gets_no_device_plots(client: tuple[TestClient, dict[str, str]]) -> None:
    c, tokens = client
    page = _page(c, tokens["clinician"], "en")
    for section in ("trends-title", "disprop-title", "actions-title", "drift-time-title"):
        assert f'id="{section}"' not in page
    assert "Lung Nodule AI" not in page
