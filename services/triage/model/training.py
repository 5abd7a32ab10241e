"""`vigie train`: rebuild the triage model from the project's own data files, evaluate it, save it.

The version of the result is ``triage-`` followed by the first 12 hex digits of the SHA-256 of
the training data (files and reviewer feedback), the parameters and the source of the modules and
lexicons that define features and models: same inputs, same version (see ``version``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from services.triage.model import artefact
from services.triage.model.card import render_card
from services.triage.model.category import CategoryParams, category_index, fit_category
from services.triage.model.dataset import (
    AIID_INCIDENTS_FILE,
    AIID_TAXONOMY_FILE,
    CATEGORY_OF_SUBDOMAIN,
    MAUDE_FILE,
    SeverityData,
    data_digest,
    feedback_categories,
    feedback_severity,
    load_aiid,
    load_maude,
)
from services.triage.model.evaluation import (
    evaluate_categories,
    evaluate_categories_over_time,
    evaluate_families,
    evaluate_handwritten,
    read_handwritten,
    severity_metrics,
    transfer_on_maude,
)
from services.triage.model.features import NarrativeFeatures, analyse_all
from services.triage.model.predictor import TriageModel
from services.triage.model.progress import Progress, Silent
from services.triage.model.severity import SeverityParams, fit_severity, label_index
from services.triage.model.version import model_version, source_digest
from vigie.contracts import TriageFeedback

FEEDBACK_GROUP = "reviewer-feedback"


@dataclass(frozen=True)
class TrainParams:
    """Parameters of a training run (all part of the model version)."""

    severity: SeverityParams = field(default_factory=SeverityParams)
    category: CategoryParams = field(default_factory=CategoryParams)
    imdrf_threshold: float = 0.5
    # Train on a stratified sample of at most this many MAUDE reports (tests); None: all.
    max_reports: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary for the manifest and the version hash."""
        return asdict(self)


@dataclass(frozen=True)
class TrainReport:
    """What a training run produced."""

    version: str
    out_dir: Path
    seconds: float
    reports: int
    feedback: int
    artefact_bytes: int
    evaluation: dict[str, Any]


def sample(data: SeverityData, limit: int | None) -> SeverityData:
    """A deterministic sample stratified by label (every class kept when it can be)."""
    if limit is None or limit >= len(data):
        return data
    rng = np.random.default_rng(0)
    chosen: list[int] = []
    share = limit / len(data)
    for label in sorted(set(data.labels.tolist())):
        rows = np.flatnonzero(data.labels == label)
        k = max(min(len(rows), 3), round(share * len(rows)))
        chosen.extend(rng.choice(rows, size=k, replace=False).tolist())
    return data.subset(sorted(chosen))


