"""The evaluation figures as people read them: the printed tables, the targets, the JSON summary.

``vigie evaluate`` and ``vigie train`` print these lines, the model card quotes them; the figures
themselves come from ``evaluation``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from services.triage.model.labels import SEVERITY_LABELS

# The French agency's pilot on its own materiovigilance reports (figures quoted in the issue):
# F1 of the binary "critical" class and balanced accuracy over five severity levels.
AGENCY_PILOT = {"critical_f1": 0.48, "balanced_accuracy": 0.53}


def _pct(value: float | None) -> str:
    return (
        "   -"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.3f}"
    )


def severity_table(m: dict[str, Any], *, title: str) -> list[str]:
    """Lines of the severity evaluation table."""
    lines = [title, f"{'class':<12}{'support':>9}{'precision':>11}{'recall':>9}{'F1':>8}"]
    for c in SEVERITY_LABELS:
        lines.append(
            f"{c:<12}{m['support'][c]:>9}{_pct(m['precision'][c]):>11}"
            f"{_pct(m['recall'][c]):>9}{_pct(m['f1'][c]):>8}"
        )
    crit = m["critical"]
    lines += [
        f"macro-F1, 4 classes (death, serious, malfunction, other): {m['macro_f1_4']:.3f}",
        f"macro-F1, 3 main classes (death, serious, malfunction):    {m['macro_f1_3']:.3f}",
        f"Death recall: {m['death_recall']:.3f}   "
        f"(deaths triaged serious or worse: {m['death_at_least_serious']:.3f})",
        f"critical (death or serious) vs rest: precision {crit['precision']:.3f}, "
        f"recall {crit['recall']:.3f}, F1 {crit['f1']:.3f}   (agency pilot F1 "
        f"{AGENCY_PILOT['critical_f1']:.2f})",
        f"balanced accuracy over the classes present: {m['balanced_accuracy']:.3f}   "
        f"(agency pilot, 5 levels: {AGENCY_PILOT['balanced_accuracy']:.2f})",
        f"accuracy: {m['accuracy']:.3f}   reports: {m['n']}",
    ]
    if "calibration" in m:
        cal = m["calibration"]
        lines.append(
            f"calibration: Brier {cal['brier']:.3f} (critical {cal['critical_brier']:.3f}), "
            f"log loss {cal['log_loss']:.3f}, ECE {cal['ece']:.3f}"
        )
    if "thresholds" in m:
        t = m["thresholds"]
        lines.append(
            "operating thresholds chosen on validation families (median over folds): "
            f"P(death) >= {t['death_median']:.3f}, "
            f"P(death)+P(serious) >= {t['critical_median']:.3f}"
        )
    return lines


def family_table(per_family: Sequence[dict[str, Any]]) -> list[str]:
    """Lines of the per-family table."""
    lines = [
        f"{'held-out family':<36}{'n':>6}{'crit%':>7}{'acc':>7}{'crit R':>8}{'crit P':>8}"
        f"{'deaths':>8}{'death R':>9}"
    ]
    for f in per_family:
        lines.append(
            f"{f['family'][:35]:<36}{f['n']:>6}{100 * f['critical_share']:>6.0f}%"
            f"{f['accuracy']:>7.3f}{f['critical_recall']:>8.3f}{f['critical_precision']:>8.3f}"
            f"{f['deaths']:>8}{_pct(f['death_recall']):>9}"
        )
    return lines


# The acceptance targets on device families never seen in training.
TARGETS = {"macro_f1": 0.75, "death_recall": 0.9}


def target_lines(m: dict[str, Any]) -> list[str]:
    """Whether the leave-families-out figures meet the acceptance targets, said plainly."""

    def verdict(value: float, target: float) -> str:
        return f"{value:.3f} {'meets' if value >= target else 'MISSES'} >= {target}"

    return [
        "targets (leave-device-families-out):",
        f"  macro-F1, 4 classes:        {verdict(m['macro_f1_4'], TARGETS['macro_f1'])}",
        f"  macro-F1, 3 main classes:   {verdict(m['macro_f1_3'], TARGETS['macro_f1'])}",
        f"  Death recall:               {verdict(m['death_recall'], TARGETS['death_recall'])}",
    ]


def summary(m: dict[str, Any]) -> dict[str, Any]:
    """The figures of the last JSON line."""
    return {
        "reports": m["n"],
        "macro_f1_4": round(m["macro_f1_4"], 4),
        "macro_f1_3": round(m["macro_f1_3"], 4),
        "death_recall": round(m["death_recall"], 4),
        "death_at_least_serious": round(m["death_at_least_serious"], 4),
        "critical_f1": round(m["critical"]["f1"], 4),
        "critical_recall": round(m["critical"]["recall"], 4),
        "critical_precision": round(m["critical"]["precision"], 4),
        "balanced_accuracy": round(m["balanced_accuracy"], 4),
        "accuracy": round(m["accuracy"], 4),
        "recall": {k: round(v, 4) for k, v in m["recall"].items()},
        "precision": {k: round(v, 4) for k, v in m["precision"].items()},
    }


_TRANSFER_COLUMNS = (
    ("macro_f1_3", "mF1-3"),
    ("death_recall", "death R"),
    ("death_precision", "death P"),
    ("critical_recall", "crit R"),
    ("malfunction_recall", "malf R"),
    ("review_share", "review"),
)


def _transfer_row(label: str, n: int, deaths: int, f: dict[str, Any]) -> str:
    cells = "".join(f"{_pct(f[k]):>9}" for k, _ in _TRANSFER_COLUMNS)
    return f"{label[:34]:<35}{n:>6}{deaths:>7}{cells}"


def transfer_table(t: dict[str, Any]) -> list[str]:
    """Lines of the transfer evaluation: every split, every recipe, pooled then fold by fold."""
    head = f"{'':<35}{'n':>6}{'deaths':>7}" + "".join(f"{h:>9}" for _, h in _TRANSFER_COLUMNS)
    lines = [
        "transfer splits (each row predicted by models that never saw its fold; mF1-3: macro-F1 "
        "of death, serious, malfunction; review: share of reports called death or serious)",
    ]
    lines += [f"  {name}: {title}" for name, title in t["recipes"].items()]
    if "selection" in t:
        wins = ", ".join(f"{k} {v}" for k, v in t["selection"]["wins"].items())
        lines.append(
            f"  outer folds won by each candidate (inner folds on at most "
            f"{t['selection']['inner_rows']} reports): {wins}"
        )
        if "chosen_on_all" in t["selection"]:
            lines.append(
                f"  chosen by the same inner folds on every MAUDE report: "
                f"{t['selection']['chosen_on_all']}"
            )
    for split in t["splits"]:
        lines += ["", f"{split['split']}: {split['title']}", head]
        for name, f in split["pooled"].items():
            lines.append(_transfer_row(f"all folds  {name}", f["n"], f["deaths"], f))
        for fold in split["folds"]:
            for name in t["recipes"]:
                f = fold[name]
                label = f"  {fold['fold'][:22]:<23}{name}"
                lines.append(_transfer_row(label, f["n"], f["deaths"], f))
    return lines


def transfer_target_lines(t: dict[str, Any]) -> list[str]:
    """Whether the shipped recipe meets each transfer target; the blocking reports when not."""
    lines = ["transfer targets (shipped recipe, pooled over each split's folds):"]
    for g in t["targets"]:
        lines.append(
            f"  {g['split']:<13}{g['figure']:<26}{g['value']:.3f} "
            f"{'meets' if g['met'] else 'MISSES'} {g['target']:.3f}"
        )
    if t["blocking"]:
        lines.append("reports behind the missed targets (a few per kind and split):")
        for b in t["blocking"]:
            lines.append(
                f"  [{b['split']}] {b['why']}: report {b['report']} ({b['fold']}), "
                f"{b['expected']} read as {b['predicted']}: {b['excerpt']!r}"
            )
    return lines + evidence_lines(t)


def evidence_lines(t: dict[str, Any]) -> list[str]:
    """Death and critical reports by what their narrative says, and the share the judged recipe
    caught: whether a missed report could have been read from its words at all."""
    if not t.get("evidence"):
        return []
    lines = [
        "what the narratives of the death and critical reports say, and how many the shipped "
        "recipe caught (deaths: called death; critical: called death or serious):"
    ]
    for split, table in t["evidence"].items():
        for kind, cells in table.items():
            shown = ", ".join(
                f"{what} {c['caught']}/{c['n']}"
                + (f" ({c['caught'] / c['n']:.3f})" if c["n"] else "")
                for what, c in cells.items()
            )
            lines.append(f"  {split:<13}{kind:<9}{shown}")
    return lines


def transfer_summary(t: dict[str, Any]) -> dict[str, Any]:
    """The transfer figures of the last JSON line."""
    return {
        "splits": {
            s["split"]: {
                name: {k: round(f[k], 4) for k, _ in _TRANSFER_COLUMNS}
                for name, f in s["pooled"].items()
            }
            for s in t["splits"]
        },
        "targets_missed": [f"{g['split']}:{g['figure']}" for g in t["targets"] if not g["met"]],
    }


def category_time_lines(c: dict[str, Any]) -> list[str]:
    """Lines of the category head's time-ordered evaluation."""
    clinical = c.get("clinical") or {}
    lines = [
        f"category, {c['scheme']} ({c['train']} older, {c['test']} newer incidents from "
        f"{c['test_from']}):",
        f"{'':<58}{'newer AIID incidents':>20}"
        + (f"{'clinicians (hand-written)':>27}" if clinical else ""),
        f"{'model':<58}{'macro-F1':>9}{'accuracy':>10}"
        + (f"{'':>7}{'macro-F1':>9}{'accuracy':>10}" if clinical else ""),
    ]
    for name, m in c["results"].items():
        line = f"{name[:57]:<58}{m['macro_f1']:>9.3f}{m['accuracy']:>10.3f}"
        if name in clinical:
            line += f"{'':>7}{clinical[name]['macro_f1']:>9.3f}{clinical[name]['accuracy']:>10.3f}"
        lines.append(line)
    support = ", ".join(f"{k} {v}" for k, v in next(iter(c["results"].values()))["support"].items())
    lines.append(f"newer incidents per category: {support}")
    if clinical:
        n = next(iter(clinical.values()))["n"]
        lines.append(
            f"clinicians: the {n} hand-written narratives of inappropriate AI suggestions "
            "(French and English), read by the same models trained on the older incidents"
        )
    return lines
