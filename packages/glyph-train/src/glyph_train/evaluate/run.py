"""`glyph-train evaluate`: every way scored on the home store's val/test designs and on any other store.

Writes outputs/analysis/evaluate/: evaluation.json (every number), report.md, and the plots; prints
the comparison table. Other stores (a user's fonts through `rasterd ingest` + `rasterd build`) are
matched to the models' labels by name; rows of labels the models never saw are counted apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.classifier_config import EvaluateConfig
from glyph_core.config import config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run
from glyph_core.store import unpack_masks

from glyph_train.data.glyphs import GlyphTable, load_glyph_table
from glyph_core.rasters import RasterStore, open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.evaluate import report
from glyph_train.evaluate.metrics import (
    CHAR_CLASS, DESIGN, FONT, LIGATURES, MARKS, SMALL_GLYPHS, Grouping, glyph_metrics, map_labels, split_unknown, to_label_space,
)  # fmt: skip
from glyph_train.evaluate.ways import Way, build_ways
from glyph_train.predict import top_k

FOLDER = "evaluate"


@dataclass
class EvaluateSummary:
    table: str
    result: dict[str, Any]
    report_path: str
    seconds: float

    def __str__(self) -> str:
        lines = [self.table, ""]
        for name, source in self.result.get("external", {}).items():
            unknown = source["unknown"]
            lines.append(f"external {name}: {unknown['rows']} rows of {len(unknown['labels'])} labels unknown to the models")
        lines += [f"report           {self.report_path}", f"time             {self.seconds:.1f} s"]
        return "\n".join(lines)


def headline(result: dict[str, Any]) -> str:
    """The table printed when evaluation ends: every way on every evaluated split, with intervals."""
    return f"held-out designs (95% intervals over design groups)\n{report.headline_table(result)}"


def font_names(table: GlyphTable) -> list[str]:
    """Readable font names: design group and a short hash (fonts of one design differ by weight or width)."""
    return [
        f"{table.design_names[d] if d >= 0 else '?'} {h[:8]}"
        for h, d in zip(table.fonts, _design_of_fonts(table), strict=True)
    ]


def _design_of_fonts(table: GlyphTable) -> np.ndarray:
    design = np.full(len(table.fonts), -1, dtype=np.int64)
    design[table.font] = table.design
    return design


def score_rows(ways: list[Way], source: RasterStore, table: GlyphTable, rows: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Top-k label ids (in each model's label space) of every way for ``rows``, read chunk by chunk."""
    from tqdm import tqdm

    parts: dict[str, list[np.ndarray]] = {w.name: [] for w in ways}
    order: list[np.ndarray] = []
    chunks = source.iter_rows(rows)
    for chunk_rows, masks in tqdm(chunks, total=len(source.chunks_of(rows)), desc="scoring chunks", unit="chunk", leave=False):
        order.append(chunk_rows)
        for way in ways:
            parts[way.name].append(top_k(way.predict(masks, table.side[chunk_rows]), k))
    # iter_rows walks chunks in store order, which is ascending row order: the rows' own order.
    return {name: np.concatenate(p) if p else np.zeros((0, k), dtype=np.int64) for name, p in parts.items()}


def source_metrics(
    config: EvaluateConfig, ways: list[Way], source: RasterStore, table: GlyphTable, model_labels: list[str], splits: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, np.ndarray]]:
    """Per way and split, the glyph metrics; the unknown-label report; and each split's rows."""
    mapping = map_labels(table.labels, model_labels)
    names = font_names(table)
    per_way: dict[str, dict[str, Any]] = {w.name: {} for w in ways}
    unknown_total = {"rows": 0, "labels": {}}
    rows_of: dict[str, np.ndarray] = {}
    for split in splits:
        rows = table.rows_of(split)
        known, unknown = split_unknown(table.label[rows], mapping, table.labels)
        unknown_total["rows"] += unknown["rows"]
        for name, count in unknown["labels"].items():
            unknown_total["labels"][name] = unknown_total["labels"].get(name, 0) + count
        rows = rows[known]
        rows_of[split] = rows
        ranked = score_rows(ways, source, table, rows, config.top_k)
        true = to_label_space(table.label[rows], mapping)
        twins = to_label_space(table.twin_labels[rows], mapping)
        mark_class, mark_size = table.aux_targets(rows).astype(bool).T  # a mark; drawn at mark size
        ligature = table.char_class[rows] == (table.char_classes.index("ligature") if "ligature" in table.char_classes else -2)
        breakdowns = {
            CHAR_CLASS: Grouping(table.char_class[rows], table.char_classes),
            FONT: Grouping(table.font[rows], names),
            DESIGN: Grouping(table.design[rows], table.design_names),
        }
        for way in ways:
            per_way[way.name][split] = glyph_metrics(
                ranked[way.name], true, twins, len(model_labels), breakdowns, {MARKS: mark_class, SMALL_GLYPHS: mark_size & ~mark_class, LIGATURES: ligature},
                config.min_font_glyphs, config.top_confusions, config.bootstrap_resamples,
            )  # fmt: skip
    unknown_total["labels"] = dict(sorted(unknown_total["labels"].items(), key=lambda kv: (-kv[1], kv[0])))
    return per_way, unknown_total, rows_of


