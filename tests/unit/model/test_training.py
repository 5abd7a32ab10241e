"""Training: de-duplication, deterministic versions, reviewer feedback."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from dataclasses import replace
from pathlib import Path

from services.triage.model import TriageModel
from services.triage.model.dataset import load_maude
from services.triage.model.severity import SeverityParams
from services.triage.model.training import TrainParams, train
from vigie.contracts import Language, ReportKind, Severity, TriageFeedback

from .conftest import MAUDE_COLUMNS, TINY_PARAMS

LONG = (
    "The manufacturer received information alleging an issue related to a CPAP device sound "
    "abatement foam. The patient alleged visualization of particles in the air path. There was "
    "no report of patient harm or injury. This issue was reported to the FDA per 21 CFR 806."
)


def _csv_gz(path: Path, rows: list[dict[str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MAUDE_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(gzip.compress(buffer.getvalue().encode()))
    return path


def _row(number: int, text: str, event_type: str = "Malfunction") -> dict[str, str]:
    return {
        "report_number": f"N-{number}",
        "date_received": f"2021-03-{number:02d}",
        "event_type": event_type,
        "device_family": "philips_cpap",
        "event_description": text,
        "manufacturer_narrative": "",
    }


def test_templated_narratives_are_removed_before_training(tmp_path: Path) -> None:
    rows = [
        _row(1, LONG),
        _row(2, LONG.upper().replace("21 CFR 806", "21 CFR 807")),  # exact after normalisation
        _row(3, LONG.replace("in the air path", "in the tubing")),  # near duplicate
        _row(4, LONG, event_type="Injury"),  # same words, other label: kept
        _row(5, "The ventilator fan failed during service; the patient was not harmed."),
        _row(6, "Unlabelled report.", event_type="No answer provided"),
    ]
    data = load_maude(_csv_gz(tmp_path / "m.csv.gz", rows))
    assert data.stats is not None
    assert data.stats.unlabelled == 1
    assert data.stats.exact_duplicates == 1
    assert data.stats.near_duplicates == 1
    assert data.stats.kept == 3
    assert sorted(data.labels.tolist()) == ["malfunction", "malfunction", "serious"]


def test_same_data_and_params_give_the_same_version(tiny_data: Path, tmp_path: Path) -> None:
    first = train(data_dir=tiny_data, out_dir=tmp_path / "a", params=TINY_PARAMS, evaluate=False)
    second = train(data_dir=tiny_data, out_dir=tmp_path / "b", params=TINY_PARAMS, evaluate=False)
    assert first.version == second.version
    assert TriageModel.load(tmp_path / "a").version == first.version
    manifests = [json.loads((tmp_path / d / "manifest.json").read_text()) for d in "ab"]
    assert manifests[0]["data_sha256"] == manifests[1]["data_sha256"]
    assert manifests[0]["params"] == manifests[1]["params"]


def test_other_params_give_another_version(tiny_data: Path, tmp_path: Path) -> None:
    other = replace(TINY_PARAMS, severity=SeverityParams(svm_c=1.0))
    base = train(data_dir=tiny_data, out_dir=tmp_path / "a", params=TINY_PARAMS, evaluate=False)
    changed = train(data_dir=tiny_data, out_dir=tmp_path / "b", params=other, evaluate=False)
    assert base.version != changed.version


def _feedback(narrative: str, decided: Severity, category: str | None = None) -> TriageFeedback:
    return TriageFeedback(
        report_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        kind=ReportKind.INAPPROPRIATE_AI_SUGGESTION,
        language=Language.FR,
        narrative=narrative,
        model_version="triage-000000000000",
        predicted_severity=Severity.MALFUNCTION,
        decided_severity=decided,
        predicted_category="malfunction",
        decided_category=category,
        reviewer_role="regulator",
        reason="Delayed diagnosis is a serious deterioration of health.",
    )


def test_reviewer_feedback_is_learned_and_changes_the_version(
    tiny_data: Path, tmp_path: Path
) -> None:
    feedback = [
        _feedback(
            f"Le logiciel n'a pas signalé un nodule de {size} mm ; diagnostic retardé de "
            "plusieurs mois, chimiothérapie nécessaire.",
            Severity.SERIOUS,
            "missed_finding",
        )
        for size in range(5, 25)
    ]
    base = train(data_dir=tiny_data, out_dir=tmp_path / "a", params=TINY_PARAMS, evaluate=False)
    learned = train(
        data_dir=tiny_data,
        out_dir=tmp_path / "b",
        feedback=feedback,
        params=TINY_PARAMS,
        evaluate=False,
    )
    assert learned.feedback == len(feedback)
    assert learned.version != base.version
    model = TriageModel.load(tmp_path / "b")
    [prediction] = model.predict(
        ["Le logiciel n'a pas signalé un nodule de 12 mm ; diagnostic retardé, chimiothérapie."],
        [ReportKind.INAPPROPRIATE_AI_SUGGESTION],
    )
    assert prediction.severity is Severity.SERIOUS
    assert prediction.category == "missed_finding"


def test_sample_for_quick_runs_keeps_every_class(tiny_data: Path, tmp_path: Path) -> None:
    report = train(
        data_dir=tiny_data,
        out_dir=tmp_path / "s",
        params=TrainParams(max_reports=60),
        evaluate=False,
    )
    assert report.reports <= 64
    labels = report.evaluation["data"]["maude"]["labels"]
    assert set(labels) == {"death", "serious", "malfunction", "other"}
