"""What de-identification costs: time per report beside the label-and-title patterns it
replaced (same run, same texts), and what the triage model reads differently once the
narratives are scrubbed (MAUDE's most recent reports, raw and scrubbed, same model).

    python -m bench.privacy [--reports 1000]

Prints medians and ratios; the last line is JSON.
"""

from __future__ import annotations

import argparse
import sys
import time

from sklearn.metrics import f1_score, recall_score

from bench.common import finish, machine, median, percentile
from services.common.deid import load_scrubber
from services.triage.model import DEFAULT_MODEL_DIR, TriageModel
from services.triage.model.dataset import MAUDE_FILE, load_maude, project_data_dir
from vigie.rules.privacy import scrub as labelled_patterns

KEY = b"bench-privacy-key-0123456789abcdef"


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _figures(labels: list[str], predicted: list[str]) -> dict[str, float]:
    classes = sorted(set(labels))
    per_class = recall_score(labels, predicted, labels=classes, average=None, zero_division=0)
    figures = {
        "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro")),
    }
    figures.update({f"recall_{c}": float(r) for c, r in zip(classes, per_class, strict=True)})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    scrubber = load_scrubber()
    load_s = time.perf_counter() - started
    data = load_maude(project_data_dir() / MAUDE_FILE)
    # The most recent reports: what the model meets after its training.
    texts = data.texts[-args.reports :]
    labels = [str(label) for label in data.labels[-args.reports :]]
    _out(f"machine: {machine()}")
    _out(f"scrubber loaded in {load_s:.1f} s ({scrubber.model} {scrubber.model_version})")
    _out(f"{len(texts)} MAUDE narratives, median {median([len(t) for t in texts]):.0f} chars")

    # Warm both up, then time them on the same texts, interleaved by round.
    scrubber.scrub(texts[0], key=KEY, language="en")
    full: list[float] = []
    baseline: list[float] = []
    scrubbed: list[str] = []
    for text in texts:
        t0 = time.perf_counter()
        scrubbed.append(scrubber.scrub(text, key=KEY, language="en"))
        full.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        labelled_patterns(text, key=KEY)
        baseline.append((time.perf_counter() - t0) * 1000)
    changed = sum(1 for a, b in zip(texts, scrubbed, strict=True) if a != b)
    _out("")
    _out("time per narrative (ms)      median     p95")
    _out(f"  scrubber (Presidio+spaCy) {median(full):>8.2f} {percentile(full, 95):>7.2f}")
    _out(f"  labelled patterns only    {median(baseline):>8.2f} {percentile(baseline, 95):>7.2f}")
    ratio = median(full) / max(median(baseline), 1e-9)
    _out(f"  ratio {ratio:.0f}x; narratives changed by scrubbing: {changed}/{len(texts)}")

    model = TriageModel.load(DEFAULT_MODEL_DIR)
    raw_pred = [p.severity.value for p in model.predict(texts)]
    clean_pred = [p.severity.value for p in model.predict(scrubbed)]
    raw = _figures(labels, raw_pred)
    clean = _figures(labels, clean_pred)
    agree = sum(a == b for a, b in zip(raw_pred, clean_pred, strict=True)) / len(texts)
    _out("")
    _out(f"triage on the same {len(texts)} reports   raw      scrubbed   change")
    for name in raw:
        _out(f"  {name:<30}{raw[name]:>7.3f}{clean[name]:>11.3f}{clean[name] - raw[name]:>+9.3f}")
    _out(f"  same severity raw and scrubbed: {agree:.3f}")
    finish(
        {
            "bench": "privacy",
            "reports": len(texts),
            "scrub_ms_median": round(median(full), 3),
            "scrub_ms_p95": round(percentile(full, 95), 3),
            "baseline_ms_median": round(median(baseline), 4),
            "ratio": round(ratio, 1),
            "changed": changed,
            "triage_raw": {k: round(v, 4) for k, v in raw.items()},
            "triage_scrubbed": {k: round(v, 4) for k, v in clean.items()},
            "same_severity": round(agree, 4),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
