"""Reports full of patient identifiers of every type go through the whole platform: none of
them is on any topic (read back from the start), in the registry's database, in its API or in
the services' logs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
from kafka import KafkaConsumer

from tests.support.kafka import client_kwargs, read_all
from tests.support.platform import INGEST, REGISTRY, regulator_token

# Each report: what is submitted, and the strings of it that must never be seen again.
REPORTS = [
    (
        {
            "kind": "adverse_event",
            "reporter_role": "physician",
            "establishment": "Cabinet du Dr Jean-Marc Lefèvre, 12 rue des Tanneurs 69003 Lyon",
            "language": "fr",
            "narrative": (
                "ROUSSEAU Thierry, né le 03/03/1947, NIR 1 47 03 75 108 042 51, IPP 40012345, "
                "domicilié 8 rue des Glycines, 44000 Nantes, tél. 06 12 34 56 78, "
                "thierry.rousseau@example.fr. Suivi pour maladie de Parkinson ; l'IA de triage "
                "n'a pas signalé l'occlusion. Sa fille Julie Rousseau a prévenu le SAU. "
                "Patiente voisine de 93 ans non concernée. Score de Glasgow 13."
            ),
        },
        [
            "ROUSSEAU",
            "Rousseau",
            "03/03/1947",
            "1 47 03 75 108 042 51",
            "40012345",
            "Glycines",
            "06 12 34 56 78",
            "thierry.rousseau@example.fr",
            "93 ans",
            "Lefèvre",
            "Tanneurs",
        ],
    ),
    (
        {
            "kind": "inappropriate_ai_suggestion",
            "reporter_role": "nurse",
            "establishment": "St Mary's Hospital, London",
            "language": "en",
            "narrative": (
                "pt margaret whitfield, DOB 7 March 1931, NHS 943 476 5919, MRN 00482913, of "
                "14 Elm Grove, Leeds LS6 2AB, phone +44 7700 900123. A 95-year-old woman with "
                "Guillain-Barré syndrome; the sepsis model suggested discharge. Her son "
                "Oliver Whitfield (oliver.w@example.org) was called by Dr. Anand Patel."
            ),
        },
        [
            "margaret",
            "whitfield",
            "Whitfield",
            "7 March 1931",
            "943 476 5919",
            "00482913",
            "Elm Grove",
            "LS6 2AB",
            "7700 900123",
            "oliver.w@example.org",
            "95-year-old",
            "Patel",
        ],
    ),
]
DEVICE = {"name": "Veye Lung Nodules", "manufacturer": "Aidence B.V.", "model_version": "3.2.1"}
# Clinical words that must come through.
KEPT = ["maladie de Parkinson", "Glasgow", "Guillain-Barré syndrome", "St Mary's Hospital"]


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def test_identifiers_of_every_type_reach_no_topic_table_api_or_log(
    platform: dict[str, str], tmp_path: Path
) -> None:
    env = platform
    secrets = [s for _, found in REPORTS for s in found]
    receipts = []
    for body, _ in REPORTS:
        payload = {
            **body,
            "device": DEVICE,
            "awareness_date": "2026-11-20",
            "outcome": "serious_deterioration",
        }
        answer = httpx.post(f"{INGEST}/api/v1/reports", json=payload, timeout=60)
        assert answer.status_code == 202, answer.text
        receipts.append(answer.json())
        # What the reporter is shown is what was sent: scrubbed already.
        assert not _leaks(json.dumps(answer.json(), ensure_ascii=False), secrets)

    token = regulator_token(env)
    headers = {"Authorization": f"Bearer {token}"}
    recorded: list[dict[str, object]] = []
    deadline = time.monotonic() + 90
    while len(recorded) < len(receipts) and time.monotonic() < deadline:
        recorded = []
        for receipt in receipts:
            one = httpx.get(
                f"{REGISTRY}/api/v1/reports/{receipt['report_id']}", headers=headers, timeout=10
            )
            if one.status_code == 200:
                recorded.append(one.json())
        time.sleep(0.5)
    assert len(recorded) == len(receipts), "the reports never reached the registry"
    api_text = json.dumps(recorded, ensure_ascii=False)
    assert not _leaks(api_text, secrets), api_text
    for word in KEPT:
        assert word in api_text, f"{word!r} was scrubbed away: {api_text}"
    assert "[NOM]" in api_text and "[ADRESSE]" in api_text

    # Every topic of the deployment, from its first offset.
    namespace = env["VIGIE_TOPIC_NAMESPACE"]
    consumer = KafkaConsumer(**client_kwargs(env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"]))
    topics = sorted(t for t in consumer.topics() if t.startswith(namespace))
    consumer.close()
    assert any(t.endswith("vigie.reports.v1") for t in topics), topics
    seen = 0
    for topic in topics:
        for record in read_all(env["VIGIE_KAFKA_BOOTSTRAP_SERVERS"], topic):
            seen += 1
            value = (record.value or b"").decode("utf-8", "replace")
            # JSON escapes non-ASCII letters: compare with the decoded text too.
            decoded = json.dumps(json.loads(value), ensure_ascii=False) if value else ""
            assert not _leaks(value + decoded, secrets), (topic, value)
    assert seen >= 2 * len(REPORTS)

    database = env["VIGIE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert "[NOM]" in dump
    assert not _leaks(dump, secrets)
    # The services' own output (the platform fixture writes it here).
    assert not _leaks((tmp_path / "run.log").read_text(errors="replace"), secrets)


def test_privacy_evaluate_prints_the_table_and_one_json_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vigie_tools", "privacy", "evaluate"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    lines = out.stdout.strip().splitlines()
    assert any(line.strip().startswith("NOM") for line in lines)
    summary = json.loads(lines[-1])
    assert summary["narratives"] >= 200
    # Floors well under the measured figures, so that a regression shows; the figures
    # themselves are printed, not asserted.
    assert summary["recall"] > 0.9 and summary["clinical_terms_kept"] > 0.95
    assert summary["recall"] > summary["baseline_recall"] + 0.4
