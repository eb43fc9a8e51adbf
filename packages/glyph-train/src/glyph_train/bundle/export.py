"""`glyph-train export` (docs/export.md): the trained Phase 1 and Phase 2 as a model bundle under
outputs/export/<name>/ that runs without TensorFlow.

The bundle is written to a sibling ``.partial`` folder and renamed when complete, so a reader never
sees half a bundle. Every number in its manifest is measured here, on the bundle's own LiteRT models.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.bundle import CENTROIDS, INDEX, LABELS, MANIFEST, BundleManifest, ModelFile, PrecisionEntry, RasterPolicy, TensorSpec
from glyph_core.config import config_hash
from glyph_core.cues import SIDE_FEATURES
from glyph_core.export_config import ExportConfig
from glyph_core.paths import OutputLayout
from glyph_core.primitives import load_centroids
from glyph_core.rasters import RasterStore, open_rasters
from glyph_core.recognizer import Recognizer
from glyph_core.retrieval import RetrievalIndex
from glyph_core.runs import record_run

from glyph_train.bundle import measure
from glyph_train.data.glyphs import GlyphTable, load_glyph_table
from glyph_train.evaluate.ways import build_ways, checkpoint
from glyph_train.predict import top_k

COMMAND = "glyph-train export"


@dataclass
class ExportSummary:
    folder: Path
    manifest: BundleManifest
    seconds: float

    def __str__(self) -> str:
        lines = [f"bundle           {self.folder}"]
        for precision, entry in self.manifest.precisions.items():
            scores = ", ".join(f"{split} {100 * (s.top1_alt or 0):.1f}% alt-aware top-1" for split, s in entry.accuracy.items())
            size = (entry.cell_model.bytes + entry.grid_model.bytes) / 1e6
            lines.append(f"{precision:<16} {size:.2f} MB; {scores}")
        lines.append(f"time             {self.seconds:.1f} s")
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tensor_specs(details: dict[str, Any]) -> list[TensorSpec]:
    specs = []
    for name, d in sorted(details.items()):
        shape = [None if s < 0 else int(s) for s in d.get("shape_signature", d["shape"])]
        specs.append(TensorSpec(name=name, shape=shape, dtype=np.dtype(d["dtype"]).name))
    return specs


def _model_file(folder: Path, relative: str, content: bytes) -> ModelFile:
    from ai_edge_litert.interpreter import Interpreter

    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    runner = Interpreter(model_path=str(path)).get_signature_runner()
    return ModelFile(
        file=relative, bytes=len(content), sha256=_sha256(path),
        inputs=_tensor_specs(runner.get_input_details()), outputs=_tensor_specs(runner.get_output_details()),
    )  # fmt: skip


def _calibration(source: RasterStore, table: GlyphTable, reference: Recognizer, config: ExportConfig) -> tuple[list, list]:
    """Seeded train glyphs as int8 calibration batches: their distinct cells (cell model) and their
    Phase 1 grids with size cues (grid model)."""
    train = source.rows_of("train")
    rng = np.random.default_rng(config.seed)
    rows = np.sort(rng.choice(train, size=min(config.calibration_glyphs, len(train)), replace=False))
    masks = measure.read_masks(source, rows)
    codec = reference.codec
    keys = np.unique(codec.masks_to_keys(masks).reshape(-1))
    cells = codec.decode(keys).reshape(-1, codec.cell_size, codec.cell_size, 1).astype(np.float32)
    cell_batches = [{"cells": cells[i : i + 64]} for i in range(0, len(cells), 64)]
    grids = reference.grids(masks)
    side = table.side[rows]
    grid_batches = [{"grid": grids[i : i + 16], "side": side[i : i + 16]} for i in range(0, len(rows), 16)]
    return cell_batches, grid_batches


def _labels_file(table: GlyphTable) -> dict[str, Any]:
    twins: dict[str, set[str]] = {}
    for label, row in zip(table.label, table.twin_labels, strict=True):
        for twin in row[row >= 0]:
            if twin != label:
                twins.setdefault(table.labels[label], set()).add(table.labels[twin])
    return {"labels": list(table.labels), "twins": {k: sorted(v) for k, v in sorted(twins.items())}}


def run_export(config: ExportConfig, config_path: str | None = None, stage_key: str | None = None) -> ExportSummary:
    from glyph_train.bundle.serving import to_litert, write_cell_model, write_grid_model
    from glyph_train.phase1.classifier import load_classifier
    from glyph_train.phase1.evaluate import model_hash
    from glyph_train.phase2.classifier import load_grid_classifier

    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    source = open_rasters(layout)
    table = load_glyph_table(source, layout)
    centroids, chash = load_centroids(layout.centroids, source.cell_size)
    phase1 = load_classifier(checkpoint(layout, "phase1"), compile=False)
    phase2 = load_grid_classifier(checkpoint(layout, "phase2"), compile=False)
    classes = int(phase2.output["logits"].shape[-1])
    if classes != len(table.labels):
        raise ValueError(f"the Phase 2 model predicts {classes} labels but the rasters store has {len(table.labels)}: retrain it")
    folder = layout.export(config.name)
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    keras_forms = {}
    for stage in ("phase1", "phase2"):
        keras_forms[stage] = f"keras/{stage}.keras"
        (work / "keras").mkdir(exist_ok=True)
        shutil.copyfile(checkpoint(layout, stage), work / keras_forms[stage])
    saved = {"cell": "saved_model/cell", "grid": "saved_model/grid"}
    write_cell_model(phase1, work / saved["cell"])
    write_grid_model(phase2, work / saved["grid"])
    (work / LABELS).write_text(json.dumps(_labels_file(table), ensure_ascii=False), encoding="utf-8")
    np.save(work / CENTROIDS, centroids)

    def write_manifest(precisions: dict[str, PrecisionEntry], index: str | None = None, measured: dict[str, Any] | None = None) -> BundleManifest:
        manifest = BundleManifest(
            name=config.name, created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            raster=RasterPolicy(canvas_size=source.canvas_size, cell_size=source.cell_size, grid_side=source.grid_side, side_features=list(SIDE_FEATURES)),
            classes=classes, primitives=int(phase1.output.shape[-1]), feature_dim=int(phase2.backbone.feature_dim),
            rasters_build_id=source.build_id, label_map_hash=source.label_map_hash, centroid_hash=chash,
            phase1_model_hash=model_hash(phase1), phase2_model_hash=model_hash(phase2), precisions=precisions,
            keras=keras_forms, saved_model=saved, index=index, measured=measured or {},
            retrieval_label_weight=config.retrieval_label_weight if index else 0.0,
        )  # fmt: skip
        (work / MANIFEST).write_text(json.dumps(manifest.model_dump(mode="json"), indent=2), encoding="utf-8")
        return manifest

    float_models = {name: to_litert(work / path)[0] for name, path in saved.items()}
    entries = {"float32": _entry(work, "float32", float_models, True)}
    write_manifest(entries)  # lets a Recognizer load the float32 models for calibration
    reference = Recognizer(work, "float32")
    if "int8" in config.precisions:
        cell_batches, grid_batches = _calibration(source, table, reference, config)
        cell, cell_integer = to_litert(work / saved["cell"], cell_batches)
        grid, grid_integer = to_litert(work / saved["grid"], grid_batches)
        entries["int8"] = _entry(work, "int8", {"cell": cell, "grid": grid}, cell_integer and grid_integer)
        write_manifest(entries)

    report, scored = _measure(config, layout, source, table, centroids, entries, work)
    index = None
    if config.index:
        index = INDEX
        RetrievalIndex(
            glyph_id=table.glyph_id, font=table.font, split=table.split, label=table.label, twin_labels=table.twin_labels,
            features=scored["features"], top=scored["top"], top_probability=scored["top_probability"],
            font_hashes=np.array(table.fonts, dtype=str),
        ).save(work / INDEX)
    manifest = write_manifest({p: entries[p].model_copy(update=report["entries"][p]) for p in entries}, index, report["measured"])
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    record_run(
        layout, COMMAND, {"export": config_hash(config)},
        inputs={"rasters_build_id": source.build_id, "centroid_hash": chash, "phase1": manifest.phase1_model_hash, "phase2": manifest.phase2_model_hash},
        outputs={"bundle": str(folder), "manifest": str(folder / MANIFEST)}, config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return ExportSummary(folder, manifest, time.perf_counter() - began)


def _entry(work: Path, precision: str, models: dict[str, bytes], integer_only: bool) -> PrecisionEntry:
    return PrecisionEntry(
        cell_model=_model_file(work, f"{precision}/cell.tflite", models["cell"]),
        grid_model=_model_file(work, f"{precision}/grid.tflite", models["grid"]),
        integer_only=integer_only,
    )


def _measure(
    config: ExportConfig, layout: OutputLayout, source: RasterStore, table: GlyphTable, centroids: np.ndarray,
    entries: dict[str, PrecisionEntry], work: Path,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # fmt: skip
    """Accuracy and agreement per precision and split, latency per form, retrieval; and the float32
    features of every store glyph when the index is wanted (else of the scored rows only)."""
    k = 5
    keras_way = build_ways(["end_to_end"], layout, centroids, source.cell_size, source.canvas_size, config.batch_size)[0]
    rows = np.sort(np.concatenate([table.rows_of(s) for s in config.splits])) if config.splits else np.zeros(0, np.int64)
    all_rows = np.arange(source.count) if config.index else rows
    recognizers = {p: Recognizer(work, p, batch=config.batch_size) for p in entries}  # type: ignore[arg-type]
    features = np.zeros((source.count, recognizers["float32"].manifest.feature_dim), np.float32)
    float_ranked = np.zeros((source.count, k), np.int64)
    float_probability = np.zeros((source.count, k), np.float32)
    from tqdm import tqdm

    for chunk_rows, masks in tqdm(source.iter_rows(all_rows), total=len(source.chunks_of(all_rows)), desc="float32 bundle", unit="chunk", leave=False):
        out = recognizers["float32"].classify(masks, table.side[chunk_rows])
        best = top_k(out.probabilities, k)
        features[chunk_rows], float_ranked[chunk_rows] = out.features, best
        float_probability[chunk_rows] = np.take_along_axis(out.probabilities, best, axis=1)
    ranked = {"keras": measure.ranked_rows(keras_way.predict, source, table, rows, k), "float32": float_ranked[rows]}
    for precision in entries:
        if precision != "float32":
            ranked[precision] = measure.ranked_rows(lambda m, s, r=recognizers[precision]: r.classify(m, s).probabilities, source, table, rows, k)
    report: dict[str, Any] = {"entries": {}, "measured": {}}
    for precision in entries:
        accuracy = {}
        for split in config.splits:
            chosen = np.isin(rows, table.rows_of(split))
            accuracy[split] = measure.split_score(ranked[precision][chosen], table, rows[chosen], config.bootstrap_resamples)
        report["entries"][precision] = {"accuracy": accuracy, "agreement_with_keras": measure.agreement(ranked[precision], ranked["keras"])}
    keras_accuracy = {}
    for split in config.splits:
        chosen = np.isin(rows, table.rows_of(split))
        keras_accuracy[split] = measure.split_score(ranked["keras"][chosen], table, rows[chosen], config.bootstrap_resamples).model_dump()
    timed = np.sort(table.rows_of("test"))[: config.latency_glyphs]
    masks, side = measure.read_masks(source, timed), table.side[timed]
    forms = {
        "keras": lambda: build_ways(["end_to_end"], layout, centroids, source.cell_size, source.canvas_size, config.batch_size)[0].predict,
        **{p: (lambda p=p: Recognizer(work, p, batch=config.batch_size).classify) for p in entries},  # type: ignore[misc]
    }
    report["measured"] = {
        "keras_accuracy": keras_accuracy,
        "latency": {form: measure.latency(fresh, masks, side) for form, fresh in forms.items()},
        "latency_glyphs": int(len(timed)),
    }
    if config.index:
        # Test queries are the headline; val queries are where the label weight is chosen. Both orders measured.
        train = table.rows_of("train")
        for name, split in (("retrieval", "test"), ("retrieval_val", "val")):
            queries = table.rows_of(split)
            ranked_by = measure.retrieval(
                features, table, queries, train, config.retrieval_k, top=float_ranked, top_probability=float_probability,
                label_weight=config.retrieval_label_weight,
            )
            cosine = measure.retrieval(features, table, queries, train, config.retrieval_k)
            report["measured"][name] = ranked_by | {
                "pool_split": "train", "query_split": split, "same_label_share_cosine_only": cosine["same_label_share"],
            }
    return report, {"features": features, "top": float_ranked, "top_probability": float_probability}

