"""The whole platform as a user starts it: `vigie run`, a form, the registry, an alert."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import httpx
from kafka import KafkaConsumer

from tests.support.kafka import client_kwargs
from tests.support.platform import INGEST, REGISTRY, regulator_token


def test_form_submission_reaches_registry_and_regulator(platform: dict[str, str]) -> None:
    env = platform
    alerts = KafkaConsumer(
        f"{env['VIGIE_TOPIC_NAMESPACE']}.vigie.alerts.v1",
        **client_kwargs(env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"]),
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    form = {
        "lang": "fr",
        "language": "fr",
        "kind": "inappropriate_ai_suggestion",
        "reporter_role": "physician",
        "establishment": "CHU de Lille",
        "device_name": "Veye Lung Nodules",
        "device_manufacturer": "Aidence B.V.",
        "device_model_version": "3.2.1",
        "awareness_date": "2026-11-20",
        "outcome": "death",
        "narrative": "Le nodule de 12 mm n'a pas été signalé par l'IA ; décès du patient.",
        "patient_identifier": "IPP 77712345",
    }
    page = httpx.post(f"{INGEST}/", data=form, timeout=30)
    assert page.status_code == 202, page.text
    tracking = re.search(r'id="tracking-number">([^<]+)<', page.text)
    status_link = re.search(r'id="status-link" href="([^"]+)"', page.text)
    assert tracking and status_link

    token = regulator_token(env)
    headers = {"Authorization": f"Bearer {token}"}
    found = None
    deadline = time.monotonic() + 60
    while found is None and time.monotonic() < deadline:
        listing = httpx.get(f"{REGISTRY}/api/v1/reports", headers=headers, timeout=10).json()
        found = next((r for r in listing["items"] if r["tracking_number"] == tracking[1]), None)
        time.sleep(0.2)
    assert found is not None, "the case never reached the registry"
    assert found["severity"] == "death" and found["serious_incident"] is True
    assert found["case_status"] == "triaged"
    assert "77712345" not in json.dumps(found)
    one = httpx.get(f"{REGISTRY}/api/v1/reports/{found['report_id']}", headers=headers)
    assert one.status_code == 200 and one.json()["deadline"] == "2026-11-30"
    assert httpx.get(f"{REGISTRY}/api/v1/reports/{found['report_id']}").status_code == 401

    status = httpx.get(status_link[1].replace("/status/", "/api/v1/status/"), timeout=10)
    assert status.status_code == 200 and status.json()["tracking_number"] == tracking[1]

    alert = None
    deadline = time.monotonic() + 60
    while alert is None and time.monotonic() < deadline:
        for batch in alerts.poll(timeout_ms=500).values():
            for record in batch:
                data = json.loads(record.value)
                if data["tracking_number"] == tracking[1]:
                    alert = data
    alerts.close()
    assert alert is not None, "no alert on the alert topic"
    assert alert["alert_type"] == "serious_incident"
    assert alert["deadline"] == "2026-11-30"
    assert alert["obligations"][0]["article"] == "Art. 87(5)"


def test_api_submission_and_metrics(platform: dict[str, str]) -> None:
    from services.ingest.reports.models import EXAMPLE_REPORT

    # An anonymous caller's Idempotency-Key is a nonce the server issued.
    nonce = httpx.post(f"{INGEST}/api/v1/submission-nonces", timeout=30).json()["nonce"]
    key = {"Idempotency-Key": nonce}
    first = httpx.post(f"{INGEST}/api/v1/reports", json=EXAMPLE_REPORT, headers=key, timeout=30)
    again = httpx.post(f"{INGEST}/api/v1/reports", json=EXAMPLE_REPORT, headers=key, timeout=30)
    assert first.status_code == 202 and first.json() == again.json()
    bad = httpx.post(f"{INGEST}/api/v1/reports", json={"kind": "adverse_event"}, timeout=30)
    assert bad.status_code == 422
    assert ["body", "narrative"] in [e["loc"] for e in bad.json()["detail"]]
    # Each service's metrics on a listener of its own; the public ports do not serve them.
    for port in (8003, 8004, 8002):
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert metrics.status_code == 200 and "vigie_" in metrics.text
    for port in (8000, 8001):
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 404


def test_serious_report_followed_from_form_to_closure(platform: dict[str, str]) -> None:
    """Form → triage → registry → manufacturer follow-up → regulator decision → FHIR → audit."""
    import sqlite3

    from fhir.resources.adverseevent import AdverseEvent

    env = platform
    form = {
        "lang": "en",
        "kind": "adverse_event",
        "reporter_role": "vigilance_correspondent",
        "device_name": "Sepsis Watch",
        "device_manufacturer": "Acme Health",
        "device_model_version": "2.4",
        "awareness_date": "2026-11-21",
        "outcome": "serious_deterioration",
        "narrative": "The early-warning score stayed low for six hours while the patient "
        "deteriorated; transferred to intensive care with septic shock.",
    }
    page = httpx.post(f"{INGEST}/", data=form, timeout=30)
    assert page.status_code == 202
    tracking = re.search(r'id="tracking-number">([^<]+)<', page.text)
    assert tracking
    regulator = {"Authorization": f"Bearer {regulator_token(env)}"}
    maker_token = subprocess.run(
        [
            sys.executable,
            "-m",
            "vigie_tools",
            "token",
            "create",
            "--role",
            "manufacturer",
            "--manufacturer",
            "Acme Health",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    maker = {"Authorization": f"Bearer {maker_token}"}

    case = None
    deadline = time.monotonic() + 60
    while case is None and time.monotonic() < deadline:
        items = httpx.get(f"{REGISTRY}/api/v1/cases", headers=maker, timeout=10).json()["items"]
        case = items[0] if items else None
        time.sleep(0.2)
    assert case is not None and case["severity"] == "serious"
    assert case["deadline"] == "2026-12-01"  # MDR Art. 87(5): 10 days from awareness
    path = f"{REGISTRY}/api/v1/cases/{case['case_id']}"

    def move(to: str, reason: str) -> None:
        r = httpx.post(f"{path}/transitions", headers=regulator, json={"to": to, "reason": reason})
        assert r.status_code == 200, r.text

    move("under_assessment", "Serious deterioration, assessment opened.")
    move("awaiting_manufacturer", "Root cause analysis requested from the manufacturer.")
    mir = {
        "report_type": "combined_initial_final",
        "content": {
            "manufacturer_awareness_date": "2026-11-22",
            "incident_description": "Score suppressed by a unit-conversion error in lactate input.",
            "imdrf_device_problem_codes": ["A11"],
            "imdrf_cause_codes": ["D19"],
            "root_cause_analysis": "Lactate in mg/dL read as mmol/L after an interface update.",
            "corrective_actions": "Release 2.4.1 validates units; field safety notice issued.",
        },
    }
    filed = httpx.post(f"{path}/mir-reports", headers=maker, json=mir)
    assert filed.status_code == 201, filed.text
    assert httpx.get(path, headers=regulator).json()["status"] == "under_assessment"
    move("reported_to_authority", "Reported to the competent authority.")
    move("closed", "Corrective action verified.")
    closed = httpx.get(path, headers=regulator).json()
    assert closed["status"] == "closed"

    fhir = AdverseEvent.model_validate(httpx.get(f"{path}/fhir", headers=regulator).json())
    assert fhir.seriousness is not None and fhir.seriousness.coding
    assert fhir.status == "completed" and fhir.seriousness.coding[0].code == "serious"
    trail = httpx.get(f"{path}/audit", headers=regulator).json()
    assert [r["action"] for r in trail][-3:] == ["status_changed"] * 3

    verify = [sys.executable, "-m", "vigie_tools", "audit", "verify"]
    # The registry signs and publishes its head every 10 s: until the first checkpoint is on the
    # witness topic, verification fails closed.
    deadline = time.monotonic() + 30
    while True:
        ok = subprocess.run(verify, env=env, capture_output=True, text=True, check=False)
        if ok.returncode == 0 or "NO WITNESS" not in ok.stdout or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert ok.returncode == 0 and "audit chain intact" in ok.stdout, ok.stdout
    db = env["VIGIE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_record SET actor = 'someone-else' WHERE action = 'mir_filed'")
    broken = subprocess.run(verify, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1 and "AUDIT CHAIN BROKEN" in broken.stdout


def test_death_described_under_no_harm_is_flagged_with_the_ten_day_deadline(
    platform: dict[str, str],
) -> None:
    """The reporter ticked "no harm" but wrote that the patient died: the shipped model reads the
    death, the case goes to review, and the deadline is the 10-day one (MDR Art. 87(5))."""
    from datetime import date, timedelta

    report = {
        "kind": "inappropriate_ai_suggestion",
        "reporter_role": "physician",
        "country": "FR",
        "device": {
            "name": "Sepsis Watch",
            "manufacturer": "Acme Health",
            "model_version": "2.4",
        },
        "awareness_date": "2026-11-20",
        "outcome": "no_harm",
        "language": "fr",
        "narrative": "L'algorithme a classé le patient à faible risque et l'alerte n'a pas été "
        "déclenchée. Le patient est décédé d'un choc septique dans la nuit.",
    }
    receipt = httpx.post(f"{INGEST}/api/v1/reports", json=report, timeout=30)
    assert receipt.status_code == 202, receipt.text
    report_id = receipt.json()["report_id"]
    regulator = {"Authorization": f"Bearer {regulator_token(platform)}"}
    deadline = time.monotonic() + 30
    found = httpx.get(f"{REGISTRY}/api/v1/reports/{report_id}", headers=regulator, timeout=10)
    while found.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.3)
        found = httpx.get(f"{REGISTRY}/api/v1/reports/{report_id}", headers=regulator, timeout=10)
    assert found.status_code == 200, found.text
    recorded = found.json()
    assert recorded["outcome"] == "no_harm"
    assert recorded["severity"] == "death"
    assert recorded["needs_review"] is True
    assert "narrative suggests death" in recorded["review_reasons"]
    assert recorded["deadline"] == str(date(2026, 11, 20) + timedelta(days=10))
    assert recorded["triage_model_version"].startswith("triage-")
    queue = httpx.get(
        f"{REGISTRY}/api/v1/cases", params={"needs_review": "true"}, headers=regulator, timeout=10
    )
    assert queue.status_code == 200
    assert report_id in json.dumps(queue.json())
