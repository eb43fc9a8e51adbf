"""`glyph-train phase1`: rasters store + primitive centroids -> trained cell classifier, metrics, predicted grids."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from glyph_core.config import config_hash
from glyph_core.cell_config import Phase1Config
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run

from glyph_core.cells import PrimitiveAssigner
from glyph_core.rasters import RasterStore, open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.distribute import distributed_batches, is_chief, make_strategy
from glyph_train.phase1.classifier import load_classifier
from glyph_train.phase1.evaluate import model_hash, pattern_predictor, score_augmented, write_predicted_grids
from glyph_train.phase1.inputs import cells_per_pass, fixed_cells, training_signature, training_stream
from glyph_train.phase1.metrics import cell_metrics, nearest_prototypes
from glyph_train.phase1.preprocessor import CellPreprocessor
from glyph_train.phase1.report import save_confusion_plot
from glyph_train.phase1.training import build_classifier, compile_classifier
from glyph_train.training import BEST, TrainSettings, fit, prepare_run

METRICS_FILE = "metrics.json"
# The goals on test designs (docs/evaluation.md asks for >= 90% and an empty FPR < 2%).
GOAL_PRIMITIVE_ACCURACY = 0.99
GOAL_EMPTY_FPR = 0.001


@dataclass
class Phase1Summary:
    profile: str
    parameters: int
    epochs_run: int
    resumed_at_epoch: int
    best_epoch: int
    best_val_accuracy: float
    steps_per_epoch: int
    metrics: dict[str, Any]
    store: str
    metrics_path: str
    seconds: float

    def __str__(self) -> str:
        lines = [
            f"profile          {self.profile}: {self.steps_per_epoch} steps per epoch, {self.parameters:,} parameters",
            f"training         {self.epochs_run} epochs"
            + (f" (resumed after epoch {self.resumed_at_epoch})" if self.resumed_at_epoch else "")
            + f", best val accuracy {self.best_val_accuracy:.4f} at epoch {self.best_epoch}",
        ]
        for split in ("val", "test") if self.metrics else ():
            clean, aug = self.metrics[split]["clean"], self.metrics[split]["augmented"]
            lines.append(
                f"{split:<17}primitive accuracy {clean['primitive_accuracy']:.4f} clean, "
                f"{aug['primitive_accuracy']:.4f} augmented; empty FPR {clean['empty_false_positive_rate']:.4%} clean, "
                f"{aug['empty_false_positive_rate']:.4%} augmented"
            )
        lines += [
            f"time             {self.seconds:.1f} s",
            f"metrics          {self.metrics_path}",
            f"predicted grids  {self.store}",
        ]
        return "\n".join(lines)


def training_identity(config: Phase1Config, centroid_hash: str, rasters_build_id: str) -> dict[str, str]:
    """What a checkpoint must share with this run to be resumed: the settings that shape training and its inputs."""
    shaping = config.model_dump(mode="json", exclude={"outputs", "evaluate", "resume", "tensorboard", "distribute", "profile", "profiles", "training"})
    shaping["data"] = {k: v for k, v in shaping["data"].items() if k not in ("workers", "prefetch_batches")}
    shaping["schedule"] = config.active.model_dump(mode="json", exclude={"augmented_eval_rasters"})
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"training_config_hash": digest, "centroid_hash": centroid_hash, "rasters_build_id": rasters_build_id}


def sample_rows(rows: np.ndarray, count: int, seed: int) -> np.ndarray:
    if len(rows) <= count:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=count, replace=False))


def run_phase1(config: Phase1Config, config_path: str | None = None, stage_key: str | None = None, restart_stale: bool = False
) -> Phase1Summary:
    import keras
    import tensorflow as tf

    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    strategy = make_strategy(config.distribute)
    keras.utils.set_random_seed(config.seed)
    source = open_rasters(layout)
    centroids, chash = load_centroids(layout.centroids, source.cell_size)
    assigner = PrimitiveAssigner(centroids, source.cell_size)
    preprocessor = CellPreprocessor(assigner, config.augment, config.data.empty_share, config.data.empty_weight)
    profile = config.active
    train_rows, val_rows = source.rows_of("train"), source.rows_of("val")

    epoch_cells = profile.epoch_cells or cells_per_pass(source, train_rows, assigner.codec, config.data.empty_share)
    settings = TrainSettings(
        epochs=profile.epochs,
        steps_per_epoch=max(1, epoch_cells // profile.batch_size),
        learning_rate=profile.learning_rate,
        patience=profile.early_stopping_patience,
    )
    folder = layout.checkpoints("phase1")
    chief = is_chief()

    def new_model() -> keras.Model:
        return build_classifier(assigner.primitive_count, source.cell_size, config.model)

    identity = training_identity(config, chash, source.build_id)
    model, state = prepare_run(
        folder, identity, config.resume, strategy, new_model, lambda m: compile_classifier(m, settings, config.weight_decay, config.final_lr_fraction), restart_stale
    )
    resumed_at = state.epoch
    val_data, val_count = None, None  # a finished run trains no more and needs no early-stopping set
    if not state.finished:
        val = fixed_cells(source, val_rows, preprocessor, seed=config.seed, limit=profile.val_cells)
        val_data = tf.data.Dataset.from_tensor_slices((val.inputs, val.targets)).batch(config.evaluate.batch_size)
        val_count = len(val)
    signature = training_signature(source.cell_size)

    def make_dataset(batch: int, shard: tuple[int, int]) -> Any:
        stream = training_stream(
            source, train_rows, preprocessor, batch, seed=[config.seed, state.epoch],
            shuffle_chunks=config.data.shuffle_chunks, workers=config.data.workers, shard=shard,
        )  # fmt: skip
        return stream.dataset(signature, config.data.prefetch_batches)

    train_data = distributed_batches(strategy, make_dataset, profile.batch_size)
    fit_began = time.perf_counter()
    state = fit(model, state, train_data, val_data, settings, folder, layout.logs / "phase1", config.tensorboard, chief)
    fit_seconds = time.perf_counter() - fit_began
    if not chief:
        return _summary(config, model, state, resumed_at, settings, {}, "", "", began)

    best = load_classifier(folder / BEST) if (folder / BEST).is_file() else model
    metrics = evaluate(config, layout, source, assigner, preprocessor, best, centroids, chash)
    metrics["training"] = {
        "profile": config.profile,
        "epochs_run": state.epoch,
        "resumed_at_epoch": resumed_at,
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "steps_per_epoch": settings.steps_per_epoch,
        "global_batch_size": profile.batch_size,
        "learning_rate": profile.learning_rate,
        "strategy": config.distribute.strategy,
        "replicas": int(strategy.num_replicas_in_sync),
        "val_cells": val_count,
        "fit_seconds_this_run": fit_seconds,
        "history": state.history,
    }
    metrics_path = layout.analysis / "phase1" / METRICS_FILE
    metrics_path.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    summary = _summary(config, best, state, resumed_at, settings, metrics, str(layout.predicted_grids_store), str(metrics_path), began)
    record_run(
        layout, "glyph-train phase1", {"phase1": config_hash(config), "training": identity["training_config_hash"]},
        inputs={"rasters_build_id": source.build_id, "centroids": str(layout.centroids)},
        outputs={
            "checkpoint": str(folder / BEST), "predicted_grids": str(layout.predicted_grids_store),
            "metrics": str(metrics_path), "test_primitive_accuracy": metrics["test"]["clean"]["primitive_accuracy"],
        },
        centroid_hash=chash, model_hash=metrics["model"]["model_hash"], config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return summary


def evaluate(
    config: Phase1Config,
    layout: OutputLayout,
    source: RasterStore,
    assigner: PrimitiveAssigner,
    preprocessor: CellPreprocessor,
    model: Any,
    centroids: np.ndarray,
    chash: str,
) -> dict[str, Any]:
    """docs/phase1.md metrics on val and test designs (clean and augmented), confusion plots, predicted-grids store."""
    ev = config.evaluate
    mhash = model_hash(model)
    predictor = pattern_predictor(model, assigner.codec, ev.batch_size)
    confusions = write_predicted_grids(
        layout.predicted_grids_store, source, assigner, predictor, {"centroid_hash": chash, "model_hash": mhash}
    )
    train_frequency = confusions["train"].sum(axis=1)
    near = nearest_prototypes(centroids)
    metrics: dict[str, Any] = {
        "model": {
            "parameters": int(model.count_params()),
            "trainable_parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "backbone_parameters": int(model.backbone.count_params()),
            "model_hash": mhash,
            "checkpoint": str(layout.checkpoints("phase1") / BEST),
        },
        "inputs": {
            "centroid_hash": chash,
            "rasters_build_id": source.build_id,
            "label_map_hash": source.label_map_hash,
            "primitive_count": assigner.primitive_count,
        },
    }
    folder = layout.analysis / "phase1"
    for split in ("val", "test"):
        clean = cell_metrics(confusions[split], train_frequency, ev.frequency_buckets, ev.top_confusions, near)
        rows = sample_rows(source.rows_of(split), config.active.augmented_eval_rasters, config.seed)
        augmented_confusion = score_augmented(source, rows, preprocessor, model, seed=config.seed, batch_size=ev.batch_size)
        augmented = cell_metrics(augmented_confusion, train_frequency, ev.frequency_buckets, ev.top_confusions, near)
        augmented["rasters"] = len(rows)
        metrics[split] = {"rasters": int(len(source.rows_of(split))), "clean": clean, "augmented": augmented}
        save_confusion_plot(folder / f"confusion_{split}.png", confusions[split], centroids, clean["top_confusions"], f"{split} designs")
    test = metrics["test"]["clean"]
    metrics["goals"] = {
        f"test_primitive_accuracy_at_least_{GOAL_PRIMITIVE_ACCURACY}": _at_least(test["primitive_accuracy"], GOAL_PRIMITIVE_ACCURACY),
        f"test_empty_false_positive_rate_below_{GOAL_EMPTY_FPR}": _below(test["empty_false_positive_rate"], GOAL_EMPTY_FPR),
    }
    return metrics


def _at_least(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def _below(value: float | None, goal: float) -> bool | None:
    return None if value is None else value < goal


def _summary(
    config: Phase1Config, model: Any, state: Any, resumed_at: int, settings: TrainSettings,
    metrics: dict[str, Any], store: str, metrics_path: str, began: float,
) -> Phase1Summary:  # fmt: skip
    return Phase1Summary(
        profile=config.profile,
        parameters=int(model.count_params()),
        epochs_run=state.epoch,
        resumed_at_epoch=resumed_at,
        best_epoch=state.best_epoch,
        best_val_accuracy=float(state.best_val_accuracy or 0.0),
        steps_per_epoch=settings.steps_per_epoch,
        metrics=metrics,
        store=store,
        metrics_path=metrics_path,
        seconds=time.perf_counter() - began,
    )
