"""`vigie train` and `vigie evaluate`: rebuild the triage model, print what it is worth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from services.triage.model import DEFAULT_MODEL_DIR, ModelLoadError, TriageModel
from services.triage.model.artefact import read_evaluation
from services.triage.model.category import CategoryParams, category_index
from services.triage.model.dataset import (
    AIID_TAXONOMY_FILE,
    MAUDE_FILE,
    load_aiid,
    load_labelled_file,
    load_maude,
    project_data_dir,
    read_feedback,
)
from services.triage.model.evaluation import (
    category_metrics,
    evaluate_categories_over_time,
    evaluate_families,
    read_handwritten,
    severity_metrics,
    transfer_on_maude,
)
from services.triage.model.features import NarrativeFeatures
from services.triage.model.progress import Progress
from services.triage.model.rendering import (
    category_time_lines,
    family_table,
    severity_table,
    summary,
    target_lines,
    transfer_summary,
    transfer_table,
    transfer_target_lines,
)
from services.triage.model.selection import candidates
from services.triage.model.severity import SeverityParams, label_index
from services.triage.model.training import TrainParams, sample, train

_BATCH = 4096


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _fail(message: str) -> int:
    sys.stderr.write(f"vigie: {message}\n")
    return 2


def run_train(args: argparse.Namespace) -> int:
    """``vigie train``: rebuild the artefact from data/ (and reviewer feedback)."""
    data_dir = Path(args.data_dir)
    feedback = []
    if args.feedback:
        try:
            feedback = read_feedback(Path(args.feedback))
        except (OSError, ValueError) as exc:
            return _fail(str(exc))
    if not args.no_kafka_feedback:
        from services.triage.feedback import fetch_feedback
        from vigie.kafka import TopicUnavailable
        from vigie.settings import CommonSettings

        settings = CommonSettings()
        try:
            from_kafka = fetch_feedback(settings, timeout_s=5.0)
        except TopicUnavailable as exc:
            # Training must work offline (a fresh clone, CI): say it, and go on without.
            sys.stderr.write(
                f"vigie: reviewer feedback not read from Kafka ({exc}); training on data/ only\n"
            )
        else:
            sys.stderr.write(
                f"reviewer feedback: {len(from_kafka)} decisions from "
                f"{settings.topics.triage_feedback}\n"
            )
            # A decision in a file given explicitly wins over the topic's for the same report.
            given = {f.report_id for f in feedback}
            feedback = [*feedback, *(f for f in from_kafka if f.report_id not in given)]
    params = TrainParams(max_reports=args.max_reports)
    try:
        report = train(
            data_dir=data_dir,
            out_dir=Path(args.out),
            feedback=feedback,
            progress=Progress(),
            params=params,
            evaluate=not args.skip_evaluation,
        )
    except FileNotFoundError as exc:
        return _fail(f"training data missing: {exc}")
    _out(f"model {report.version} written to {report.out_dir}")
    if "severity" in report.evaluation:
        _out()
        for line in severity_table(
            report.evaluation["severity"], title="severity, leave-one-device-family-out"
        ):
            _out(line)
    _out(
        json.dumps(
            {
                "model_version": report.version,
                "out_dir": str(report.out_dir),
                "seconds": round(report.seconds, 1),
                "reports": report.reports,
                "feedback": report.feedback,
                "artefact_bytes": report.artefact_bytes,
            },
            sort_keys=True,
        )
    )
    return 0


def _predict_labels(model: TriageModel, texts: list[str]) -> tuple[Any, Any]:
    probabilities = []
    for start in range(0, len(texts), _BATCH):
        probabilities.append(model.severity.probabilities(texts[start : start + _BATCH]))
    p = np.vstack(probabilities) if probabilities else np.zeros((0, 4))
    return p, model.severity.decide(p)


def _print_stored(model: TriageModel, evaluation: dict[str, Any]) -> dict[str, Any]:
    sev = evaluation.get("severity")
    if sev is None:
        raise ModelLoadError(
            f"the artefact of {model.version} was trained without evaluation; run `vigie train`"
        )
    _out(f"model {model.version}")
    _out()
    for line in severity_table(sev, title="severity, leave-one-device-family-out (MAUDE)"):
        _out(line)
    for line in target_lines(sev):
        _out(line)
    _out()
    for line in family_table(sev["families"]):
        _out(line)
    op = evaluation["operating_point"]
    _out()
    _out(
        f"shipped model operating point: P(death) >= {op['death_at']:.3f}, "
        f"P(death)+P(serious) >= {op['critical_at']:.3f}"
    )
    transfer = evaluation.get("transfer")
    if transfer is not None:
        _print_transfer(transfer)
    cat = evaluation.get("category")
    if cat:
        _out()
        _out(
            f"category ({cat['scheme']}): macro-F1 {cat['macro_f1']:.3f}, "
            f"accuracy {cat['accuracy']:.3f}, {cat['n']} incidents"
        )
    over_time = evaluation.get("category_over_time")
    if over_time:
        for line in category_time_lines(over_time):
            _out(line)
    hw = evaluation.get("handwritten", {})
    for lang in sorted(hw):
        h = hw[lang]
        _out(
            f"hand-written {lang}: {h['n']} narratives, accuracy {h['accuracy']:.3f}, "
            f"Death recall {h['death_recall']:.3f}, critical recall {h['critical_recall']:.3f}, "
            f"no harm read as no harm {h['no_harm_read_as_no_harm']:.3f}, "
            f"category accuracy {h['category_accuracy']:.3f}"
        )
    figures = summary(sev)
    figures["scheme"] = sev["scheme"]
    figures["handwritten"] = {
        lang: {
            k: round(hw[lang][k], 4)
            for k in ("accuracy", "death_recall", "critical_recall", "no_harm_read_as_no_harm")
        }
        for lang in sorted(hw)
    }
    if cat:
        figures["category_macro_f1"] = round(cat["macro_f1"], 4)
    if transfer is not None:
        figures["transfer"] = transfer_summary(transfer)
    if over_time:
        figures["category_over_time"] = _category_summary(over_time)
    return figures


def _category_summary(c: dict[str, Any]) -> dict[str, float]:
    return {name: round(m["macro_f1"], 4) for name, m in c["results"].items()}


def _evaluate_categories(model: TriageModel, path: Path, taxonomy: Path) -> dict[str, Any]:
    """The shipped category head and the time-ordered comparison on an AIID-shaped file."""
    data = load_aiid(path, taxonomy)
    if not data.texts:
        raise ValueError(f"no incident of {path} has an MIT risk subdomain in {taxonomy}")
    y = category_index(data.labels)
    shipped = category_metrics(y, model.category.probabilities(data.texts).argmax(axis=1))
    _out(f"model {model.version}, category head on {path} ({len(y)} incidents)")
    _out(
        f"shipped category head: macro-F1 {shipped['macro_f1']:.3f}, accuracy "
        f"{shipped['accuracy']:.3f} (in-sample if the file is the project's own AIID file)"
    )
    over_time = evaluate_categories_over_time(data, CategoryParams(**_category_params(model)))
    for line in category_time_lines(over_time):
        _out(line)
    return {
        "incidents": len(y),
        "shipped_macro_f1": round(shipped["macro_f1"], 4),
        "category_over_time": _category_summary(over_time),
        "category_clinical": {
            name: round(m["macro_f1"], 4) for name, m in over_time["clinical"].items()
        },
        "data": str(path),
    }


def _print_transfer(transfer: dict[str, Any]) -> None:
    _out()
    for line in transfer_table(transfer):
        _out(line)
    _out()
    for line in transfer_target_lines(transfer):
        _out(line)


def run_evaluate(args: argparse.Namespace) -> int:
    """``vigie evaluate``: the shipped model's figures, or its figures on a labelled file."""
    try:
        model = TriageModel.load(Path(args.model_dir))
    except ModelLoadError as exc:
        return _fail(str(exc))
    figures: dict[str, Any]
    if args.category_data:
        path = Path(args.category_data)
        taxonomy = Path(args.category_taxonomy or Path(args.data_dir) / AIID_TAXONOMY_FILE)
        try:
            figures = _evaluate_categories(model, path, taxonomy)
        except (OSError, ValueError, KeyError) as exc:
            return _fail(f"cannot evaluate the category head on {path}: {exc}")
    elif args.data:
        path = Path(args.data)
        try:
            data = load_labelled_file(path)
        except (OSError, ValueError, KeyError, EOFError) as exc:
            return _fail(f"cannot read {path}: {exc}")
        if len(data) == 0:
            return _fail(f"{path} has no row labelled Death, Injury, Malfunction or Other")
        p, decided = _predict_labels(model, data.texts)
        m = severity_metrics(label_index(data.labels), decided, p)
        _out(f"model {model.version} on {path} ({len(data)} labelled reports)")
        _out()
        for line in severity_table(m, title=f"severity on {path.name}"):
            _out(line)
        figures = summary(m)
        figures["data"] = str(path)
    elif args.cv:
        progress = Progress()
        progress.stage("re-running the leave-one-family-out evaluation from data/")
        maude = sample(load_maude(Path(args.data_dir) / MAUDE_FILE), args.sample)
        params = SeverityParams(**_severity_params(model))
        counter = NarrativeFeatures(cue_weight=params.cue_weight)
        counts, cues = counter.learn_counts(maude.analysed(per_field=params.per_field))
        y = label_index(maude.labels)
        m = evaluate_families(
            counter.vocabulary,
            counts,
            cues,
            y,
            maude.groups,
            maude.weights,
            params,
            progress=progress.step,
        )
        for line in severity_table(m, title="severity, leave-one-device-family-out (re-run)"):
            _out(line)
        progress.stage("the shipped recipe and the baseline on every transfer split")
        transfer = transfer_on_maude(
            maude,
            params,
            read_handwritten(),
            candidates=candidates(params) if args.select else None,
            inner_rows=args.inner_rows,
            progress=progress.step,
        )
        _print_transfer(transfer)
        figures = summary(m)
        figures["scheme"] = m["scheme"]
        figures["reports_sampled"] = len(maude)
        figures["transfer"] = transfer_summary(transfer)
    else:
        try:
            figures = _print_stored(model, read_evaluation(Path(args.model_dir)))
        except ModelLoadError as exc:
            return _fail(str(exc))
    figures["model_version"] = model.version
    _out(json.dumps(figures, sort_keys=True))
    return 0


