"""What a build's split holds: design groups, fonts, rows and labels per split, the held-out labels
that train never shows, why fonts were merged, and how close the nearest other design comes.

Pure computation over a :class:`~glyph_core.selection.Selection`; `rasterd build` prints the text
form and writes both forms beside ``splits.json``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from glyph_core.paths import OutputLayout
from glyph_core.selection import Selection
from glyph_core.splits import SPLIT_NAMES

# Histogram edges of nearest-other-design IoU (the shape rule's threshold usually sits near 0.8).
_IOU_EDGES = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def split_report(selection: Selection, shape_threshold: float | None = None) -> dict[str, Any]:
    """The report as JSON-ready data (see the module docstring)."""
    split_of = selection.split_of_font()
    rows: Counter[str] = Counter()
    labels: dict[str, set[str]] = defaultdict(set)
    for entry in selection.entries:
        split = split_of[entry.font_hash]
        rows[split] += 1
        labels[split].add(entry.label)
    splits = {
        split: {
            "design_groups": len(selection.split.groups[split]),
            "fonts": len(selection.split.fonts_in(split)),
            "rows": rows[split],
            "labels": len(labels[split]),
        }
        for split in SPLIT_NAMES
    }
    unseen = {split: sorted(labels[split] - labels["train"]) for split in SPLIT_NAMES if split != "train"}
    merges = [m for ms in selection.split.merges.values() for m in ms]
    report: dict[str, Any] = {
        "splits": splits,
        "labels_absent_from_train": unseen,
        "merges_by_rule": dict(sorted(Counter(str(m["rule"]) for m in merges).items())),
        "shape_merges": sorted(
            ([*m["families"], m["score"]] for m in merges if m["rule"] == "shape"), key=lambda r: -float(r[2])
        ),
    }
    if selection.shapes is not None:
        report["nearest_other_design"] = _nearest_other_design(selection, shape_threshold)
    return report


def _nearest_other_design(selection: Selection, threshold: float | None) -> dict[str, Any]:
    shapes = selection.shapes
    assert shapes is not None
    groups = {f: selection.font_groups.get(f, f"font {f[:12]}") for f in shapes.fonts}
    nearest = shapes.nearest_other_group(groups)
    values = np.array([score for score, _ in nearest.values()])
    counts, _ = np.histogram(values, bins=_IOU_EDGES)
    closest: dict[frozenset[str], tuple[float, str, str]] = {}
    for group, (score, other) in nearest.items():
        closest.setdefault(frozenset((group, other)), (score, *sorted((group, other))))  # type: ignore[arg-type]
    best = sorted(closest.values(), reverse=True)[:6]
    return {
        "threshold": threshold,
        "design_groups": len(values),
        "percentiles": {str(p): round(float(np.percentile(values, p)), 4) for p in (10, 25, 50, 75, 90)} if len(values) else {},
        "histogram": {f"{lo:.1f}-{hi:.1f}": int(n) for lo, hi, n in zip(_IOU_EDGES, _IOU_EDGES[1:], counts)},
        "closest_pairs": [[group, other, round(score, 4)] for score, group, other in best],
    }


def format_split_report(report: dict[str, Any]) -> str:
    """The report as Markdown, for the terminal and ``split_report.md``."""
    lines = ["| split | design groups | fonts | rows | labels |", "|:--|--:|--:|--:|--:|"]
    for split, row in report["splits"].items():
        lines.append(f"| {split} | {row['design_groups']} | {row['fonts']} | {row['rows']} | {row['labels']} |")
    lines.append("")
    for split, absent in report["labels_absent_from_train"].items():
        shown = ", ".join(absent[:20]) + (f", ... ({len(absent) - 20} more)" if len(absent) > 20 else "")
        lines.append(f"{split} labels absent from train: {len(absent)}" + (f" ({shown})" if absent else ""))
    rules = ", ".join(f"{rule} {n}" for rule, n in report["merges_by_rule"].items()) or "none"
    lines.append(f"merges into design groups: {rules}")
    for a, b, score in report["shape_merges"]:
        lines.append(f"  shape: {a} ~ {b} (mean IoU {score:.3f})")
    near = report.get("nearest_other_design")
    if near:
        pct = ", ".join(f"p{p} {v:.3f}" for p, v in near["percentiles"].items())
        lines.append(
            f"nearest other design, mean IoU over core letters ({near['design_groups']} groups; "
            f"threshold {near['threshold']}): {pct}"
        )
        lines.append("  histogram: " + ", ".join(f"{edge} {n}" for edge, n in near["histogram"].items()))
        for group, other, score in near["closest_pairs"]:
            lines.append(f"  closest: {group} ~ {other} ({score:.3f})")
    return "\n".join(lines)


def write_split_report(report: dict[str, Any], layout: OutputLayout) -> list[Path]:
    """``split_report.md`` and ``split_report.json`` beside ``splits.json``."""
    layout.meta.mkdir(parents=True, exist_ok=True)
    layout.split_report.write_text("# Split report\n\n" + format_split_report(report) + "\n", encoding="utf-8")
    data = layout.split_report.with_suffix(".json")
    data.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return [layout.split_report, data]
