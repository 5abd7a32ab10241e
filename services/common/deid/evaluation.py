"""How well the scrubber does on a labelled corpus: recall per identifier type, clinical terms
kept, and what it removed that was not an identifier.

An identifier counts as caught only if every letter and digit of it was replaced: a surname
left beside a caught given name is a leak. A clinical term counts as kept only if none of its
letters or digits was replaced.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.common.deid.engine import Entity, Scrubber
from services.common.deid.patterns import ENTITY_TYPES

CORPUS_DIR = Path(__file__).resolve().parents[3] / "data" / "privacy"


@dataclass(frozen=True)
class Span:
    """A labelled span of a corpus text."""

    start: int
    end: int
    type: str
    text: str


@dataclass(frozen=True)
class Narrative:
    """One labelled text of the corpus."""

    id: str
    lang: str
    field: str
    split: str
    text: str
    identifiers: tuple[Span, ...]
    keep: tuple[Span, ...]


def default_corpus() -> list[Path]:
    """The corpus files shipped in ``data/privacy``."""
    return sorted(CORPUS_DIR.glob("narratives-*.jsonl"))


def load_corpus(paths: Iterable[Path]) -> list[Narrative]:
    """Read JSON-lines corpus files; raises ``ValueError`` naming a malformed line."""
    out: list[Narrative] = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
                identifiers = tuple(
                    Span(s["start"], s["end"], s["type"], s["text"]) for s in row["identifiers"]
                )
                keep = tuple(
                    Span(s["start"], s["end"], "KEEP", s["text"]) for s in row.get("keep", [])
                )
                for span in identifiers + keep:
                    if text[span.start : span.end] != span.text:
                        raise ValueError(f"span {span.text!r} does not match the text")
                out.append(
                    Narrative(
                        id=str(row["id"]),
                        lang=str(row.get("lang", "fr")),
                        field=str(row.get("field", "narrative")),
                        split=str(row.get("split", "test")),
                        text=text,
                        identifiers=identifiers,
                        keep=keep,
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from exc
    return out


def _covered(text: str, span: Span, found: Sequence[Entity]) -> tuple[int, int]:
    """How many of ``span``'s letters and digits are inside a found entity, out of how many."""
    positions = [i for i in range(span.start, span.end) if text[i].isalnum()]
    hit = sum(1 for i in positions if any(e.start <= i < e.end for e in found))
    return hit, len(positions)


@dataclass
class Report:
    """The figures of one evaluation."""

    narratives: int = 0
    found: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    partial: Counter[str] = field(default_factory=Counter)
    keep_total: int = 0
    keep_kept: int = 0
    extra_spans: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[dict[str, str]] = field(default_factory=list)
    lost_terms: list[dict[str, str]] = field(default_factory=list)
    extras: list[dict[str, str]] = field(default_factory=list)

    def recall(self, entity: str | None = None) -> float:
        if entity is None:
            total = sum(self.total.values())
            return sum(self.found.values()) / total if total else 1.0
        return self.found[entity] / self.total[entity] if self.total[entity] else 1.0

    @property
    def kept(self) -> float:
        return self.keep_kept / self.keep_total if self.keep_total else 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "narratives": self.narratives,
            "identifiers": sum(self.total.values()),
            "recall": round(self.recall(), 4),
            "recall_by_type": {t: round(self.recall(t), 4) for t in ENTITY_TYPES if self.total[t]},
            "clinical_terms": self.keep_total,
            "clinical_terms_kept": round(self.kept, 4),
            "replacements_outside_identifiers": self.extra_spans,
            "latency_ms_median": round(statistics.median(self.latencies_ms), 2)
            if self.latencies_ms
            else None,
        }


def evaluate(scrubber: Scrubber, narratives: Sequence[Narrative]) -> Report:
    """Scrub every narrative and compare with its labels."""
    report = Report()
    for narrative in narratives:
        started = time.perf_counter()
        found = scrubber.entities(narrative.text, language=narrative.lang)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        report.narratives += 1
        text = narrative.text
        for span in narrative.identifiers:
            hit, size = _covered(text, span, found)
            report.total[span.type] += 1
            if hit == size:
                report.found[span.type] += 1
            else:
                if hit:
                    report.partial[span.type] += 1
                report.misses.append({"id": narrative.id, "type": span.type, "text": span.text})
        for span in narrative.keep:
            hit, _ = _covered(text, span, found)
            report.keep_total += 1
            if hit == 0:
                report.keep_kept += 1
            else:
                report.lost_terms.append({"id": narrative.id, "text": span.text})
        for entity in found:
            if not any(
                entity.start < s.end and s.start < entity.end for s in narrative.identifiers
            ):
                report.extra_spans += 1
                report.extras.append(
                    {
                        "id": narrative.id,
                        "type": entity.entity,
                        "text": text[entity.start : entity.end],
                        "source": entity.source,
                    }
                )
    return report


def render(report: Report, title: str) -> list[str]:
    """The table of one report."""
    lines = [
        f"{title}: {report.narratives} texts, {sum(report.total.values())} identifiers, "
        f"{report.keep_total} clinical terms",
        f"  {'type':<16}{'caught':>8}{'of':>6}{'recall':>9}{'partial':>9}",
    ]
    for entity in ENTITY_TYPES:
        if report.total[entity]:
            lines.append(
                f"  {entity:<16}{report.found[entity]:>8}{report.total[entity]:>6}"
                f"{report.recall(entity):>9.3f}{report.partial[entity]:>9}"
            )
    lines.append(
        f"  {'all':<16}{sum(report.found.values()):>8}{sum(report.total.values()):>6}"
        f"{report.recall():>9.3f}{sum(report.partial.values()):>9}"
    )
    lines.append(
        f"  clinical terms kept {report.keep_kept}/{report.keep_total} ({report.kept:.3f}); "
        f"replacements outside any identifier: {report.extra_spans}"
    )
    return lines
