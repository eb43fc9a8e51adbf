"""`glyph-train evaluate` outputs: the result as JSON, a markdown report comparing the ways, and its figures.

A result holds ``ways`` (name -> {params, flops, flops_amortized, splits: {split: glyph_metrics dict}}), ``labels``
(the model's label names) and ``external`` (source -> {ways, unknown}); see ``evaluate.metrics``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glyph_train.evaluate.metrics import CHAR_CLASS, DESIGN, FONT, LIGATURES, MARKS, SMALL_GLYPHS, UNKNOWN_GROUP
from glyph_train.figures import draw_glyph, pyplot, save_figure

SPLIT_ORDER = ("test", "val")  # the report leads with the held-out split
WORST_FONTS = 10
UNKNOWN_LABELS_SHOWN = 20
CONFUSION_PAIRS_PER_ROW = 4
LEGEND = (
    "*strict*: only the true label counts. *alt-aware*: a twin (another label the same font draws with an "
    "identical outline) counts too. [a-b]: 95% bootstrap interval over design groups (glyphs of one design "
    "succeed or fail together). *expected strict ceiling*: the strict top-1 of a model that is always alt-aware "
    "right and guesses among a glyph's twins. *marks*: the diacritic char class; *small glyphs*: other glyphs "
    "drawn at mark size. Shares of glyphs, and F1, in percent; per-design: mean ± std over designs with "
    "enough glyphs. *FLOPs*: one glyph alone (end to end: "
    "Phase 1 on all 256 cells); *FLOPs amortized*: the average over the glyphs evaluated here, where end to end "
    "runs Phase 1 once per distinct cell pattern."
)


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file so a failed write never leaves half a report behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def write_json(path: Path | str, result: Mapping[str, Any]) -> Path:
    """The whole result as strict JSON (a NaN is a bug upstream and fails here)."""
    path = Path(path)
    _write_text(path, json.dumps(result, indent=1, allow_nan=False) + "\n")
    return path


def _scaled(value: float) -> tuple[str, str]:
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.1f}", suffix
    return f"{value:g}", ""


def human_params(value: int | None) -> str:
    """1234567 -> '1.2M'."""
    return "n/a" if value is None else "".join(_scaled(value))


def human_flops(value: int | None) -> str:
    """35_400_000 -> '35.4 MFLOPs'."""
    if value is None:
        return "n/a"
    number, suffix = _scaled(value)
    return f"{number} {suffix}FLOPs"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f}%"


def _spread(summary: Mapping[str, Any] | None) -> str:
    if not summary or summary["mean"] is None:
        return "n/a"
    return f"{100 * summary['mean']:.2f} ± {100 * summary['std']:.2f}%"


def _label(labels: Sequence[str], label_id: int) -> str:
    return labels[label_id] if 0 <= label_id < len(labels) else str(label_id)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    """A markdown table padded to column width (it is also read in a terminal); the first
    ``text_columns`` columns are left-aligned, the others (numbers) right-aligned."""
    widths = [max(3, len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join((":" + "-" * (w + 1) if i < text_columns else "-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _ways_with(result: Mapping[str, Any], split: str) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
    """(way name, way, its metrics on ``split``) for the ways evaluated on that split."""
    for name, way in result.get("ways", {}).items():
        if split in way["splits"]:
            yield name, way, way["splits"][split]


def _splits(result: Mapping[str, Any]) -> list[str]:
    present = {split for way in result.get("ways", {}).values() for split in way["splits"]}
    return [s for s in SPLIT_ORDER if s in present] + sorted(present - set(SPLIT_ORDER))


def with_interval(m: Mapping[str, Any], key: str) -> str:
    """A share and its design-bootstrap interval, e.g. ``61.20% [48.1-70.3]``."""
    interval = m.get("intervals", {}).get(key)
    if m.get(key) is None or not interval:
        return _percent(m.get(key))
    return f"{_percent(m[key])} [{100 * interval[0]:.1f}-{100 * interval[1]:.1f}]"


def comparison_table(result: Mapping[str, Any], split: str = "test") -> str:
    """One markdown row per way evaluated on ``split``: size, accuracy with intervals, ceiling, F1, subsets, design spread."""
    header = ["way", "params", "FLOPs", "FLOPs amortized", "top-1 strict", "top-1 alt", "expected strict ceiling", "top-5 strict",
              "top-5 alt", "macro F1", "marks top-1 alt", "small glyphs top-1 alt", "ligatures top-1 alt", "per-design top-1 alt"]  # fmt: skip
    rows = []
    for name, way, m in _ways_with(result, split):
        subsets = m.get("subsets", {})
        design = m.get("breakdowns", {}).get(DESIGN)
        rows.append([
            name, human_params(way.get("params")), human_flops(way.get("flops")),
            human_flops(way.get("flops_amortized", way.get("flops"))),
            with_interval(m, "top1_strict"), with_interval(m, "top1_alt"), _percent(m["expected_strict_ceiling"]),
            _percent(m["top5_strict"]), _percent(m["top5_alt"]), _percent(m["macro_f1"]),
            *(_percent(subsets.get(subset, {}).get("top1_alt")) for subset in (MARKS, SMALL_GLYPHS, LIGATURES)),
            _spread(design and design["summary"]),
        ])  # fmt: skip
    return markdown_table(header, rows)


def headline_table(result: Mapping[str, Any]) -> str:
    """The one table to read first: per way and held-out split, the top-1 / top-5 shares strict and
    alt-aware with their intervals, the per-design mean beside the per-glyph share, and how many
    designs and glyphs the numbers rest on."""
    header = ["way", "split", "designs", "glyphs", "top-1 strict", "top-1 alt", "top-5 strict", "top-5 alt", "per-design top-1 alt"]
    rows = []
    for split in _splits(result):
        for name, _, m in _ways_with(result, split):
            design = (m.get("breakdowns", {}).get(DESIGN) or {}).get("summary")
            designs = m.get("intervals", {}).get("designs")
            rows.append([
                name, split, str(designs) if designs is not None else "n/a", f"{m['count']:,}",
                *(with_interval(m, key) for key in ("top1_strict", "top1_alt", "top5_strict", "top5_alt")), _spread(design),
            ])  # fmt: skip
    return markdown_table(header, rows, text_columns=2)


def _breakdown_table(result: Mapping[str, Any], split: str, breakdown: str, title: str) -> str:
    """Rows per group (first way's order), a top-1 alt-aware column per way."""
    ways = [(name, {g["name"]: g for g in m["breakdowns"][breakdown]["groups"]})
            for name, _, m in _ways_with(result, split) if breakdown in m.get("breakdowns", {})]  # fmt: skip
    names = list(dict.fromkeys(group for _, groups in ways for group in groups))
    rows = []
    for group in names:
        count = next(groups[group]["count"] for _, groups in ways if group in groups)
        rows.append([group, str(count), *(_percent(groups[group]["top1_alt"]) if group in groups else "n/a" for _, groups in ways)])
    return markdown_table([title, "glyphs", *(f"{name} top-1 alt" for name, _ in ways)], rows)


def _design_summary(result: Mapping[str, Any], split: str) -> str:
    rows = []
    for name, _, m in _ways_with(result, split):
        s = m.get("breakdowns", {}).get(DESIGN, {}).get("summary")
        if s:
            rows.append([name, str(s["groups"]), str(s["min_group_size"]), *(_percent(s[k]) for k in ("mean", "std", "min", "max"))])
    return markdown_table(["way", "designs", "min glyphs", "mean", "std", "min", "max"], rows)


def _worst_fonts(result: Mapping[str, Any], split: str) -> list[str]:
    lines = []
    for name, _, m in _ways_with(result, split):
        table = m.get("breakdowns", {}).get(FONT)
        if not table:
            continue
        least = table["summary"]["min_group_size"]
        fonts = sorted((g for g in table["groups"] if g["count"] >= least and g["name"] != UNKNOWN_GROUP),
                       key=lambda g: (g["top1_alt"], g["name"]))[:WORST_FONTS]  # fmt: skip
        rows = [[g["name"], str(g["count"]), _percent(g["top1_strict"]), _percent(g["top1_alt"])] for g in fonts]
        lines += [f"**{name}** (fonts with at least {least} glyphs)", "", markdown_table(["font", "glyphs", "top-1 strict", "top-1 alt"], rows), ""]
    return lines


def _subset_table(result: Mapping[str, Any], split: str) -> str:
    rows = [[name, subset, str(s["count"]), _percent(s["top1_strict"]), _percent(s["top1_alt"]), _percent(s["top5_alt"])]
            for name, _, m in _ways_with(result, split) for subset, s in m.get("subsets", {}).items()]  # fmt: skip
    return markdown_table(["way", "subset", "glyphs", "top-1 strict", "top-1 alt", "top-5 alt"], rows, text_columns=2)


def _confusion_tables(result: Mapping[str, Any], split: str) -> list[str]:
    labels = result.get("labels", [])
    lines = []
    for name, _, m in _ways_with(result, split):
        rows = [[_label(labels, c["true"]), _label(labels, c["predicted"]), str(c["count"])] for c in m["top_confusions"]]
        lines += [f"**{name}**", "", markdown_table(["true", "predicted", "glyphs"], rows, text_columns=2), ""]
    return lines


def _external_sections(result: Mapping[str, Any]) -> list[str]:
    lines = []
    for source, external in result.get("external", {}).items():
        unknown = external.get("unknown", {"rows": 0, "labels": {}})
        lines += [f"### {source}", "", f"{unknown['rows']:,} glyphs have a label the model does not know; they are not scored.", ""]
        if unknown["labels"]:
            shown = list(unknown["labels"].items())[:UNKNOWN_LABELS_SHOWN]
            lines += [markdown_table(["unknown label", "glyphs"], [[label, str(count)] for label, count in shown]), ""]
            if len(unknown["labels"]) > len(shown):
                lines += [f"... and {len(unknown['labels']) - len(shown)} more unknown labels (see the JSON).", ""]
        for split in _splits(external):
            lines += [f"**{split}**", "", comparison_table(external, split), ""]
    return lines


def write_markdown(path: Path | str, result: Mapping[str, Any], figures: Mapping[str, Path | str]) -> Path:
    """The full report: comparisons per split, breakdowns, subsets and confusions on the main split,
    external sources, and links to ``figures`` (title -> file), relative to the report."""
    path = Path(path)
    splits = _splits(result)
    lines = ["# Glyph classifier evaluation", "", LEGEND, "", "## Headline", "", headline_table(result), "", "## Comparison", ""]
    for split in splits:
        lines += [f"### {split}", "", comparison_table(result, split), ""]
    if figures:
        lines += ["## Figures", ""]
        for title, file in figures.items():
            lines += [f"![{title}]({Path(os.path.relpath(file, path.parent)).as_posix()})", ""]
    if splits:
        main = splits[0]
        lines += [f"## Breakdowns ({main})", "", "### Per char class", "", _breakdown_table(result, main, CHAR_CLASS, "char class"), ""]
        lines += ["### Per design", "", _design_summary(result, main), "", f"### Worst {WORST_FONTS} fonts", "", *_worst_fonts(result, main)]
        lines += [f"## Subsets ({main})", "", _subset_table(result, main), ""]
        lines += [f"## Top confusions ({main}, alt-aware errors)", "", *_confusion_tables(result, main)]
    if result.get("external"):
        lines += ["## External sources", "", *_external_sections(result)]
    _write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


def plot_per_class(path: Path | str, result: Mapping[str, Any], split: str) -> Path:
    """Per-class top-1 alt-aware accuracy of each way, classes sorted best to worst per way: a step
    line stays legible for a thousand classes and shows how many classes sit below any accuracy."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 5))
    for name, _, m in _ways_with(result, split):
        accuracy = np.sort(np.asarray(m["per_class"]["top1_alt"], dtype=np.float64))[::-1]
        ax.step(np.arange(1, len(accuracy) + 1), accuracy, where="mid", label=f"{name} ({len(accuracy)} classes)")
    ax.set_xlabel("classes, best to worst (each way sorted on its own)")
    ax.set_ylabel("top-1 alt-aware accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(loc="best")
    ax.set_title(f"per-class accuracy ({split})")
    fig.tight_layout()
    return save_figure(fig, Path(path))


def plot_per_design(path: Path | str, result: Mapping[str, Any], split: str) -> Path:
    """Grouped horizontal bars: top-1 alt-aware accuracy per design (those the summary counts), one bar
    per way; designs sorted by the first way's accuracy, worst at the bottom."""
    plt = pyplot()
    ways = []
    for name, _, m in _ways_with(result, split):
        table = m.get("breakdowns", {}).get(DESIGN)
        if table:
            least = table["summary"]["min_group_size"]
            ways.append((name, {g["name"]: g["top1_alt"] for g in table["groups"] if g["count"] >= least and g["name"] != UNKNOWN_GROUP}))
    first = ways[0][1] if ways else {}
    designs = sorted(first, key=lambda d: (first[d], d)) + sorted({d for _, acc in ways for d in acc} - set(first))
    bar = 0.8 / max(1, len(ways))
    fig, ax = plt.subplots(figsize=(9, 1.5 + len(designs) * (0.1 + 0.15 * max(1, len(ways)))))
    y = np.arange(len(designs))
    for i, (name, accuracy) in enumerate(ways):
        values = [accuracy.get(d, np.nan) for d in designs]  # NaN: no bar where a way lacks the design
        ax.barh(y + 0.4 - bar * (i + 0.5), values, height=bar, label=name)  # first way on top, as in the legend
    ax.set_yticks(y, designs, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("top-1 alt-aware accuracy")
    ax.grid(axis="x", alpha=0.3)
    if designs:
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no design with enough glyphs", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"accuracy per design ({split})")
    fig.tight_layout()
    return save_figure(fig, Path(path))


def plot_confusions(
    path: Path | str,
    confusions: Sequence[Mapping[str, int]],
    labels: Sequence[str],
    example_of: Callable[[int], np.ndarray | None],
) -> Path:
    """The confusion pairs as a grid: per pair, an example of the true label beside one of the label
    it was taken for, with names and count, so a reader sees whether the two are really alike."""
    plt = pyplot()
    columns = CONFUSION_PAIRS_PER_ROW
    rows = max(1, math.ceil(len(confusions) / columns))
    fig, axes = plt.subplots(rows, 2 * columns, figsize=(2 * columns * 1.4, rows * 1.7), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, pair in enumerate(confusions):
        row, column = divmod(i, columns)
        true_ax, predicted_ax = axes[row, 2 * column], axes[row, 2 * column + 1]
        for ax in (true_ax, predicted_ax):
            ax.set_axis_on()
        draw_glyph(true_ax, example_of(pair["true"]), f"{pair['count']}x {_label(labels, pair['true'])}")
        draw_glyph(predicted_ax, example_of(pair["predicted"]), f"as {_label(labels, pair['predicted'])}")
    if not confusions:
        fig.text(0.5, 0.5, "no confusions", ha="center", va="center")
    fig.suptitle("most frequent confusions (true | predicted)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, Path(path))
