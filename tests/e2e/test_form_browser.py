"""A clinician's report typed into the form in a real headless Chromium, through to the registry."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

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


TEMPUS = {"name": "Tempus ECG-AF", "manufacturer": "Tempus Labs, Inc."}
# What each language's page says, for the same report.
PAGES: dict[str, dict[str, str]] = {
    "fr": {
        "locale": "fr-FR",
        "kind": "Suggestion inappropriée de l'IA",
        "role": "Vous êtes *",
        "device": "Nom du dispositif ou logiciel d'IA *",
        "manufacturer": "Fabricant *",
        "version": "Version du modèle d'IA *",
        "outcome": "Conséquence pour le patient *",
        "narrative": "Description de l'incident *",
        "task": "Tâche de l'IA",
        "action": "Ce que le clinicien a fait de cette suggestion",
        "exposed": "La suggestion a-t-elle atteint la prise en charge du patient ?",
        "submit": "Envoyer la déclaration",
        "missing": "Ce champ est obligatoire.",
        "chosen": "Choisi dans le catalogue : Tempus ECG-AF (Tempus Labs, Inc.). Fabricant rempli.",
        "versions": "Versions connues du registre : 1.0, 1.2.",
        "text": "Le score n'a signalé aucune fibrillation atriale ; le traitement anticoagulant "
        "n'a pas été débuté et le patient a fait un AVC dix jours plus tard.",
    },
    "en": {
        "locale": "en-GB",
        "kind": "Inappropriate AI suggestion",
        "role": "You are *",
        "device": "Name of the AI device or software *",
        "manufacturer": "Manufacturer *",
        "version": "AI model version *",
        "outcome": "Outcome for the patient *",
        "narrative": "Description of the incident *",
        "task": "Task of the AI",
        "action": "What the clinician did with the suggestion",
        "exposed": "Did the suggestion reach the patient's care?",
        "submit": "Submit the report",
        "missing": "This field is required.",
        "chosen": "Chosen from the catalogue: Tempus ECG-AF (Tempus Labs, Inc.). "
        "Manufacturer filled in.",
        "versions": "Versions known to the registry: 1.0, 1.2.",
        "text": "The score showed no atrial fibrillation; anticoagulation was not started and "
        "the patient had a stroke ten days later.",
    },
}


def _cli_token(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "token", "create", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _telemetry_declares_versions(env: dict[str, str], *versions: str) -> None:
    """The device's software sends a window per version, so the registry knows them."""
    secret = _cli_token(env, "--role", "device", "--manufacturer", TEMPUS["manufacturer"])
    device = {"Authorization": f"Bearer {secret}"}
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=len(versions))
    for i, version in enumerate(versions):
        window = {
            "device": {**TEMPUS, "model_version": version},
            "window_start": (start + timedelta(hours=i)).isoformat(),
            "window_end": (start + timedelta(hours=i + 1)).isoformat(),
            "n_predictions": 120,
        }
        sent = httpx.post(f"{INGEST}/api/v1/telemetry", json=window, headers=device, timeout=30)
        assert sent.status_code == 202, sent.text
    deadline = time.monotonic() + 30
    while True:
        known = httpx.get(f"{REGISTRY}/api/v1/devices/catalogue/model-versions").json()["items"]
        if [v["model_versions"] for v in known if v["device_id"] == "DEV_00001"] == [
            list(versions)
        ]:
            return
        assert time.monotonic() < deadline, known
        time.sleep(0.2)


