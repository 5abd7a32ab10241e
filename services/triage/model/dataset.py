"""Training data of the triage model: MAUDE narratives, AIID incidents, reviewer feedback.

Every file read here lives in the project (``data/maude``, ``data/aiid``; provenance and licences
in their README files), so that a fresh clone rebuilds the same model from the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.feature_extraction.text import HashingVectorizer

from services.triage.model.artefact import sha256
from services.triage.model.features import Analysed, analyse_all, analyse_fields
from services.triage.model.labels import CATEGORIES
from vigie.contracts import ReportKind, Severity, TriageFeedback

MAUDE_FILE = Path("maude") / "maude_narratives.csv.gz"
AIID_INCIDENTS_FILE = Path("aiid") / "aiid_incidents.csv"
AIID_TAXONOMY_FILE = Path("aiid") / "aiid_mit_taxonomy.csv"
TRAINING_FILES = (MAUDE_FILE, AIID_INCIDENTS_FILE, AIID_TAXONOMY_FILE)

# MAUDE's event type is the reporter's own classification of the outcome (FDA form 3500A, H1).
SEVERITY_OF_EVENT_TYPE = {
    "Death": Severity.DEATH,
    "Injury": Severity.SERIOUS,
    "Malfunction": Severity.MALFUNCTION,
    "Other": Severity.OTHER,
}

# Two narratives are near-duplicates when they share this fraction of their word 3-grams.
NEAR_DUPLICATE_JACCARD = 0.8


def project_data_dir() -> Path:
    """``data/`` at the root of the project checkout."""
    return Path(__file__).resolve().parents[3] / "data"


# --- MAUDE severity data ------------------------------------------------------------------


@dataclass(frozen=True)
class DedupStats:
    """What de-duplication removed, step by step."""

    rows: int
    unlabelled: int
    duplicate_report_numbers: int
    exact_duplicates: int
    near_duplicates: int
    kept: int

    def as_dict(self) -> dict[str, int]:
        """Plain dictionary for the training report and the model card."""
        return dict(self.__dict__)


@dataclass
class SeverityData:
    """Labelled narratives with the device family each came from."""

    texts: list[str]
    labels: NDArray[np.str_]
    groups: NDArray[np.str_]
    weights: NDArray[np.float64]
    stats: DedupStats | None = None
    label_counts: dict[str, int] = field(default_factory=dict)
    # Per-row columns the transfer splits use (``META_COLUMNS``); empty strings when unknown.
    meta: dict[str, NDArray[np.str_]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def analysed(self, *, per_field: bool) -> list[Analysed]:
        """Words and cues of each report: of its whole text, or field by field (``analyse_fields``).

        Rows without their fields (feedback, other files) are read whole, as a new report is.
        """
        if not per_field or "event_description" not in self.meta:
            return analyse_all(self.texts)
        events = self.meta["event_description"]
        manufacturers = self.meta.get("manufacturer_narrative", np.full(len(self), "", dtype=str))
        return [
            analyse_fields(str(e), str(m)) if str(e) or str(m) else analyse_all([t])[0]
            for e, m, t in zip(events, manufacturers, self.texts, strict=True)
        ]

    def subset(self, index: Sequence[int] | NDArray[np.intp]) -> SeverityData:
        """The rows at ``index``."""
        idx = np.asarray(index, dtype=np.intp)
        labels = self.labels[idx]
        return SeverityData(
            texts=[self.texts[i] for i in idx],
            labels=labels,
            groups=self.groups[idx],
            weights=self.weights[idx],
            stats=self.stats,
            label_counts=dict(sorted(Counter(labels.tolist()).items())),
            meta={k: v[idx] for k, v in self.meta.items()},
        )


# MAUDE columns kept beside each narrative: what a deployment's new reports differ by (the
# transfer splits), and the narrative's two fields (features read field by field).
META_COLUMNS = (
    "report_number",
    "manufacturer_name",
    "manufacturer_d_name",
    "date_received",
    "report_source_code",
    "event_description",
    "manufacturer_narrative",
)


def _meta(rows: Sequence[dict[str, str]]) -> dict[str, NDArray[np.str_]]:
    return {c: np.asarray([r.get(c, "") or "" for r in rows], dtype=str) for c in META_COLUMNS}


def maude_text(event_description: str, manufacturer_narrative: str) -> str:
    """The narrative the model reads: the event description, then the manufacturer's text."""
    return f"{event_description.strip()}\n{manufacturer_narrative.strip()}".strip()


