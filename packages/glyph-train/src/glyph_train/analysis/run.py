"""`glyph-train analyze`: where the end-to-end model fails on held-out designs, as a static HTML report
(docs/analysis.md) under outputs/analysis/report/: index.html, analysis.json and the images beside them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from glyph_core.analysis_config import AnalyzeConfig
from glyph_core.config import config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run
from glyph_core.store import SPLIT_CODES

from glyph_train.analysis import errors, qa
from glyph_train.analysis.report import Evidence, write_report
from glyph_train.bundle.measure import masks_of
from glyph_train.errors import TrainingInputError
from glyph_train.evaluate.metrics import design_intervals
from glyph_train.predict import top_k

FOLDER = "report"


@dataclass
class AnalyzeSummary:
    report_path: str
    errors: int
    glyphs: int
    seconds: float

    def __str__(self) -> str:
        share = self.errors / self.glyphs if self.glyphs else 0.0
        return f"report           {self.report_path}\nerrors           {self.errors} of {self.glyphs} glyphs ({share:.1%})\ntime             {self.seconds:.1f} s"


def grid_outputs(phase2: Any, grids: np.ndarray, side: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2's label logits and backbone features (its penultimate layer) on ``grids``, batch by batch."""
    import tensorflow as tf

    logits_layer = phase2.get_layer("logits")

    @tf.function(reduce_retracing=True)
    def run(grid: Any, cues: Any) -> tuple[Any, Any]:
        features = phase2.backbone(phase2.embedding([grid, cues]), training=False)
        return logits_layer(features), features

    logits, features = [], []
    for start in range(0, len(grids), batch_size):
        out = run(tf.constant(grids[start : start + batch_size], tf.int32), tf.constant(side[start : start + batch_size], tf.float32))
        logits.append(out[0].numpy())
        features.append(out[1].numpy())
    return np.concatenate(logits), np.concatenate(features)


def _ink_extents(source: Any) -> np.ndarray:
    extents = [qa.ink_extent(masks) for _, masks in source.iter_rows(np.arange(source.count))]
    return np.concatenate(extents) if extents else np.zeros(0, np.int64)


def run_analyze(config: AnalyzeConfig, config_path: str | None = None, stage_key: str | None = None) -> AnalyzeSummary:
    from glyph_train.evaluate.ways import checkpoint
    from glyph_train.phase2.classifier import load_grid_classifier
    from glyph_train.phase2.setup import load_grid_data

    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    data = load_grid_data(layout)
    table, source = data.table, data.source
    rows = table.rows_of(config.split)
    if not len(rows):
        raise TrainingInputError(f"the {config.split} split of {source.path} holds no glyphs")
    phase2 = load_grid_classifier(checkpoint(layout, "phase2"), compile=False)
    side = table.side[rows]
    exact_logits, _ = grid_outputs(phase2, data.true_grids[rows], side, config.batch_size)
    logits, features = grid_outputs(phase2, data.predicted_grids[rows], side, config.batch_size)
    ranked = top_k(logits, 5)
    sets = table.label_sets(rows)
    right = errors.alt_right(ranked[:, 0], sets)
    attribution = errors.attribute(right, errors.alt_right(top_k(exact_logits, 1)[:, 0], sets))
    true, predicted = table.label[rows], ranked[:, 0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probability = np.exp(shifted[np.arange(len(rows)), predicted]) / np.exp(shifted).sum(axis=1)

    wrong = attribution.errors
    family_of = errors.spherical_kmeans(features[wrong], config.families, config.seed)
    intervals = design_intervals(table.design[rows], {"top1_alt": right}, config.bootstrap_resamples, seed=config.seed)
    designs = errors.per_design(right, table.design[rows], table.design_names)
    counter_rows = {name: np.flatnonzero(table.label == table.labels.index(name)) for name in config.counter_labels if name in table.labels}
    holes = {name: qa.counter_holes(masks_of(source, found)) for name, found in counter_rows.items()}
    train = table.rows_of("train")
    usage = np.bincount(data.true_grids[train].reshape(-1), minlength=len(data.centroids) + 1)[1:]
    manifest = json.loads(layout.split_manifest.read_text(encoding="utf-8"))
    split_names = {code: name for name, code in SPLIT_CODES.items()}
    pairs = {(table.fonts[f], split_names[int(s)]) for f, s in zip(table.font, table.split, strict=True)}
    result: dict[str, Any] = {
        "split": config.split,
        "glyphs": int(len(rows)),
        "designs": int(intervals["designs"]),
        "top1_alt": float(right.mean()),
        "top1_alt_interval": intervals["top1_alt"],
        "per_design_mean": float(np.mean([d["top1_alt"] for d in designs])),
        "errors": int(len(wrong)),
        "attribution": {
            errors.PHASE1_NOISE: int(len(attribution.phase1_noise)), errors.COMPOSITION: int(len(attribution.composition)),
            "rescued_by_phase1": int(len(attribution.rescued)),
            "per_char_class": errors.per_class_counts(attribution, table.char_class[rows], table.char_classes),
        },  # fmt: skip
        "families": errors.families(family_of, true[wrong], predicted[wrong], table.labels),
        "per_design": designs,
        "min_label_glyphs": config.min_label_glyphs,
        "worst_labels": errors.worst_labels(right, true, predicted, table.labels, config.worst_labels, config.min_label_glyphs),
        "qa": {
            "sizes": qa.size_check(_ink_extents(source), source.arrays["target_dim"], table.is_diacritic),
            "splits": qa.split_integrity(manifest, sorted(pairs)),
            "counters": {
                name: {"glyphs": int(len(h)), "with_a_hole": int((h > 0).sum())} for name, h in holes.items()
            },
            "counter_labels_missing": [name for name in config.counter_labels if name not in table.labels],
            "primitives": {"vocabulary": int(len(usage)), "train_cells": int(usage.sum()), "unused": int((usage == 0).sum())},
        },
        "inputs": {"rasters_build_id": source.build_id, "centroid_hash": data.centroid_hash, "phase1_model_hash": data.phase1_model_hash},
    }
    evidence = Evidence(config, source, table, rows, phase2, data.true_grids[rows], data.predicted_grids[rows], predicted, probability,
                        right, attribution, family_of, counter_rows, holes, usage)  # fmt: skip
    folder = layout.analysis / FOLDER
    report_path, json_path = write_report(folder, result, evidence)
    record_run(
        layout, "glyph-train analyze", {"analyze": config_hash(config)}, inputs=result["inputs"],
        outputs={"report": str(report_path), "json": str(json_path)}, config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return AnalyzeSummary(str(report_path), result["errors"], result["glyphs"], time.perf_counter() - began)
