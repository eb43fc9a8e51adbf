"""`glyph-train baseline`: rasters store -> MobileNetV3Small glyph classifier, its val and test accuracy.

The one-stage comparison point of docs/evaluation.md: the same splits and label map as the hierarchical model,
trained by the same checkpointed loop; `glyph-train evaluate` scores it beside the others.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from glyph_core.classifier_config import BaselineConfig
from glyph_core.config import config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run

from glyph_train.baseline.inputs import batch_signature, fixed_batches, fixed_dataset, one_hot, prepare_training_batch
from glyph_train.baseline.model import build_baseline, load_baseline
from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.glyphs import PackedRasters, load_glyph_table
from glyph_core.rasters import open_rasters
from glyph_train.distribute import distributed_batches, is_chief, make_strategy
from glyph_train.errors import TrainingInputError
from glyph_train.evaluate.flops import count_flops
from glyph_train.optim import make_optimizer, schedule_callbacks
from glyph_train.phase1.evaluate import model_hash
from glyph_train.predict import format_share, strict_shares, top_k
from glyph_train.training import BEST, TrainSettings, fit, prepare_run

METRICS_FILE = "metrics.json"
TOP_K = 5


@dataclass
class BaselineSummary:
    profile: str
    parameters: int
    epochs_run: int
    resumed_at_epoch: int
    best_epoch: int
    best_val_accuracy: float
    steps_per_epoch: int
    glyphs_per_second: float | None  # steady-state training rate of this call (TrainingRate); None if it trained none
    metrics: dict[str, Any]
    metrics_path: str
    seconds: float

    def __str__(self) -> str:
        rate = f", {self.glyphs_per_second:.0f} glyphs/s" if self.glyphs_per_second else ""
        lines = [
            f"profile          {self.profile}: {self.steps_per_epoch} steps per epoch, {self.parameters:,} parameters",
            f"training         {self.epochs_run} epochs"
            + (f" (resumed after epoch {self.resumed_at_epoch})" if self.resumed_at_epoch else "")
            + f", best val accuracy {self.best_val_accuracy:.4f} at epoch {self.best_epoch}{rate}",
        ]
        for split in ("val", "test") if self.metrics else ():
            scores = self.metrics[split]
            top1, top5 = (format_share(scores[f"top{k}_strict"]) for k in (1, TOP_K))
            lines.append(f"{split:<17}top-1 {top1}, top-{TOP_K} {top5} (strict, {scores['glyphs']:,} glyphs)")
        lines += [f"time             {self.seconds:.1f} s", f"metrics          {self.metrics_path}"]
        return "\n".join(lines)


class TrainingRate:
    """Steady-state training speed: the time between consecutive batch ends within an epoch.

    Leaves out each epoch's first batch (graph tracing, the input pipeline filling up) and the
    validation pass, so short runs report the rate a long one would reach.
    """

    def __init__(self, batch_size: int) -> None:
        import keras

        self.batch_size = batch_size
        self.seconds = 0.0
        self.steps = 0
        self.callback = keras.callbacks.LambdaCallback(on_epoch_begin=self._epoch_begins, on_train_batch_end=self._batch_ends)
        self._last: float | None = None

    def _epoch_begins(self, epoch: int, logs: Any = None) -> None:
        self._last = None

    def _batch_ends(self, batch: int, logs: Any = None) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.seconds += now - self._last
            self.steps += 1
        self._last = now

    @property
    def glyphs_per_second(self) -> float | None:
        return self.steps * self.batch_size / self.seconds if self.steps else None


def training_identity(config: BaselineConfig, rasters_build_id: str, label_map_hash: str) -> dict[str, str]:
    """What a checkpoint must share with this run to be resumed: the settings that shape training and its inputs.

    Only the active profile counts, so editing another profile leaves a run resumable.
    """
    shaping = config.model_dump(
        mode="json",
        exclude={"outputs", "resume", "tensorboard", "eval_batch_size", "prefetch_batches", "distribute", "profile", "profiles", "training"},
    )
    shaping["training"] = config.active.model_dump(mode="json")
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"training_config_hash": digest, "rasters_build_id": rasters_build_id, "label_map_hash": label_map_hash}


def predict_top_k(model: Any, rasters: PackedRasters, rows: np.ndarray, labels: np.ndarray, batch_size: int, k: int) -> np.ndarray:
    """(n, k) label ids of ``rows``, most likely first."""
    parts = []
    for inputs, _ in fixed_batches(rasters, rows, labels, batch_size):
        parts.append(top_k(np.asarray(model.predict_on_batch(inputs)), k))
    return np.concatenate(parts) if parts else np.zeros((0, k), dtype=np.int64)


def run_baseline(config: BaselineConfig, config_path: str | None = None, stage_key: str | None = None, restart_stale: bool = False
) -> BaselineSummary:
    import keras
    import tensorflow as tf

    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    strategy = make_strategy(config.distribute)
    keras.utils.set_random_seed(config.seed)
    source = open_rasters(layout)
    table = load_glyph_table(source, layout)
    num_labels = len(table.labels)
    profile = config.active
    train_rows, val_rows, test_rows = (table.rows_of(s) for s in ("train", "val", "test"))
    if len(train_rows) < profile.batch_size or not len(val_rows):
        raise TrainingInputError(
            f"{source.path}: {len(train_rows)} train and {len(val_rows)} val glyphs cannot train batches of "
            f"{profile.batch_size} with early stopping; lower `batch_size` or build a larger store"
        )
    # 2 KB a glyph: the three splits of the Debian fonts take ~86 MB.
    rasters = PackedRasters(source, np.concatenate([train_rows, val_rows, test_rows]))

    epoch_glyphs = profile.epoch_glyphs or len(train_rows)
    steps_per_epoch = max(1, epoch_glyphs // profile.batch_size)
    settings = TrainSettings(
        epochs=profile.epochs,
        steps_per_epoch=steps_per_epoch,
        learning_rate=profile.learning_rate,
        patience=profile.early_stopping_patience,
    )
    folder = layout.checkpoints("baseline")
    chief = is_chief()

    def new_model() -> keras.Model:
        return build_baseline(num_labels, source.canvas_size, config.model)

    def compile_model(model: keras.Model) -> None:
        optimizer = make_optimizer(config.schedule, profile.learning_rate, profile.epochs * steps_per_epoch, steps_per_epoch)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=config.label_smoothing),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy"), keras.metrics.TopKCategoricalAccuracy(TOP_K, name=f"top{TOP_K}")],
        )

    identity = training_identity(config, source.build_id, source.label_map_hash)
    model, state = prepare_run(folder, identity, config.resume, strategy, new_model, compile_model, restart_stale)
    resumed_at = state.epoch
    prepare = prepare_training_batch(rasters, table.label, config.raster_augment)

    def make_dataset(batch: int, shard: tuple[int, int]) -> Any:
        # Each input pipeline streams its own share of the rows; the stream's batch counter makes resuming exact.
        stream = GlyphBatches(train_rows[shard[0] :: shard[1]], batch, config.seed, prepare, start_batch=state.epoch * steps_per_epoch)
        return one_hot(stream.dataset(batch_signature(source.canvas_size), config.prefetch_batches), num_labels)

    val_data = train_data = None  # a finished run trains no more
    if not state.finished:
        val_data = fixed_dataset(rasters, val_rows, table.label, config.eval_batch_size, num_labels)
        train_data = distributed_batches(strategy, make_dataset, profile.batch_size)
    speed = TrainingRate(profile.batch_size)
    fit_began = time.perf_counter()
    state = fit(
        model, state, train_data, val_data, settings, folder, layout.logs / "baseline", config.tensorboard, chief,
        extra_callbacks=[*schedule_callbacks(config.schedule), speed.callback],
    )  # fmt: skip
    fit_seconds = time.perf_counter() - fit_began
    rate = speed.glyphs_per_second
    if not chief:
        return _summary(config, model, state, resumed_at, settings, rate, {}, "", began)

    best = load_baseline(folder / BEST) if (folder / BEST).is_file() else model
    metrics: dict[str, Any] = {
        "model": {
            "parameters": int(best.count_params()),
            "backbone_parameters": int(best.backbone.count_params()),
            "flops": count_flops(best, tf.TensorSpec((1, source.canvas_size, source.canvas_size, 1), tf.float32)),
            "model_hash": model_hash(best),
            "checkpoint": str(folder / BEST),
            "canvas_size": source.canvas_size,
            "num_labels": num_labels,
        },
        "inputs": {"rasters_build_id": source.build_id, "label_map_hash": source.label_map_hash},
    }
    for split, rows in (("val", val_rows), ("test", test_rows)):
        ranked = predict_top_k(best, rasters, rows, table.label, config.eval_batch_size, TOP_K)
        metrics[split] = strict_shares(ranked, table.label[rows])
    metrics["training"] = {
        "profile": config.profile,
        "epochs_run": state.epoch,
        "resumed_at_epoch": resumed_at,
        "best_epoch": state.best_epoch,
        "best_val_accuracy": state.best_val_accuracy,
        "steps_per_epoch": steps_per_epoch,
        "global_batch_size": profile.batch_size,
        "learning_rate": profile.learning_rate,
        "strategy": config.distribute.strategy,
        "replicas": int(strategy.num_replicas_in_sync),
        "train_glyphs": int(len(train_rows)),
        "fit_seconds_this_run": fit_seconds,
        "glyphs_per_second_this_run": rate,
        "history": state.history,
    }
    metrics_path = layout.analysis / "baseline" / METRICS_FILE
    metrics_path.parent.mkdir(parents=True, exist_ok=True)
    metrics_path.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    record_run(
        layout, "glyph-train baseline", {"baseline": config_hash(config), "training": identity["training_config_hash"]},
        inputs={"rasters_build_id": source.build_id},
        outputs={"checkpoint": str(folder / BEST), "metrics": str(metrics_path), "test_top1": metrics["test"]["top1_strict"]},
        model_hash=metrics["model"]["model_hash"], config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return _summary(config, best, state, resumed_at, settings, rate, metrics, str(metrics_path), began)


def _summary(
    config: BaselineConfig, model: Any, state: Any, resumed_at: int, settings: TrainSettings, rate: float | None,
    metrics: dict[str, Any], metrics_path: str, began: float,
) -> BaselineSummary:  # fmt: skip
    return BaselineSummary(
        profile=config.profile,
        parameters=int(model.count_params()),
        epochs_run=state.epoch,
        resumed_at_epoch=resumed_at,
        best_epoch=state.best_epoch,
        best_val_accuracy=float(state.best_val_accuracy or 0.0),
        steps_per_epoch=settings.steps_per_epoch,
        glyphs_per_second=rate,
        metrics=metrics,
        metrics_path=metrics_path,
        seconds=time.perf_counter() - began,
    )
