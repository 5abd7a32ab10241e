"""`vigie privacy evaluate`: how much of a labelled corpus's identifiers the scrubber removes,
how many clinical terms it keeps, beside the label-and-title patterns it replaced."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from services.common.deid import Entity, ScrubberUnavailable, load_scrubber
from services.common.deid.evaluation import (
    Narrative,
    Report,
    default_corpus,
    evaluate,
    load_corpus,
    render,
)


class _LabelledPatterns:
    """The baseline: the patterns of the previous release (labels and courtesy titles only),
    read as spans so that they are scored like the scrubber."""

    def entities(self, text: str, *, language: str = "fr") -> list[Entity]:
        from vigie.rules import privacy

        spans: list[Entity] = []
        for pattern in privacy._IDENTIFIER_PATTERNS:
            for match in pattern.finditer(text):
                start, end = match.span("id")
                spans.append(Entity(start, end, "NOM", 1.0, "baseline"))
        return spans


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run_evaluate(args: argparse.Namespace) -> int:
    """``vigie privacy evaluate``."""
    paths = [Path(p) for p in args.data] if args.data else default_corpus()
    if not paths:
        sys.stderr.write("vigie: no corpus: data/privacy/narratives-*.jsonl is missing\n")
        return 2
    try:
        corpus = load_corpus(paths)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"vigie: {exc}\n")
        return 2
    try:
        scrubber = load_scrubber()
    except ScrubberUnavailable as exc:
        sys.stderr.write(f"vigie: {exc}\n")
        return 2
    _out(f"corpus: {', '.join(str(p) for p in paths)} ({len(corpus)} texts)")
    _out(f"scrubber: Presidio + spaCy {scrubber.model} {scrubber.model_version}")
    _out("")
    splits: list[tuple[str, Sequence[Narrative]]] = [("all", corpus)]
    for split in sorted({n.split for n in corpus}):
        splits.append((split, [n for n in corpus if n.split == split]))
    for lang in sorted({n.lang for n in corpus}):
        splits.append((f"lang={lang}", [n for n in corpus if n.lang == lang]))
    results: dict[str, Report] = {}
    for name, narratives in splits:
        report = evaluate(scrubber, narratives)
        results[name] = report
        for line in render(report, name):
            _out(line)
        _out("")
    baseline = evaluate(_LabelledPatterns(), corpus)  # type: ignore[arg-type]
    for line in render(baseline, "baseline: labelled patterns of the previous release, all"):
        _out(line)
    _out("")
    if args.show_misses:
        for miss in results["all"].misses:
            _out(f"missed  {miss['id']:<8} {miss['type']:<16} {miss['text']!r}")
        for lost in results["all"].lost_terms:
            _out(f"lost    {lost['id']:<8} {lost['text']!r}")
        _out("")
    figures = results["all"].as_json()
    summary = {
        "corpus": [str(p) for p in paths],
        "model": f"{scrubber.model}-{scrubber.model_version}",
        **figures,
        "by_split": {
            name: {"recall": r.as_json()["recall"], "kept": r.as_json()["clinical_terms_kept"]}
            for name, r in results.items()
            if name != "all"
        },
        "baseline_recall": round(baseline.recall(), 4),
        "baseline_clinical_terms_kept": round(baseline.kept, 4),
    }
    _out(json.dumps(summary, sort_keys=True))
    return 0


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``vigie privacy``."""
    privacy = sub.add_parser("privacy", help="de-identification of free text")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    evaluate_cmd = privacy_sub.add_parser(
        "evaluate",
        help="recall per identifier type and clinical terms kept, on a labelled corpus",
    )
    evaluate_cmd.add_argument(
        "--data",
        action="append",
        metavar="FILE",
        help="a JSON-lines corpus (repeatable); default: data/privacy/narratives-*.jsonl",
    )
    evaluate_cmd.add_argument(
        "--show-misses", action="store_true", help="list every identifier missed"
    )
    evaluate_cmd.set_defaults(func=run_evaluate)
