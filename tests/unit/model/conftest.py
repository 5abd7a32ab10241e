"""Fixtures of the triage model tests: the shipped artefact, and a tiny data folder to train on."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest

from services.triage.model import DEFAULT_MODEL_DIR, TriageModel
from services.triage.model.training import TrainParams, train

MAUDE_COLUMNS = [
    "report_number",
    "date_received",
    "event_type",
    "device_family",
    "event_description",
    "manufacturer_narrative",
]

_DEVICES = {
    "pumps": ["infusion pump", "syringe pump", "insulin pump", "feeding pump"],
    "implants": ["hip implant", "knee implant", "breast implant", "pelvic mesh"],
    "leads": ["defibrillator lead", "pacemaker lead", "cardiac lead", "sensing lead"],
}
_NARRATIVES = {
    "Death": [
        "The patient died after the {d} stopped during the night.",
        "It was reported that the patient expired; the {d} had failed.",
        "The family reported the patient is deceased following a {d} problem.",
    ],
    "Injury": [
        "The {d} failed and the patient underwent revision surgery.",
        "The patient was hospitalized with severe pain caused by the {d}.",
        "Surgery was required to explant the {d} after an infection.",
        "The {d} fractured and the patient was admitted to intensive care.",
    ],
    "Malfunction": [
        "The {d} alarm sounded during service; no patient involvement or adverse consequences.",
        "The {d} was returned to the manufacturer for evaluation. There was no patient harm.",
        "A crack was found on the {d} before use, no injury reported.",
        "The {d} display froze during inspection; device replaced, no harm.",
    ],
    "Other": ["Information about the {d} was received from a lawyer."],
}

AIID_TEXTS = {
    "1.1": "Hiring algorithm discriminated against women applicants {i}",
    "1.3": "Face recognition works worse on darker skin tones {i}",
    "2.1": "Chatbot leaked private personal data of users {i}",
    "3.1": "Chatbot gave false and misleading answers about history {i}",
    "4.3": "Deepfake voice used in a fraud scam against a bank {i}",
    "5.1": "Drivers relied blindly on the autopilot and stopped checking {i}",
    "7.3": "Robot arm malfunctioned and broke down in the warehouse {i}",
    "7.3m": "Camera system failed to detect a pedestrian crossing {i}",
    "7.3r": "Assistant recommended a dangerous dose of medicine {i}",
}


def write_tiny_data(root: Path) -> Path:
    """A data folder shaped like the project's (maude/, aiid/) with a few hundred rows."""
    (root / "maude").mkdir(parents=True)
    (root / "aiid").mkdir()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MAUDE_COLUMNS)
    writer.writeheader()
    number = 0
    for family, devices in _DEVICES.items():
        for event_type, templates in _NARRATIVES.items():
            for template in templates:
                for device in devices:
                    number += 1
                    writer.writerow(
                        {
                            "report_number": f"R-{number:05d}",
                            "date_received": f"2020-01-{1 + number % 28:02d}",
                            "event_type": event_type,
                            "device_family": family,
                            "event_description": template.format(d=device),
                            "manufacturer_narrative": f"Lot {number}.",
                        }
                    )
    # Templated copies that de-duplication must remove: exact and near-identical.
    for copy in range(3):
        writer.writerow(
            {
                "report_number": f"C-{copy}",
                "date_received": "2021-01-01",
                "event_type": "Malfunction",
                "device_family": "pumps",
                "event_description": "The infusion pump alarm sounded during service; "
                "no patient involvement or adverse consequences.",
                "manufacturer_narrative": f"Lot {1000 + copy}.",
            }
        )
    (root / "maude" / "maude_narratives.csv.gz").write_bytes(
        gzip.compress(buffer.getvalue().encode(), mtime=0)
    )
    incidents = io.StringIO()
    taxonomy = io.StringIO()
    iw = csv.DictWriter(incidents, fieldnames=["incident_id", "title", "description"])
    tw = csv.DictWriter(taxonomy, fieldnames=["Incident ID", "Risk Subdomain"])
    iw.writeheader()
    tw.writeheader()
    incident = 0
    for code, text in AIID_TEXTS.items():
        for i in range(4):
            incident += 1
            iw.writerow({"incident_id": incident, "title": text.format(i=i), "description": ""})
            tw.writerow({"Incident ID": incident, "Risk Subdomain": f"{code[:3]}. subdomain"})
    (root / "aiid" / "aiid_incidents.csv").write_text(incidents.getvalue())
    (root / "aiid" / "aiid_mit_taxonomy.csv").write_text(taxonomy.getvalue())
    return root


@pytest.fixture(scope="session")
def shipped_model() -> TriageModel:
    """The artefact committed with the project."""
    return TriageModel.load(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny data folder to train on in a second."""
    return write_tiny_data(tmp_path_factory.mktemp("data"))


TINY_PARAMS = TrainParams()


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artefact trained and evaluated on the tiny data folder."""
    out = tmp_path_factory.mktemp("model")
    train(data_dir=tiny_data, out_dir=out, params=TINY_PARAMS)
    return out
