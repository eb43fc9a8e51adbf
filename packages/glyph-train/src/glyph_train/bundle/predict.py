"""`glyph-train predict` (docs/export.md): an exported bundle over any rasters store (the home corpus or
one `rasterd build` made from other fonts) -> predictions.jsonl, a per-font summary, and accuracy
wherever the store's labels are labels the bundle knows (matched by name; twins forgiven alt-aware).

Runs the bundle's LiteRT models, like rasterd serve, so what it reports is what a deployment sees.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.bundle import BundleError
from glyph_core.config import config_hash
from glyph_core.export_config import PredictConfig
from glyph_core.paths import OutputLayout
from glyph_core.rasters import open_rasters
from glyph_core.recognizer import Recognizer
from glyph_core.runs import record_run
from glyph_core.store import SPLIT_CODES

from glyph_train.data.glyphs import load_glyph_table
from glyph_train.evaluate.metrics import map_labels, to_label_space
from glyph_train.evaluate.report import markdown_table
from glyph_train.evaluate.run import font_names
from glyph_train.predict import top_k

COMMAND = "glyph-train predict"
SPLIT_NAMES = {code: name for name, code in SPLIT_CODES.items()}


@dataclass
class PredictSummary:
    folder: Path
    glyphs: int
    scored: int
    top1_strict: float | None
    top1_alt: float | None
    seconds: float

    def __str__(self) -> str:
        accuracy = "no labels the bundle knows" if self.top1_alt is None else f"{100 * self.top1_strict:.1f}% strict / {100 * self.top1_alt:.1f}% alt-aware top-1 on {self.scored:,} glyphs"
        return "\n".join([f"predictions      {self.folder / 'predictions.jsonl'} ({self.glyphs:,} glyphs)", f"accuracy         {accuracy}", f"time             {self.seconds:.1f} s"])


def _share(hits: np.ndarray) -> float | None:
    return float(hits.mean()) if len(hits) else None


def run_predict(config: PredictConfig, config_path: str | None = None, stage_key: str | None = None) -> PredictSummary:
    from tqdm import tqdm

    began = time.perf_counter()
    recognizer = Recognizer(config.bundle, config.precision, batch=config.batch_size)
    policy = recognizer.manifest.raster
    source_layout = OutputLayout.at(config.source_root)
    source = open_rasters(source_layout)
    if (source.canvas_size, source.cell_size) != (policy.canvas_size, policy.cell_size):
        raise BundleError(
            f"{source.path} holds {source.canvas_size}px rasters in {source.cell_size}px cells, the bundle expects "
            f"{policy.canvas_size}px in {policy.cell_size}px: build the store with the bundle's raster settings"
        )
    table = load_glyph_table(source, source_layout)
    rows = np.arange(source.count) if config.splits is None else np.sort(np.concatenate([table.rows_of(s) for s in config.splits]))
    mapping = map_labels(table.labels, recognizer.labels)
    true = to_label_space(table.label[rows], mapping)
    accepted = np.concatenate([true[:, None], to_label_space(table.twin_labels[rows], mapping)], axis=1)
    fonts = font_names(table)
    folder = OutputLayout.at(config.outputs.root).analysis / "predict" / config.name
    folder.mkdir(parents=True, exist_ok=True)
    strict = np.zeros(len(rows), bool)
    alt = np.zeros(len(rows), bool)
    position = 0
    with (folder / "predictions.jsonl").open("w", encoding="utf-8") as out:
        for chunk_rows, masks in tqdm(source.iter_rows(rows), total=len(source.chunks_of(rows)), desc="predicting", unit="chunk"):
            probabilities = recognizer.classify(masks, table.side[chunk_rows]).probabilities
            ranked = top_k(probabilities, config.top_k)
            span = slice(position, position + len(chunk_rows))
            strict[span] = ranked[:, 0] == true[span]
            alt[span] = (ranked[:, :1] == accepted[span]).any(axis=1) & (true[span] >= 0)
            for i, row in enumerate(chunk_rows):
                record = {
                    "glyph_id": int(table.glyph_id[row]), "font": fonts[table.font[row]], "split": SPLIT_NAMES.get(int(table.split[row]), "?"),
                    "label": table.labels[table.label[row]], "known_label": bool(true[position + i] >= 0),
                    "top": [{"label": recognizer.labels[c], "probability": round(float(probabilities[i, c]), 6)} for c in ranked[i]],
                }  # fmt: skip
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            position += len(chunk_rows)
    known = true >= 0
    per_font = []
    font_of = table.font[rows]
    for font in np.unique(font_of):
        mine = font_of == font
        scored = mine & known
        per_font.append({
            "font": fonts[font], "glyphs": int(mine.sum()), "known": int(scored.sum()),
            "top1_strict": _share(strict[scored]), "top1_alt": _share(alt[scored]),
        })  # fmt: skip
    summary = {
        "bundle": str(config.bundle), "precision": config.precision, "store": str(source.path), "glyphs": int(len(rows)),
        "known": int(known.sum()), "top1_strict": _share(strict[known]), "top1_alt": _share(alt[known]), "fonts": per_font,
    }  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    (folder / "summary.md").write_text(_summary_markdown(summary), encoding="utf-8")
    record_run(
        OutputLayout.at(config.outputs.root), COMMAND, {"predict": config_hash(config)},
        inputs={"bundle_rasters_build_id": recognizer.manifest.rasters_build_id, "store_build_id": source.build_id},
        outputs={"predictions": str(folder / "predictions.jsonl"), "summary": str(folder / "summary.json")},
        config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return PredictSummary(folder, len(rows), int(known.sum()), summary["top1_strict"], summary["top1_alt"], time.perf_counter() - began)


def _percent(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _summary_markdown(summary: dict[str, Any]) -> str:
    rows = [[f["font"], str(f["glyphs"]), str(f["known"]), _percent(f["top1_strict"]), _percent(f["top1_alt"])] for f in summary["fonts"]]
    head = (
        f"# Predictions of {summary['bundle']} ({summary['precision']}) on {summary['store']}\n\n"
        f"{summary['glyphs']:,} glyphs, {summary['known']:,} with a label the bundle knows: "
        f"{_percent(summary['top1_strict'])} strict / {_percent(summary['top1_alt'])} alt-aware top-1.\n\n"
    )
    return head + markdown_table(["font", "glyphs", "known labels", "top-1 strict", "top-1 alt-aware"], rows) + "\n"
