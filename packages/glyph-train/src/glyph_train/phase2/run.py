"""`glyph-train phase2`: primitive grids -> trained glyph classifier (docs/phase2.md), optional joint fine-tuning.

Trains on Phase 1's predicted grids by default (deployment noise) with token noise and
raster-level augmentation (docs/training.md), stops early on val accuracy, and writes quick val/test numbers
on both true and predicted grids; `glyph-train evaluate` gives the full report.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from glyph_core.classifier_config import Phase2Config
from glyph_core.config import config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run

from glyph_core.cells import PrimitiveAssigner
from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.glyphs import PackedRasters
from glyph_train.distribute import distributed_batches, is_chief, make_strategy
from glyph_train.optim import schedule_callbacks
from glyph_train.phase1.evaluate import model_hash
from glyph_train.phase2.classifier import build_grid_classifier, load_grid_classifier
from glyph_train.phase2.heads import MarginWarmup
from glyph_train.phase2.inputs import GridPreparer, model_inputs, model_targets, signature
from glyph_train.predict import format_share, predict_logits, strict_shares, top_k
from glyph_train.phase2.setup import MONITOR, GridData, compile_phase2, label_loss, load_grid_data
from glyph_train.training import BEST, TrainSettings, fit, prepare_run

METRICS_FILE = "metrics.json"


@dataclass
class Phase2Summary:
    profile: str
    backbone: str
    parameters: int
    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    scores: dict[str, dict[str, float | int | None]]
    joint: dict[str, Any] | None
    metrics_path: str
    seconds: float

    def __str__(self) -> str:
        lines = [
            f"profile          {self.profile}: {self.backbone}, {self.parameters:,} parameters",
            f"training         {self.epochs_run} epochs, best val accuracy {self.best_val_accuracy:.4f} at epoch {self.best_epoch}",
        ]
        for name, score in self.scores.items():
            top1, top5 = format_share(score["top1_strict"]), format_share(score["top5_strict"])
            lines.append(f"{name:<17}top-1 {top1}, top-5 {top5} (strict; alt-aware in `glyph-train evaluate`)")
        if self.joint:
            lines.append(f"joint            {self.joint['epochs_run']} epochs, test top-1 {format_share(self.joint['test_top1'])} end to end")
        lines += [f"time             {self.seconds:.1f} s", f"metrics          {self.metrics_path}"]
        return "\n".join(lines)


def training_identity(config: Phase2Config, inputs: dict[str, str]) -> dict[str, str]:
    shaping = config.model_dump(mode="json", include={"seed", "input", "loss", "schedule"})
    shaping["profile"] = config.active.model_dump(mode="json")
    shaping["input"].pop("prefetch_batches")
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"training_config_hash": digest, **inputs}


def grid_scores(model: keras.Model, data: GridData, grids: np.ndarray, rows: np.ndarray, batch_size: int) -> dict[str, float | int | None]:
    """Strict top-1 / top-5 of ``model`` on ``rows`` fed ``grids``."""
    logits = predict_logits(model, model_inputs(grids[rows], data.table, rows), batch_size)
    return strict_shares(top_k(logits, 5), data.table.label[rows])


def run_phase2(config: Phase2Config, config_path: str | None = None, stage_key: str | None = None, restart_stale: bool = False
) -> Phase2Summary:
    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    strategy = make_strategy(config.distribute)
    keras.utils.set_random_seed(config.seed)
    profile = config.active
    data = load_grid_data(layout)
    table, source = data.table, data.source
    classes = len(table.labels)
    aux = config.loss.aux_diacritic_weight > 0
    train_rows, val_rows = table.rows_of("train"), table.rows_of("val")
    train_grids = data.predicted_grids if config.input.train_grids == "predicted" else data.true_grids

    epoch_glyphs = profile.epoch_glyphs or len(train_rows)
    settings = TrainSettings(
        epochs=profile.epochs,
        steps_per_epoch=max(1, epoch_glyphs // profile.batch_size),
        learning_rate=profile.learning_rate,
        patience=profile.early_stopping_patience,
        monitor=MONITOR,
    )
    identity = training_identity(config, {
        "rasters_build_id": source.build_id, "centroid_hash": data.centroid_hash, "phase1_model_hash": data.phase1_model_hash,
    })  # fmt: skip
    folder = layout.checkpoints("phase2")

    def new_model() -> keras.Model:
        return build_grid_classifier(profile.model, profile.margin, data.vocab, source.grid_side, classes, aux, data.centroids)

    model, state = prepare_run(
        folder, identity, config.resume, strategy, new_model,
        lambda m: compile_phase2(m, config, profile, settings, classes), restart_stale,
    )  # fmt: skip
    augmenting = config.input.raster_augment.share > 0
    preparer = GridPreparer(
        table, train_grids, config.input, data.vocab, aux,
        rasters=PackedRasters(source, train_rows) if augmenting and not state.finished else None,
        assigner=PrimitiveAssigner(data.centroids, source.cell_size) if augmenting else None,
    )  # fmt: skip

    def make_dataset(batch: int, shard: tuple[int, int]) -> Any:
        rows = train_rows[shard[0] :: shard[1]]
        stream = GlyphBatches(rows, batch, config.seed, preparer, start_batch=state.epoch * settings.steps_per_epoch)
        return stream.dataset(signature(source.grid_side, aux), config.input.prefetch_batches)

    val_x = model_inputs(train_grids[val_rows], table, val_rows)
    val_data = (val_x, model_targets(table, val_rows, aux))
    callbacks = schedule_callbacks(config.schedule, MONITOR)
    if profile.margin.kind != "none":
        callbacks.append(MarginWarmup(label_loss(model), profile.margin))
    chief = is_chief()
    train_data = distributed_batches(strategy, make_dataset, profile.batch_size)
    state = fit(
        model, state, train_data, val_data, settings, folder, layout.logs / "phase2", config.tensorboard, chief,
        extra_callbacks=callbacks, validation_batch_size=config.eval_batch_size,
    )  # fmt: skip
    best = load_grid_classifier(folder / BEST) if (folder / BEST).is_file() else model
    # Test only: validation is in the training history, and `glyph-train evaluate` scores both splits.
    scores = {
        f"test {kind}": grid_scores(best, data, grids, table.rows_of("test"), config.eval_batch_size)
        for kind, grids in (("true", data.true_grids), ("predicted", data.predicted_grids))
    }
    joint = None
    if profile.joint.enabled:
        from glyph_train.phase2.joint_run import run_joint

        joint = run_joint(config, layout, data, best, identity, restart_stale)
    if not chief:
        return _summary(config, best, state, scores, joint, "", began)

    metrics = {
        "model": {
            "parameters": int(best.count_params()), "backbone": profile.model.backbone,
            "backbone_parameters": int(best.backbone.count_params()), "model_hash": model_hash(best),
            "checkpoint": str(folder / BEST),
        },
        "inputs": identity,
        "scores": scores,
        "joint": joint,
        "training": {
            "profile": config.profile, "epochs_run": state.epoch, "best_epoch": state.best_epoch,
            "best_val_accuracy": state.best_val_accuracy, "steps_per_epoch": settings.steps_per_epoch,
            "batch_size": profile.batch_size, "train_grids": config.input.train_grids, "history": state.history,
        },
    }  # fmt: skip
    metrics_path = layout.analysis / "phase2" / METRICS_FILE
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    record_run(
        layout, "glyph-train phase2", {"phase2": config_hash(config), "training": identity["training_config_hash"]},
        inputs={k: v for k, v in identity.items() if k != "training_config_hash"},
        outputs={"checkpoint": str(folder / BEST), "metrics": str(metrics_path), **({"joint": joint["checkpoint"]} if joint else {})},
        model_hash=metrics["model"]["model_hash"], config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return _summary(config, best, state, scores, joint, str(metrics_path), began)


def _summary(config: Phase2Config, model: Any, state: Any, scores: dict, joint: Any, metrics_path: str, began: float) -> Phase2Summary:
    return Phase2Summary(
        profile=config.profile,
        backbone=config.active.model.backbone,
        parameters=int(model.count_params()),
        epochs_run=state.epoch,
        best_epoch=state.best_epoch,
        best_val_accuracy=float(state.best_val_accuracy or 0.0),
        scores=scores,
        joint=joint,
        metrics_path=metrics_path,
        seconds=time.perf_counter() - began,
    )
