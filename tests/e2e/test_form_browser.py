"""A clinician's report typed into the form in a real headless Chromium, through to the registry."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.platform import INGEST, REGISTRY, regulator_token


def test_form_typed_in_a_browser_reaches_the_registry(platform: dict[str, str]) -> None:
    regulator = {"Authorization": f"Bearer {regulator_token(platform)}"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="fr-FR")  # a French clinician's browser
        refused: list[str] = []
        page.on(
            "console", lambda m: refused.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(f"{INGEST}/")
        assert page.locator("html").get_attribute("lang") == "fr"
        # Every field is reached by its visible label, as assistive technology reaches it.
        page.get_by_label("Suggestion inappropriée de l'IA").check()
        page.get_by_label("Vous êtes *", exact=True).select_option("physician")
        page.get_by_label("Nom du dispositif ou logiciel d'IA *", exact=True).fill("Lung Nodule AI")
        page.get_by_label("Fabricant *", exact=True).fill("Acme Imaging")
        page.get_by_label("Version du modèle d'IA *", exact=True).fill("3.1")
        page.get_by_label("Conséquence pour le patient *", exact=True).select_option(
            "serious_deterioration"
        )
        page.get_by_label("Description de l'incident *", exact=True).fill(
            "Le logiciel n'a pas signalé un nodule de 14 mm ; diagnostic retardé de six mois, "
            "patiente hospitalisée (IPP 40012345)."
        )
        page.get_by_label("Identifiant patient local (IPP), facultatif").fill("40012345")
        started = time.monotonic()
        with page.expect_request(lambda r: r.method == "POST") as posted:
            page.get_by_role("button", name="Envoyer la déclaration").click()
        tracking = page.locator("#tracking-number").inner_text(timeout=30_000).strip()
        assert tracking.startswith("VG-")
        sent = posted.value.post_data
        assert refused == [], "the form keeps to its Content-Security-Policy"
        browser.close()

    # The same form sent again (a double click, a retried POST): the same receipt, one report.
    again = httpx.post(
        f"{INGEST}/",
        content=sent,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert again.status_code == 202 and tracking in again.text

    found: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while not found:
        assert time.monotonic() < deadline, "the report never reached the registry"
        items = httpx.get(f"{REGISTRY}/api/v1/reports", headers=regulator).json()["items"]
        found = [r for r in items if r["tracking_number"] == tracking]
        time.sleep(0.1)
    print(f"form submission -> registry: {time.monotonic() - started:.2f} s")
    assert len(found) == 1
    report = found[0]
    assert (
        report["device_name"] == "Lung Nodule AI"
        and report["kind"] == "inappropriate_ai_suggestion"
    )
    assert report["outcome"] == "serious_deterioration"
    assert report["triage_model_version"]  # the model read it
    # The local patient identifier typed in the narrative never left ingest in clear.
    assert "40012345" not in str(report)