def _stored_params(model: TriageModel, part: str, known: dict[str, Any]) -> dict[str, Any]:
    stored = model.manifest.params.get(part, {}) if model.manifest else {}
    return {k: stored[k] for k in known if k in stored}


def _severity_params(model: TriageModel) -> dict[str, Any]:
    return _stored_params(model, "severity", SeverityParams().as_dict())


def _category_params(model: TriageModel) -> dict[str, Any]:
    return _stored_params(model, "category", CategoryParams().as_dict())


def add_cli(subparsers: Any) -> None:
    """Register ``vigie train`` and ``vigie evaluate``."""
    data_default = str(project_data_dir())
    trainer = subparsers.add_parser(
        "train", help="rebuild the triage model from data/ (and reviewer feedback)"
    )
    trainer.add_argument("--data-dir", default=data_default, help="folder with maude/ and aiid/")
    trainer.add_argument("--out", default=str(DEFAULT_MODEL_DIR), help="artefact directory")
    trainer.add_argument(
        "--feedback", default=None, help="JSON lines of TriageFeedback events to learn from"
    )
    trainer.add_argument(
        "--no-kafka-feedback",
        action="store_true",
        help="do not read reviewer decisions from the feedback topic (reproduce the shipped model)",
    )
    trainer.add_argument(
        "--max-reports", type=int, default=None, help="train on a stratified sample (quick runs)"
    )
    trainer.add_argument(
        "--skip-evaluation", action="store_true", help="no cross-validation (quick runs)"
    )
    trainer.set_defaults(func=run_train)

    evaluator = subparsers.add_parser(
        "evaluate", help="print the triage model's evaluation, or evaluate it on a labelled file"
    )
    evaluator.add_argument("--model-dir", default=str(DEFAULT_MODEL_DIR))
    evaluator.add_argument(
        "--data",
        default=None,
        help="CSV (optionally .gz) with MAUDE's columns: event_description, "
        "manufacturer_narrative, event_type",
    )
    evaluator.add_argument(
        "--cv", action="store_true", help="re-run the family cross-validation from data/"
    )
    evaluator.add_argument(
        "--select",
        action="store_true",
        help="with --cv: also choose among the severity candidates by nested validation "
        "(inner folds pick, outer folds score) and judge that choice against the targets",
    )
    evaluator.add_argument(
        "--inner-rows",
        type=int,
        default=None,
        help="with --select: reports sampled for the inner folds (default 4000)",
    )
    evaluator.add_argument(
        "--sample",
        type=int,
        default=None,
        help="with --cv: a stratified sample of this many MAUDE reports (quick runs)",
    )
    evaluator.add_argument(
        "--category-data",
        default=None,
        help="AIID incidents CSV (incident_id, date, title, description): the category head on "
        "it and a time-ordered split (older incidents train, newer ones test)",
    )
    evaluator.add_argument(
        "--category-taxonomy",
        default=None,
        help="MIT risk classification of those incidents (default: data/aiid's)",
    )
    evaluator.add_argument("--data-dir", default=data_default)
    evaluator.set_defaults(func=run_evaluate)
