"""The ablation table (markdown and JSON) and its plot, from the rows' results (pure but for the files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glyph_train.evaluate.metrics import DESIGN, INTERVAL_LEVEL, resample_weights
from glyph_train.evaluate.report import human_flops, human_params, markdown_table, with_interval
from glyph_train.figures import pyplot, save_figure

SPLITS = ("val", "test")
METRICS = ("top1_strict", "top1_alt", "top5_alt")


def row_metrics(evaluation: Mapping[str, Any], way: str) -> dict[str, Any]:
    """What the table keeps of one way's evaluation: size, and per split the shares with their
    intervals, the glyph and design counts and the per-design mean."""
    entry = evaluation["ways"][way]
    splits = {}
    for split, m in entry["splits"].items():
        design = (m.get("breakdowns", {}).get(DESIGN) or {}).get("summary") or {}
        groups = (m.get("breakdowns", {}).get(DESIGN) or {}).get("groups", [])
        splits[split] = {
            "count": m["count"], "designs": m.get("intervals", {}).get("designs"),
            **{key: m[key] for key in METRICS}, "intervals": {key: m.get("intervals", {}).get(key) for key in METRICS},
            "per_design_top1_alt": design.get("mean"),
            "by_design": {g["name"]: [g["count"], round(g["top1_alt"] * g["count"])] for g in groups},  # glyphs, alt-aware right
        }  # fmt: skip
    return {"params": entry.get("params"), "flops": entry.get("flops"), "splits": splits}


def paired_gain(base: Mapping[str, Sequence[int]], row: Mapping[str, Sequence[int]], resamples: int = 1000, seed: int = 0) -> dict[str, Any] | None:
    """A row's alt-aware top-1 minus the base row's on the same designs, with a 95% interval from one
    bootstrap over design groups drawn for both at once (paired: a design that is hard for one is
    hard for the other, so the difference is far tighter than either interval). ``base`` and ``row``
    map design -> (glyphs, right). None when the two were scored on other designs or glyph counts."""
    if not base or set(base) != set(row) or any(base[d][0] != row[d][0] for d in base):
        return None
    names = sorted(base)
    count = np.array([base[d][0] for d in names], dtype=np.float64)
    gain = np.array([row[d][1] - base[d][1] for d in names], dtype=np.float64)
    delta = float(gain.sum() / count.sum())
    if len(names) < 2:
        return {"delta": delta, "interval": None}
    weights = resample_weights(len(names), resamples, seed)
    shares = (weights @ gain) / (weights @ count)
    tail = 100 * (1 - INTERVAL_LEVEL) / 2
    return {"delta": delta, "interval": [float(np.percentile(shares, tail)), float(np.percentile(shares, 100 - tail))]}


def _gain_text(gain: Mapping[str, Any] | None) -> str:
    if gain is None:
        return "n/a"
    text = f"{100 * gain['delta']:+.1f}"
    interval = gain["interval"]
    return text if interval is None else f"{text} [{100 * interval[0]:+.1f}, {100 * interval[1]:+.1f}]"


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """One line per row: what it changes, then val and test top-1 strict / alt-aware with intervals,
    top-5 alt-aware, the alt-aware top-1 gain over the first row (paired, in points), size, cost."""
    header = ["row", "changes", "way"]
    for split in SPLITS:
        header += [f"{split} top-1 strict", f"{split} top-1 alt", f"{split} top-5 alt"]
    header += [f"{split} vs {rows[0]['name'] if rows else 'first row'}" for split in SPLITS]
    header += ["params", "FLOPs", "CPU min", "wall min"]
    lines = []
    for row in rows:
        cells = [row["name"], row["about"], row["way"]]
        for split in SPLITS:
            m = row["metrics"]["splits"].get(split)
            cells += [with_interval(m, key) if m else "n/a" for key in METRICS]
        for split in SPLITS:
            first, m = rows[0]["metrics"]["splits"].get(split), row["metrics"]["splits"].get(split)
            if row is rows[0]:
                cells.append("reference")
            else:
                cells.append(_gain_text(paired_gain(first.get("by_design", {}), m.get("by_design", {}))) if first and m else "n/a")
        built = "*" if row["build"]["ran"] else ""
        cells += [human_params(row["metrics"]["params"]), human_flops(row["metrics"]["flops"]), f"{row['cpu_s'] / 60:.1f}{built}", f"{row['wall_s'] / 60:.1f}"]
        lines.append(cells)
    return markdown_table(header, lines, text_columns=3)


def designs_note(rows: Sequence[Mapping[str, Any]]) -> str:
    """How many designs and glyphs the numbers rest on (the same for every row of one store)."""
    parts = []
    for split in SPLITS:
        counts = {(m["designs"], m["count"]) for r in rows if (m := r["metrics"]["splits"].get(split))}
        parts += [f"{split}: {d} design groups, {c:,} glyphs" for d, c in sorted(counts, key=str)]
    return "; ".join(parts)


def write_plot(path: Path, rows: Sequence[Mapping[str, Any]], metric: str = "top1_alt") -> Path:
    """Each row's alt-aware top-1 on val and test with its design-bootstrap interval; the base row's
    val value as a dashed line."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.4))
    names = [r["name"] for r in rows]
    for offset, split, color in ((-0.15, "val", "tab:blue"), (0.15, "test", "tab:orange")):
        ys, xs, low, high = [], [], [], []
        for i, row in enumerate(rows):
            m = row["metrics"]["splits"].get(split)
            if not m:
                continue
            value, interval = 100 * m[metric], m["intervals"].get(metric) or [m[metric], m[metric]]
            ys.append(i + offset)
            xs.append(value)
            low.append(value - 100 * interval[0])
            high.append(100 * interval[1] - value)
        axis.errorbar(xs, ys, xerr=[low, high], fmt="o", color=color, capsize=3, label=f"{split} designs")
    if rows and rows[0]["metrics"]["splits"].get("val"):
        axis.axvline(100 * rows[0]["metrics"]["splits"]["val"][metric], color="tab:blue", linestyle="--", linewidth=0.8)
    axis.set_yticks(range(len(rows)), names)
    axis.invert_yaxis()
    axis.set_xlabel("top-1 alt-aware (%), 95% interval over design groups")
    axis.grid(axis="x", alpha=0.3)
    axis.legend(loc="lower right")
    figure.tight_layout()
    return save_figure(figure, path)