def run_evaluate(config: EvaluateConfig, config_path: str | None = None, stage_key: str | None = None) -> EvaluateSummary:
    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    source = open_rasters(layout)
    table = load_glyph_table(source, layout)
    model_labels = list(table.labels)
    centroids, chash = load_centroids(layout.centroids, source.cell_size)
    ways = build_ways(list(config.models), layout, centroids, source.cell_size, source.canvas_size, config.batch_size)
    for way in ways:
        if way.classes != len(model_labels):
            raise ValueError(
                f"the {way.name} model predicts {way.classes} labels but the rasters store has {len(model_labels)}: "
                "it was trained on another build; retrain it"
            )
    home, _, rows_of = source_metrics(config, ways, source, table, model_labels, list(config.splits))
    scored = sum(len(rows) for rows in rows_of.values())
    result: dict[str, Any] = {
        "labels": model_labels,
        "ways": {
            w.name: {"params": w.parameters, "flops": w.flops, "flops_amortized": w.flops_after(scored), "splits": home[w.name]}
            for w in ways
        },
        "inputs": {"rasters_build_id": source.build_id, "label_map_hash": source.label_map_hash, "centroid_hash": chash},
        "external": {},
    }
    for ext in config.external:
        ext_layout = OutputLayout.at(ext.outputs_root)
        ext_source = open_rasters(ext_layout)
        if ext_source.cell_size != source.cell_size or ext_source.canvas_size != source.canvas_size:
            raise ValueError(f"external store {ext_source.path} uses another canvas or cell size than the models")
        ext_table = load_glyph_table(ext_source, ext_layout)
        per_way, unknown, _ = source_metrics(config, ways, ext_source, ext_table, model_labels, list(ext.splits))
        result["external"][ext.name] = {
            "path": str(ext_source.path),
            "ways": {w.name: {"params": w.parameters, "flops": w.flops, "splits": per_way[w.name]} for w in ways},
            "unknown": unknown,
        }
    folder = layout.analysis / FOLDER
    figures = write_outputs(folder, result, source, table, rows_of)
    report_path = report.write_markdown(folder / "report.md", result, figures)
    json_path = report.write_json(folder / "evaluation.json", result)
    record_run(
        layout, "glyph-train evaluate", {"evaluate": config_hash(config)},
        inputs=result["inputs"], outputs={"report": str(report_path), "json": str(json_path)},
        config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return EvaluateSummary(headline(result), result, str(report_path), time.perf_counter() - began)


def write_outputs(folder: Path, result: dict[str, Any], source: RasterStore, table: GlyphTable, rows_of: dict[str, np.ndarray]) -> dict[str, str]:
    """The plots: title -> file (the report links them relative to itself)."""
    folder.mkdir(parents=True, exist_ok=True)
    figures: dict[str, str] = {}
    examples = _examples(table, rows_of)

    def example_of(label: int) -> np.ndarray | None:
        row = examples.get(label)
        return None if row is None else unpack_masks(source.group["raster"][row : row + 1], value=1)[0]

    for split in rows_of:
        figures[f"Per-class accuracy ({split})"] = str(report.plot_per_class(folder / f"per_class_{split}.png", result, split))
        figures[f"Per-design accuracy ({split})"] = str(report.plot_per_design(folder / f"per_design_{split}.png", result, split))
        for way, entry in result["ways"].items():
            confusions = entry["splits"][split]["top_confusions"]
            path = report.plot_confusions(folder / f"confusions_{way}_{split}.png", confusions, result["labels"], example_of)
            figures[f"Top confusions, {way} ({split})"] = str(path)
    return figures


def _examples(table: GlyphTable, rows_of: dict[str, np.ndarray]) -> dict[int, int]:
    """One row per label to draw it by: from the evaluated rows first, else any row of the store."""
    examples: dict[int, int] = {}
    ordered = [*rows_of.values(), np.arange(len(table))]
    for rows in ordered:
        for row in rows[::-1]:
            examples.setdefault(int(table.label[row]), int(row))
    return examples