def train(
    *,
    data_dir: Path,
    out_dir: Path,
    feedback: Sequence[TriageFeedback] = (),
    progress: Progress | None = None,
    params: TrainParams | None = None,
    evaluate: bool = True,
) -> TrainReport:
    """Train, evaluate and save the triage model; returns what was written.

    ``feedback`` (reviewers' decisions) adds labelled narratives, weighted up, to both models.
    """
    show = progress if progress is not None else Silent()
    chosen = params if params is not None else TrainParams()
    started = time.perf_counter()

    show.stage(f"reading MAUDE narratives from {data_dir / MAUDE_FILE} (de-duplicating)")
    maude = load_maude(data_dir / MAUDE_FILE)
    stats = maude.stats
    assert stats is not None
    show.stage(
        f"MAUDE: {stats.rows} rows, {stats.unlabelled} unlabelled, {stats.exact_duplicates} exact "
        f"and {stats.near_duplicates} near duplicates removed, {stats.kept} kept"
    )
    maude = sample(maude, chosen.max_reports)
    aiid = load_aiid(data_dir / AIID_INCIDENTS_FILE, data_dir / AIID_TAXONOMY_FILE)
    show.stage(f"AIID: {len(aiid.texts)} incidents with an MIT risk subdomain")
    data_sha, data_files = data_digest(data_dir, feedback)
    params_dict = {**chosen.as_dict(), "source_sha256": source_digest()}
    version = model_version(data_sha, params_dict)
    show.stage(f"model version {version}")

    sp_ = chosen.severity
    fb_texts, fb_labels, fb_weights = feedback_severity(feedback, weight=sp_.feedback_weight)
    texts = list(maude.texts) + fb_texts
    y = label_index(list(maude.labels) + fb_labels)
    groups = np.asarray(list(maude.groups) + [FEEDBACK_GROUP] * len(fb_texts), dtype=str)
    weights = np.concatenate([maude.weights, np.asarray(fb_weights, dtype=float)])
    is_feedback = np.r_[np.zeros(len(maude), dtype=bool), np.ones(len(fb_texts), dtype=bool)]

    show.stage(f"reading {len(texts)} narratives into features")
    counter = NarrativeFeatures(cue_weight=sp_.cue_weight)
    counts, cues = counter.learn_counts(
        maude.analysed(per_field=sp_.per_field) + analyse_all(fb_texts)
    )
    vocabulary = counter.vocabulary

    evaluation: dict[str, Any] = {"version": version}
    if evaluate:
        evaluation["severity"] = evaluate_families(
            vocabulary,
            counts,
            cues,
            y,
            groups,
            weights,
            sp_,
            always_train=is_feedback,
            progress=show.step,
        )
        show.stage("the shipped recipe and the baseline on every transfer split")
        evaluation["transfer"] = transfer_on_maude(
            maude, sp_, read_handwritten(), progress=show.step
        )
    show.stage("fitting the severity model on every family")
    severity, held = fit_severity(vocabulary, counts, cues, y, groups, weights, sp_)
    evaluation["validation"] = severity_metrics(held.y, severity.decide(held.probabilities), None)
    evaluation["operating_point"] = {
        "death_at": severity.death_at,
        "critical_at": severity.critical_at,
    }

    fc_texts, fc_labels = feedback_categories(feedback)
    cat_texts = list(aiid.texts) + fc_texts
    cat_y = category_index(list(aiid.labels) + fc_labels)
    cat_w = np.r_[np.ones(len(aiid.texts)), np.full(len(fc_texts), chosen.category.feedback_weight)]
    if evaluate:
        show.stage("cross-validating the category model on AIID incidents")
        evaluation["category"] = evaluate_categories(aiid, chosen.category)
        evaluation["category_over_time"] = evaluate_categories_over_time(aiid, chosen.category)
    show.stage("fitting the category model")
    category = fit_category(cat_texts, cat_y, cat_w, chosen.category)

    model = TriageModel(severity, category, version=version, imdrf_threshold=chosen.imdrf_threshold)
    if evaluate:
        show.stage("reading the hand-written French and English narratives")
        evaluation["handwritten"] = evaluate_handwritten(model, read_handwritten())
    seconds = time.perf_counter() - started
    evaluation["data"] = {
        "maude": stats.as_dict() | {"used": len(maude), "labels": maude.label_counts},
        "families": len(set(maude.groups.tolist())),
        "aiid": {
            "incidents": len(aiid.texts),
            "labels": {c: int((aiid.labels == c).sum()) for c in sorted(set(aiid.labels.tolist()))},
            "mapping": CATEGORY_OF_SUBDOMAIN,
        },
        "feedback": len(feedback),
    }
    evaluation["training_seconds"] = round(seconds, 1)
    show.stage(f"writing the artefact to {out_dir}")
    card = render_card(version=version, evaluation=evaluation, params=params_dict)
    artefact.write(
        out_dir,
        models=model.models(),
        evaluation=evaluation,
        card=card,
        version=version,
        data_sha256=data_sha,
        data_files=data_files,
        params=params_dict,
    )
    size = sum(f.stat().st_size for f in out_dir.iterdir() if f.is_file())
    show.stage(f"done: {version}, {size / 1e6:.1f} MB, {time.perf_counter() - started:.0f} s")
    return TrainReport(
        version=version,
        out_dir=out_dir,
        seconds=time.perf_counter() - started,
        reports=len(maude),
        feedback=len(feedback),
        artefact_bytes=size,
        evaluation=evaluation,
    )
