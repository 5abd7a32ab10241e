"""The regulator dashboard in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlmodel import Session

from services.registry.app import create_app
from services.registry.auth.models import Role
from services.registry.auth.service import create_token
from services.registry.reports.service import record_triaged
from services.registry.settings import RegistrySettings
from services.registry.signals.drift import record_drift
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.factories import triaged
from tests.support.registry_db import migrated_sqlite
from tests.support.servers import serving
from vigie.contracts import (
    DeviceRef,
    DriftDetected,
    ReportedOutcome,
    SignalSeverity,
    utcnow,
)


def test_dashboard_shows_queue_and_plots_in_both_languages(tmp_path: Path) -> None:
    app = create_app(
        RegistrySettings(database_url=migrated_sqlite(tmp_path / "r.db")), consume=False
    )
    today = utcnow().date()
    lung = DeviceRef(name="Veye Lung Nodules", manufacturer="Aidence", model_version="3")
    sepsis = DeviceRef(name="Sepsis Watch", manufacturer="Acme", model_version="2")
    overdue = triaged(
        outcome=ReportedOutcome.DEATH, device=lung, awareness_date=today - timedelta(days=13)
    )
    others = [
        triaged(
            outcome=ReportedOutcome.INJURY, device=sepsis, awareness_date=today - timedelta(days=1)
        )
        for _ in range(3)
    ]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    signal = DriftDetected(
        signal_id=uuid.uuid4(),
        device=sepsis,
        detector="psi",
        subject="feature:lactate",
        statistic=0.91,
        threshold=0.25,
        reference_window=(now - timedelta(hours=10), now - timedelta(hours=7)),
        current_window=(now - timedelta(hours=1), now),
        severity=SignalSeverity.HIGH,
        also_drifted=["score"],
        summary="lactate drifted",
    )
    with Session(app.state.engine) as session:
        record_triaged(session, [*others, overdue], alerts_topic="alerts")
        record_drift(session, [signal], alerts_topic="alerts", country="FR")
        regulator = create_token(session, role=Role.REGULATOR)
        device = create_token(session, role=Role.DEVICE)

    with serving(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        # The pages keep to their Content-Security-Policy: Chromium reports any refusal.
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(f"{base}/dashboard")
        assert page.locator("html").get_attribute("lang") == "fr"
        page.get_by_label("Jeton d'accès").fill("vg_wrong")
        page.get_by_role("button", name="Entrer").click()
        assert page.get_by_role("alert").inner_text() == "Jeton invalide ou rôle non autorisé."

        page.get_by_label("Jeton d'accès").fill(regulator)
        page.get_by_role("button", name="Entrer").click()
        page.wait_for_selector("#queue")
        assert page.locator("h1").inner_text() == "Tableau de bord de vigilance"
        rows = page.locator("#queue tbody tr")
        assert rows.count() == 4
        first = rows.nth(0)
        assert "overdue" in (first.get_attribute("class") or "")
        assert "Veye Lung Nodules" in first.inner_text() and "en retard" in first.inner_text()
        assert page.locator("#total-reports").inner_text() == "4"
        assert page.locator("#weekly-chart svg rect").count() >= 2
        assert "Sepsis Watch" in page.locator("#devices-chart svg").inner_html()
        assert "décès" in first.inner_text()  # labels in the page's language
        drift = page.locator("#drift tbody tr")
        assert drift.count() == 1
        assert "lactate" in drift.nth(0).inner_text() and "élevée" in drift.nth(0).inner_text()
        page.screenshot(path=str(tmp_path / "dashboard-fr.png"), full_page=True)

        page.get_by_role("link", name="English").click()
        page.wait_for_selector("#queue")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Vigilance dashboard"
        assert "overdue" in page.locator("#queue tbody tr").nth(0).inner_text()
        assert "death" in page.locator("#queue tbody tr").nth(0).inner_text()
        assert "high" in page.locator("#drift tbody tr").nth(0).inner_text()

        # A device token may not see cases: the dashboard refuses it.
        page.get_by_role("button", name="Sign out").click()
        page.get_by_label("Access token").fill(device)
        page.get_by_role("button", name="Enter").click()
        assert page.get_by_role("alert").is_visible()
        assert page.locator("#queue").count() == 0
        # The styles came from /static, and the sign-in lives in an HttpOnly session cookie.
        assert (
            page.locator("body")
            .evaluate("b => getComputedStyle(b).fontFamily")
            .startswith("system-ui")
        )
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert all(regulator not in c["value"] for c in cookies.values())
        assert page.evaluate("document.cookie") == ""
        assert refused == []
        browser.close()
