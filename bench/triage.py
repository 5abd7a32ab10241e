"""Triage model throughput: reports/s per core for batch classification, against a plain baseline.

The baselines, trained in the same run on the same de-duplicated MAUDE reports, are scikit-learn's
TfidfVectorizer (words) with a LogisticRegression: what a first model would be; and the stronger
word 1-2-gram + character 3-5-gram TF-IDF balanced LinearSVC that ``vigie evaluate`` compares
with on every split (``services.triage.model.baseline``). Vigie's model
(the shipped artefact) does more per report: French detection and mapping, negation scope,
lexicon cues, calibrated probabilities, the operating thresholds, IMDRF suggestions, and the
category model on inappropriate-AI-suggestion reports. Both run on one thread (BLAS and OpenMP
pools limited to 1), in batches of the triage consumer's size, repeated; medians are reported.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from bench.common import finish, machine, median, say
from services.triage.model import DEFAULT_MODEL_DIR, TriageModel
from services.triage.model.baseline import FittedBaseline
from services.triage.model.dataset import MAUDE_FILE, load_maude, project_data_dir
from services.triage.model.evaluation import read_handwritten
from services.triage.model.severity import label_index
from vigie.contracts import ReportKind


def rate(classify: Callable[[Sequence[str]], object], texts: list[str], batch: int) -> float:
    """Reports per second to classify ``texts`` in batches of ``batch``."""
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        classify(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=20_000, help="reports per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="the triage consumer's batch size")
    parser.add_argument("--ai-share", type=int, default=10, help="every n-th report is an AI one")
    parser.add_argument(
        "--compare-model",
        default=None,
        help="another artefact directory (the previous release's) timed beside the shipped one",
    )
    args = parser.parse_args()

    say(f"machine: {machine()}")
    with threadpool_limits(limits=1):
        maude = load_maude(project_data_dir() / MAUDE_FILE)
        started = time.perf_counter()
        baseline = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2), LogisticRegression(max_iter=1000)
        ).fit(maude.texts, maude.labels)
        say(
            f"baseline TF-IDF + LogisticRegression trained on {len(maude)} de-duplicated MAUDE "
            f"reports in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        word_char = FittedBaseline.on_texts(maude.texts, label_index(maude.labels))
        say(
            f"baseline word+char TF-IDF + balanced LinearSVC trained in "
            f"{time.perf_counter() - started:.1f} s"
        )
        model = TriageModel.load(DEFAULT_MODEL_DIR)
        say(f"Vigie model {model.version} loaded from {DEFAULT_MODEL_DIR}")
        other = TriageModel.load(Path(args.compare_model)) if args.compare_model else None
        if other is not None:
            say(f"compared with model {other.version} from {args.compare_model}")

        raw = load_maude(project_data_dir() / MAUDE_FILE, deduplicate=False).texts
        handwritten = [r.text for r in read_handwritten()]
        # A seeded sample over the whole file: lengths as they come (not the oldest reports only).
        pick = random.Random(0)
        workloads = {
            "maude": [pick.choice(raw) for _ in range(args.reports)],
            "handwritten-fr-en": [handwritten[i % len(handwritten)] for i in range(args.reports)],
        }

        def kinds(n: int) -> list[ReportKind]:
            return [
                ReportKind.INAPPROPRIATE_AI_SUGGESTION
                if i % args.ai_share == 0
                else ReportKind.ADVERSE_EVENT
                for i in range(n)
            ]

        def vigie(texts: Sequence[str]) -> object:
            return model.predict(texts, kinds(len(texts)))

        def compared(texts: Sequence[str]) -> object:
            assert other is not None
            return other.predict(texts, kinds(len(texts)))

        def plain(texts: Sequence[str]) -> object:
            return baseline.predict_proba(texts)

        def stronger(texts: Sequence[str]) -> object:
            return word_char.predict(texts)

        results: dict[str, dict[str, float]] = {}
        for name, texts in workloads.items():
            chars = sum(map(len, texts)) / len(texts)
            runs = {"vigie": vigie, "baseline": plain, "word_char": stronger}
            if other is not None:
                runs["compared"] = compared
            rates: dict[str, list[float]] = {k: [] for k in runs}
            for run in runs.values():
                run(texts[: args.batch])  # warm-up
            for _ in range(args.repeats):
                for key, run in runs.items():
                    rates[key].append(rate(run, texts, args.batch))
            results[name] = {
                "mean_chars": round(chars, 1),
                "vigie_reports_per_s": round(median(rates["vigie"])),
                "baseline_reports_per_s": round(median(rates["baseline"])),
                "word_char_reports_per_s": round(median(rates["word_char"])),
                "ratio": round(median(rates["vigie"]) / median(rates["baseline"]), 3),
            }
            if other is not None:
                results[name]["compared_reports_per_s"] = round(median(rates["compared"]))

    say()
    say(
        f"{args.reports} reports per repeat, batches of {args.batch}, "
        f"{args.repeats} repeats, 1 thread"
    )
    say(
        f"{'workload':<20}{'chars':>7}{'Vigie rep/s':>13}{'baseline rep/s':>16}{'ratio':>8}"
        f"{'word+char rep/s':>17}"
    )
    for name, r in results.items():
        say(
            f"{name:<20}{r['mean_chars']:>7.0f}{r['vigie_reports_per_s']:>13,}"
            f"{r['baseline_reports_per_s']:>16,}{r['ratio']:>8.2f}"
            f"{r['word_char_reports_per_s']:>17,}"
        )
        if "compared_reports_per_s" in r:
            say(
                f"{'':<20}compared model: {r['compared_reports_per_s']:,} rep/s "
                f"(shipped / compared {r['vigie_reports_per_s'] / r['compared_reports_per_s']:.2f})"
            )
    finish(
        {
            "bench": "triage",
            "model_version": model.version,
            "compared_model_version": other.version if other is not None else None,
            "reports": args.reports,
            "batch": args.batch,
            "repeats": args.repeats,
            "threads": 1,
            "workloads": results,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
