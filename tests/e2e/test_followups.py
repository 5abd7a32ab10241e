"""A reporter's follow-up through the whole platform: from the status page to ingest's form, on
Kafka, onto the case, which a death re-times to 10 days; the patient's name nowhere in clear."""

from __future__ import annotations

import html
import json
import re
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import httpx

from tests.support.kafka import read_all
from tests.support.platform import INGEST, REGISTRY, regulator_token
from vigie.contracts import utcnow

# Who must never be seen again once the follow-up is sent.
SECRETS = ["Dupont", "DUPONT", "40012345"]


def test_a_follow_up_reporting_a_death_re_times_the_case_to_ten_days(
    platform: dict[str, str], tmp_path: Path
) -> None:
    env = platform
    today = utcnow().date()
    report = {
        "kind": "inappropriate_ai_suggestion",
        "reporter_role": "physician",
        "device": {
            "name": "Veye Lung Nodules",
            "manufacturer": "Aidence B.V.",
            "model_version": "3.2.1",
        },
        "awareness_date": today.isoformat(),
        "outcome": "injury",
        "language": "fr",
        "narrative": "Le nodule de 12 mm n'a pas été signalé par l'IA ; chirurgie retardée.",
    }
    sent = httpx.post(f"{INGEST}/api/v1/reports", json=report, timeout=60)
    assert sent.status_code == 202, sent.text
    receipt = sent.json()
    status_url = receipt["status_url"]
    token = status_url.rsplit("/", 1)[-1]

    # The status page, once the registry has the report, links to ingest's follow-up form.
    page = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page = httpx.get(status_url, params={"lang": "fr"}, timeout=10)
        if page.status_code == 200:
            break
        time.sleep(0.5)
    assert page is not None and page.status_code == 200, "the report never reached the registry"
    link = re.search(r'id="follow-up-link" href="([^"]+)"', page.text)
    assert link, page.text
    form = httpx.get(html.unescape(link[1]), timeout=10)
    assert form.status_code == 200, form.text
    assert receipt["tracking_number"] in form.text
    assert ">Décès</option>" in form.text  # the outcomes as the report form names them
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', form.text)
    assert submission_id

    # A bad status link is refused before anything is published.
    bad = httpx.post(
        f"{INGEST}/api/v1/follow-ups",
        json={"status_token": "not-a-link", "outcome": "death", "language": "fr"},
        timeout=30,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "status_token"]

    fields = {
        "status_token": token,
        "submission_id": submission_id[1],
        "language": "fr",
        "text": "Mme Jeanne Dupont (IPP 40012345) est décédée ce matin en réanimation.",
        "outcome": "death",
        "awareness_date": today.isoformat(),
    }
    answered = httpx.post(f"{INGEST}/follow-up", data=fields, timeout=60)
    assert answered.status_code == 202, answered.text
    assert not [s for s in SECRETS if s in answered.text]
    assert "réanimation" in answered.text
    assert 'id="sent-outcome">Décès<' in answered.text
    # Sent twice (a double click): one follow-up.
    assert httpx.post(f"{INGEST}/follow-up", data=fields, timeout=60).status_code == 202

    headers = {"Authorization": f"Bearer {regulator_token(env)}"}
    recorded = httpx.get(
        f"{REGISTRY}/api/v1/reports/{receipt['report_id']}", headers=headers, timeout=10
    ).json()
    case_id = recorded["case_id"]
    case: dict[str, object] = {}
    followups: list[dict[str, object]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        case = httpx.get(f"{REGISTRY}/api/v1/cases/{case_id}", headers=headers, timeout=10).json()
        if case["severity"] == "death":
            break
        time.sleep(0.5)
    assert case["severity"] == "death", case
    assert case["deadline"] == (today + timedelta(days=10)).isoformat()
    assert case["days_left"] == 10 and case["serious_incident"] is True
    followups = httpx.get(
        f"{REGISTRY}/api/v1/cases/{case_id}/follow-ups", headers=headers, timeout=10
    ).json()
    assert len(followups) == 1
    assert followups[0]["deadline_before"] == (today + timedelta(days=15)).isoformat()
    assert followups[0]["outcome"] == "death"
    audit = httpx.get(
        f"{REGISTRY}/api/v1/cases/{case_id}/audit", headers=headers, timeout=10
    ).json()
    assert [r["action"] for r in audit] == ["opened", "follow_up_received"]

    # The reporter sees it received, as it was sent on.
    shown = httpx.get(status_url, params={"lang": "fr"}, timeout=10).text
    assert "réanimation" in shown and not [s for s in SECRETS if s in shown]

    # Neither Kafka nor the database holds the name in clear.
    namespace = env["VIGIE_TOPIC_NAMESPACE"]
    topic = f"{namespace}.vigie.reports.followups.v1"
    records = read_all(env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"], topic)
    assert len(records) == 2  # the double click, recorded once above
    for record in records:
        value = record.value.decode()
        decoded = json.dumps(json.loads(value), ensure_ascii=False)
        assert not [s for s in SECRETS if s in value + decoded], value
        assert token not in value
    database = env["VIGIE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert "réanimation" in dump
    assert not [s for s in SECRETS if s in dump]
    assert token not in dump
    assert not [s for s in SECRETS if s in (tmp_path / "run.log").read_text(errors="replace")]