_REDACTION = re.compile(r"\(\s*b\s*\)\s*\(\s*\d\s*\)", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_NON_WORD = re.compile(r"[^a-z0 ]+")


def normalised(text: str) -> str:
    """Lower case, redactions and numbers neutralised: the form duplicates are compared in."""
    text = _REDACTION.sub(" ", text.lower())
    text = _NON_WORD.sub(" ", _DIGITS.sub("0", text))
    return " ".join(text.split())


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file, gzip-compressed when its name ends in ``.gz``."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))


def _near_duplicates(texts: Sequence[str], labels: Sequence[str]) -> NDArray[np.bool_]:
    """Mask of rows that repeat, almost word for word, an earlier row with the same label.

    Greedy in row order: a row is dropped when its word 3-gram Jaccard similarity with an earlier
    *kept* row of the same label reaches ``NEAR_DUPLICATE_JACCARD``. Blockwise sparse products keep
    memory bounded; the exact greedy pass afterwards makes the result independent of blocking.
    """
    drop = np.zeros(len(texts), dtype=bool)
    shingles = HashingVectorizer(
        analyzer="word",
        ngram_range=(3, 3),
        n_features=2**22,
        binary=True,
        norm=None,
        alternate_sign=False,
        token_pattern=r"\S+",
        lowercase=False,
    )
    label_array = np.asarray(labels)
    for label in sorted(set(labels)):
        rows = np.flatnonzero(label_array == label)
        if len(rows) < 2:
            continue
        x = sp.csr_matrix(shingles.transform([texts[int(i)] for i in rows]), dtype=np.float32)
        sizes = np.asarray(x.sum(axis=1)).ravel()
        xt = x.T.tocsc()
        earlier: list[list[int]] = [[] for _ in rows]
        block = 1024
        for start in range(0, len(rows), block):
            stop = min(start + block, len(rows))
            inter = (x[start:stop] @ xt[:, :stop]).tocoo()
            keep = inter.col < inter.row + start
            i, j, v = inter.row[keep] + start, inter.col[keep], inter.data[keep]
            union = sizes[i] + sizes[j] - v
            similar = v >= NEAR_DUPLICATE_JACCARD * np.maximum(union, 1)
            for a, b in zip(i[similar], j[similar], strict=True):
                earlier[int(a)].append(int(b))
        kept = np.ones(len(rows), dtype=bool)
        for a in range(len(rows)):
            if any(kept[b] for b in earlier[a]):
                kept[a] = False
        drop[rows[~kept]] = True
    return drop


def load_maude(path: Path, *, deduplicate: bool = True) -> SeverityData:
    """MAUDE narratives with severity labels, de-duplicated, oldest report first."""
    raw = read_csv(path)
    raw.sort(key=lambda r: (r.get("date_received", ""), r.get("report_number", "")))
    labelled = [r for r in raw if r.get("event_type", "") in SEVERITY_OF_EVENT_TYPE]
    unlabelled = len(raw) - len(labelled)
    rows: list[dict[str, str]] = []
    seen_numbers: set[str] = set()
    for r in labelled:
        number = r.get("report_number", "")
        if deduplicate and number and number in seen_numbers:
            continue
        seen_numbers.add(number)
        rows.append(r)
    duplicate_numbers = len(labelled) - len(rows)
    texts = [maude_text(r["event_description"], r.get("manufacturer_narrative", "")) for r in rows]
    labels = [SEVERITY_OF_EVENT_TYPE[r["event_type"]].value for r in rows]
    exact = 0
    near = 0
    if deduplicate:
        # Exact duplicates (after normalisation) anywhere in the file: one per text and label.
        keys = [normalised(t) for t in texts]
        seen: set[tuple[str, str]] = set()
        unique = []
        for i, (key, label) in enumerate(zip(keys, labels, strict=True)):
            if (key, label) in seen or not key:
                continue
            seen.add((key, label))
            unique.append(i)
        exact = len(rows) - len(unique)
        rows = [rows[i] for i in unique]
        texts = [texts[i] for i in unique]
        labels = [labels[i] for i in unique]
        keys = [keys[i] for i in unique]
        drop = _near_duplicates(keys, labels)
        near = int(drop.sum())
        rows = [r for r, d in zip(rows, drop, strict=True) if not d]
        texts = [t for t, d in zip(texts, drop, strict=True) if not d]
        labels = [lab for lab, d in zip(labels, drop, strict=True) if not d]
    stats = DedupStats(
        rows=len(raw),
        unlabelled=unlabelled,
        duplicate_report_numbers=duplicate_numbers,
        exact_duplicates=exact,
        near_duplicates=near,
        kept=len(rows),
    )
    return SeverityData(
        texts=texts,
        labels=np.asarray(labels, dtype=str),
        groups=np.asarray([r.get("device_family", "") or "unknown" for r in rows], dtype=str),
        weights=np.ones(len(rows)),
        stats=stats,
        label_counts=dict(sorted(Counter(labels).items())),
        meta=_meta(rows),
    )


def load_labelled_file(path: Path) -> SeverityData:
    """Any labelled CSV with MAUDE's columns (for ``vigie evaluate --data``), not de-duplicated.

    Rows whose ``event_type`` is not one of Death, Injury, Malfunction, Other are skipped.
    """
    rows = read_csv(path)
    if rows and "event_type" not in rows[0]:
        raise ValueError(f"{path}: no event_type column")
    if rows and "event_description" not in rows[0]:
        raise ValueError(f"{path}: no event_description column")
    rows = [r for r in rows if r.get("event_type", "") in SEVERITY_OF_EVENT_TYPE]
    return SeverityData(
        texts=[
            maude_text(r.get("event_description", ""), r.get("manufacturer_narrative", ""))
            for r in rows
        ],
        labels=np.asarray([SEVERITY_OF_EVENT_TYPE[r["event_type"]].value for r in rows], dtype=str),
        groups=np.asarray([r.get("device_family", "") or "file" for r in rows], dtype=str),
        weights=np.ones(len(rows)),
        meta=_meta(rows),
    )


# --- AIID categories ----------------------------------------------------------------------

# MIT AI Risk Repository subdomain -> vigilance category. Subdomains about misuse by malicious
# actors, socio-economic harms and AI autonomy have no counterpart in a clinician's report and map
# to "other". "missed_finding" and "unsafe_recommendation" have no MIT subdomain: they are read
# from the incident text inside 7.3 (see ``refine_robustness``).
CATEGORY_OF_SUBDOMAIN = {
    "1.1": "bias_against_group",
    "1.2": "other",
    "1.3": "bias_against_group",
    "2.1": "privacy_or_security",
    "2.2": "privacy_or_security",
    "3.1": "false_or_misleading_output",
    "3.2": "false_or_misleading_output",
    "4.1": "other",
    "4.2": "other",
    "4.3": "other",
    "5.1": "over_reliance",
    "5.2": "over_reliance",
    "6.1": "other",
    "6.2": "other",
    "6.3": "other",
    "6.4": "other",
    "6.5": "other",
    "6.6": "other",
    "7.1": "other",
    "7.2": "other",
    "7.3": "malfunction",
    "7.4": "other",
    "7.5": "other",
    "7.6": "other",
}

_MISSED = re.compile(
    r"\b(fail(?:ed|s|ure)? to (?:detect|recogni[sz]e|identify|notice|flag|spot|see|stop|brake)"
    r"|did not (?:detect|recogni[sz]e|identify|notice|flag|see)|missed|overlooked"
    r"|undetected|false negatives?)\b",
    re.IGNORECASE,
)
_RECOMMEND = re.compile(
    r"\b(recommend\w*|advi[cs]\w*|suggest\w*|instruct\w*|prescri\w*|dos(?:e|age|ing)"
    r"|treatment plan|told (?:a |the )?(?:user|patient|driver)s? to)\b",
    re.IGNORECASE,
)


def refine_robustness(text: str) -> str:
    """Split MIT 7.3 (lack of capability or robustness) into the categories clinicians report.

    Weak labels from the incident's own words: a failure to detect is a missed finding, a harmful
    recommendation or advice an unsafe recommendation, anything else a malfunction.
    """
    if _MISSED.search(text):
        return "missed_finding"
    if _RECOMMEND.search(text):
        return "unsafe_recommendation"
    return "malfunction"


@dataclass
class CategoryData:
    """AIID incidents (title and description) with a vigilance category."""

    texts: list[str]
    labels: NDArray[np.str_]
    incident_ids: list[int]
    subdomains: list[str]
    # The incident's date as AIID gives it (ISO text; empty when unknown).
    dates: list[str] = field(default_factory=list)


def load_aiid(incidents: Path, taxonomy: Path) -> CategoryData:
    """AIID incidents joined with their MIT risk classification, one row per incident."""
    by_id: dict[int, dict[str, str]] = {}
    for r in read_csv(incidents):
        try:
            by_id[int(r["incident_id"])] = r
        except (KeyError, ValueError):
            continue
    texts: list[str] = []
    labels: list[str] = []
    ids: list[int] = []
    subdomains: list[str] = []
    dates: list[str] = []
    seen: set[int] = set()
    for t in read_csv(taxonomy):
        try:
            incident_id = int(t["Incident ID"])
        except (KeyError, ValueError):
            continue
        code = t.get("Risk Subdomain", "").split(" ", 1)[0].rstrip(".")
        if incident_id in seen or incident_id not in by_id or code not in CATEGORY_OF_SUBDOMAIN:
            continue
        seen.add(incident_id)
        incident = by_id[incident_id]
        text = f"{incident.get('title', '').strip()}. {incident.get('description', '').strip()}"
        category = CATEGORY_OF_SUBDOMAIN[code]
        if category == "malfunction":
            category = refine_robustness(text)
        texts.append(text)
        labels.append(category)
        ids.append(incident_id)
        subdomains.append(code)
        dates.append(incident.get("date", "") or "")
    order = np.argsort(ids, kind="stable")
    return CategoryData(
        texts=[texts[i] for i in order],
        labels=np.asarray([labels[i] for i in order], dtype=str),
        incident_ids=[ids[i] for i in order],
        subdomains=[subdomains[i] for i in order],
        dates=[dates[i] for i in order],
    )


# --- reviewer feedback --------------------------------------------------------------------


def read_feedback(path: Path) -> list[TriageFeedback]:
    """TriageFeedback events from a JSON-lines file (blank lines ignored)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(TriageFeedback.model_validate_json(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a TriageFeedback event: {exc}") from exc
    return out


def feedback_severity(
    feedback: Iterable[TriageFeedback], *, weight: float
) -> tuple[list[str], list[str], list[float]]:
    """Narratives and decided severities of reviewed reports, each with the given weight."""
    texts, labels, weights = [], [], []
    for f in feedback:
        texts.append(f.narrative)
        labels.append(f.decided_severity.value)
        weights.append(weight)
    return texts, labels, weights


def feedback_categories(feedback: Iterable[TriageFeedback]) -> tuple[list[str], list[str]]:
    """Narratives and decided categories of reviewed inappropriate-AI-suggestion reports."""
    texts, labels = [], []
    for f in feedback:
        if f.kind is ReportKind.INAPPROPRIATE_AI_SUGGESTION and f.decided_category in CATEGORIES:
            texts.append(f.narrative)
            labels.append(str(f.decided_category))
    return texts, labels


# --- provenance ---------------------------------------------------------------------------


def data_digest(data_dir: Path, feedback: Sequence[TriageFeedback]) -> tuple[str, dict[str, str]]:
    """One hash of every training file and of the feedback, and the hash of each file."""
    files = {str(name): sha256(data_dir / name) for name in TRAINING_FILES}
    h = hashlib.sha256()
    for name, digest in sorted(files.items()):
        h.update(f"{name}={digest}\n".encode())
    for f in sorted(feedback, key=lambda f: str(f.event_id)):
        h.update(json.dumps(f.model_dump(mode="json"), sort_keys=True).encode())
        h.update(b"\n")
    if feedback:
        files["feedback"] = f"{len(feedback)} events"
    return h.hexdigest(), files