def _long_date(day: date, lang: str) -> str:
    months = {
        "fr": [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        "en": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
    }[lang]
    first = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{first} {months[day.month - 1]} {day.year}"


def _report_by_keyboard(page: Page, lang: str) -> str:
    """Fill the report in ``lang``'s page, choosing the device from the catalogue with the
    keyboard only; submit it first without an outcome, then with one; return its tracking
    number."""
    text = PAGES[lang]
    page.goto(f"{INGEST}/")
    assert page.locator("html").get_attribute("lang") == lang
    page.get_by_label(text["kind"]).check()
    page.get_by_label(text["role"], exact=True).select_option("physician")

    # The typeahead, by keyboard: type, Escape closes the list without choosing, arrow down
    # opens it again and moves to the first match, Enter chooses it.
    device = page.get_by_label(text["device"], exact=True)
    assert device.get_attribute("role") == "combobox"
    device.focus()
    page.keyboard.type("tempus ecg-af", delay=20)
    listbox = page.get_by_role("listbox")
    option = listbox.get_by_role("option").first
    option.wait_for()
    assert device.get_attribute("aria-expanded") == "true"
    assert "K233549" in option.inner_text()
    page.keyboard.press("Escape")
    assert listbox.is_hidden() and device.get_attribute("aria-expanded") == "false"
    assert device.input_value() == "tempus ecg-af"
    page.keyboard.press("ArrowDown")
    option.wait_for()
    page.keyboard.press("ArrowDown")
    assert device.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")  # chooses the device, does not submit the form
    assert device.get_attribute("aria-expanded") == "false" and listbox.is_hidden()
    assert device.input_value() == TEMPUS["name"]
    manufacturer = page.get_by_label(text["manufacturer"], exact=True)
    assert manufacturer.input_value() == TEMPUS["manufacturer"]
    assert page.locator("#device-note").inner_text() == text["chosen"]
    assert page.locator("#device-status").inner_text() == text["chosen"]  # announced
    assert page.locator("#device_model_version-help").inner_text() == text["versions"]
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("1.2")
    assert page.get_by_label(text["version"], exact=True).input_value() == "1.2"
    assert page.locator("#device-versions option").evaluate_all(
        "options => options.map(o => o.value)"
    ) == ["1.0", "1.2"]

    # The dates the page writes out are in its language.
    today = datetime.now(UTC).date()
    assert page.locator("#awareness_date-echo .date").inner_text() == _long_date(today, lang)
    page.locator("#event_date").fill((today - timedelta(days=3)).isoformat())
    page.locator("#event_date").dispatch_event("change")
    assert page.locator("#event_date-echo .date").inner_text() == _long_date(
        today - timedelta(days=3), lang
    )

    page.get_by_label(text["task"], exact=True).select_option("prediction")
    page.get_by_label(text["action"], exact=True).select_option("followed")
    page.get_by_label(text["exposed"], exact=True).select_option("yes")
    page.get_by_label(text["narrative"], exact=True).fill(text["text"])

    # No outcome chosen: refused, the field named, the error announced.
    page.get_by_role("button", name=text["submit"]).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    outcome = page.get_by_label(text["outcome"], exact=True)
    assert page.locator("#outcome-error").inner_text() == text["missing"]
    assert outcome.get_attribute("aria-invalid") == "true"
    assert "outcome-error" in (outcome.get_attribute("aria-describedby") or "")
    assert page.locator("#tracking-number").count() == 0
    # What was typed is kept, the catalogue device with it.
    assert page.get_by_label(text["device"], exact=True).input_value() == TEMPUS["name"]
    assert "K233549" in page.locator("#device-note").inner_text()

    outcome.select_option("serious_deterioration")
    page.get_by_role("button", name=text["submit"]).click()
    tracking = page.locator("#tracking-number").inner_text(timeout=30_000).strip()
    assert tracking.startswith("VG-")
    received = page.locator("#sent-received").inner_text()
    assert received.startswith(_long_date(today, lang)) and received.endswith("UTC")
    assert page.locator("#sent-awareness-date").inner_text() == _long_date(today, lang)
    assert page.locator("#sent-event-date").inner_text() == _long_date(
        today - timedelta(days=3), lang
    )
    assert "K233549" in page.locator("#sent-device-source").inner_text()
    return tracking


def test_an_ai_suggestion_reported_by_keyboard_in_both_languages(platform: dict[str, str]) -> None:
    from fhir.resources.adverseevent import AdverseEvent

    regulator_secret = regulator_token(platform)
    regulator = {"Authorization": f"Bearer {regulator_secret}"}
    _telemetry_declares_versions(platform, "1.0", "1.2")
    tracking: dict[str, str] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        refused: list[str] = []
        for lang in ("fr", "en"):
            page = browser.new_page(locale=PAGES[lang]["locale"])
            page.on(
                "console",
                lambda m: refused.append(m.text) if "Content Security" in m.text else None,
            )
            tracking[lang] = _report_by_keyboard(page, lang)
        assert refused == [], "the form keeps to its Content-Security-Policy"

        # Both reports in the registry, with their AI part as structured fields.
        reports: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 60
        while len(reports) < 2:
            assert time.monotonic() < deadline, "the reports never reached the registry"
            items = httpx.get(f"{REGISTRY}/api/v1/reports", headers=regulator).json()["items"]
            reports = {
                lang: r
                for lang in tracking
                for r in items
                if r["tracking_number"] == tracking[lang]
            }
            time.sleep(0.2)
        for report in reports.values():
            assert report["device_name"] == TEMPUS["name"]
            assert report["manufacturer"] == TEMPUS["manufacturer"]
            assert report["model_version"] == "1.2"
            assert (
                report["ai_task"],
                report["ai_clinician_action"],
                report["ai_patient_exposed"],
            ) == (
                "prediction",
                "followed",
                True,
            )
            assert report["outcome"] == "serious_deterioration"

            # The FHIR export carries it: a valid R5 AdverseEvent, the followed output a
            # contributing factor.
            case_id = httpx.get(
                f"{REGISTRY}/api/v1/reports/{report['report_id']}", headers=regulator
            ).json()["case_id"]
            fhir = httpx.get(f"{REGISTRY}/api/v1/cases/{case_id}/fhir", headers=regulator).json()
            resource = AdverseEvent.model_validate(fhir)
            factors = [
                f.itemCodeableConcept.coding[0].code  # type: ignore[union-attr, index]
                for f in resource.contributingFactor or []
            ]
            assert factors == ["followed"]
            functions = {
                p.function.coding[0].code  # type: ignore[union-attr, index]
                for p in resource.participant or []
            }
            assert {"prediction", "followed"} <= functions

        # The dashboard's breakdown by what the clinician did counts both.
        page = browser.new_page(locale="fr-FR")
        page.goto(f"{REGISTRY}/dashboard")
        page.get_by_label("Jeton d'accès").fill(regulator_secret)
        page.get_by_role("button", name="Entrer").click()
        row = page.locator('#actions-table tr[data-ratio="Tempus ECG-AF|followed"]')
        row.wait_for(state="attached")
        # The row is in the chart's data table, folded under its <details>: read, not seen.
        assert row.locator("td").nth(2).text_content() == "2"

        # Without the script the device is a plain text field, and one typed as the catalogue
        # spells it is still the catalogue's.
        page = browser.new_page(locale="en-GB", java_script_enabled=False)
        page.goto(f"{INGEST}/")
        device = page.get_by_label(PAGES["en"]["device"], exact=True)
        assert device.get_attribute("role") is None
        page.get_by_label("Adverse event").check()
        page.get_by_label("You are *", exact=True).select_option("nurse")
        device.fill("tempus ECG-AF")
        page.get_by_label("Manufacturer *", exact=True).fill("Tempus Labs, Inc.")
        page.get_by_label("AI model version *", exact=True).fill("1.2")
        page.get_by_label("Outcome for the patient *", exact=True).select_option("no_harm")
        page.get_by_label("Description of the incident *", exact=True).fill(PAGES["en"]["text"])
        page.get_by_role("button", name="Submit the report").click()
        assert page.locator("#tracking-number").inner_text(timeout=30_000).startswith("VG-")
        assert page.locator("#sent-device-source").inner_text() == "(In the catalogue, FDA K233549)"
        browser.close()
