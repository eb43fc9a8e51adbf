"""`glyph-train baseline`: rasters store -> one-stage glyph classifier (pixel CNN or MobileNetV3Small), its val and test accuracy.

The one-stage comparison point of docs/evaluation.md: the same splits and label map as the hierarchical model,
trained by the same checkpointed loop; `glyph-train evaluate` scores it beside the others.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.classifier_config import BaselineConfig
from glyph_core.rasters import open_rasters

from glyph_train.baseline.inputs import batch_signature, fixed_batches, fixed_dataset, prepare_training_batch
from glyph_train.baseline.model import build_baseline, load_baseline
from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.glyphs import SIDE_FEATURES, GlyphTable, PackedRasters, load_glyph_table
from glyph_train.data.variants import load_variants
from glyph_train.distribute import distributed_batches
from glyph_train.errors import TrainingInputError
from glyph_train.evaluate.flops import count_flops
from glyph_train.optim import make_optimizer, schedule_callbacks
from glyph_train.phase1.evaluate import model_hash
from glyph_train.phase2.heads import LabelAccuracy, LabelTopK, MarginCrossEntropy
from glyph_train.predict import format_share, strict_shares, top_k
from glyph_train.task import Datasets, FitResult, StageSummary, TrainingTask
from glyph_train.training import BEST, TrainingState, TrainSettings

TOP_K = 5


@dataclass
class BaselineSummary(StageSummary):
    glyphs_per_second: float | None  # steady-state training rate of this call (TrainingRate); None if it trained none
    metrics: dict[str, Any]
    metrics_path: str

    def __str__(self) -> str:
        rate = f", {self.glyphs_per_second:.0f} glyphs/s" if self.glyphs_per_second else ""
        lines = self.header(f"{self.steps_per_epoch} steps per epoch", rate)
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


def predict_top_k(model: Any, rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, batch_size: int, k: int) -> np.ndarray:
    """(n, k) label ids of ``rows``, most likely first."""
    parts = []
    for inputs, _ in fixed_batches(rasters, table, rows, batch_size):
        parts.append(top_k(np.asarray(model.predict_on_batch(inputs)), k))
    return np.concatenate(parts) if parts else np.zeros((0, k), dtype=np.int64)


class BaselineTask(TrainingTask):
    stage = "baseline"

    def load_inputs(self) -> None:
        self.source = source = open_rasters(self.layout)
        self.table = table = load_glyph_table(source, self.layout)
        self.num_labels = len(table.labels)
        self.train_rows, self.val_rows, self.test_rows = (table.rows_of(s) for s in ("train", "val", "test"))
        if len(self.train_rows) < self.profile.batch_size or not len(self.val_rows):
            raise TrainingInputError(
                f"{source.path}: {len(self.train_rows)} train and {len(self.val_rows)} val glyphs cannot train batches of "
                f"{self.profile.batch_size} with early stopping; lower `batch_size` or build a larger store"
            )
        # 2 KB a glyph: the three splits of the built-in corpus take ~220 MB.
        self.rasters = PackedRasters(source, np.concatenate([self.train_rows, self.val_rows, self.test_rows]))
        # The variants' rasters: 2 KB each too (augment.variants per train glyph).
        self.variants = load_variants(self.layout, source, rasters=True) if self.config.augment.share > 0 else None
        self.speed = TrainingRate(self.profile.batch_size)

    def epoch_units(self) -> int:
        return self.profile.epoch_glyphs or len(self.train_rows)

    def identity(self) -> dict[str, str]:
        identity = training_identity(self.config, self.source.build_id, self.source.label_map_hash)
        return {**identity, "variants_build_id": self.variants.build_id} if self.variants else identity

    def new_model(self) -> Any:
        return build_baseline(self.num_labels, self.source.canvas_size, self.config.active_model, self.profile.backbone)

    def compile(self, model: Any, settings: TrainSettings) -> None:
        steps = settings.steps_per_epoch
        model.compile(
            optimizer=make_optimizer(self.config.schedule, settings.learning_rate, settings.epochs * steps, steps),
            # The loss Phase 2 trains with (kind "none": plain logits), twin-aware as configured.
            loss=MarginCrossEntropy(
                self.num_labels, 1.0, "none", 0.0, self.config.label_smoothing, name="label_loss", twin_aware=self.config.twin_aware
            ),
            metrics=[LabelAccuracy(name="accuracy"), LabelTopK(TOP_K, name=f"top{TOP_K}")],
        )

    def datasets(self, model: Any, state: TrainingState, settings: TrainSettings) -> Datasets:
        config, table = self.config, self.table
        callbacks = [*schedule_callbacks(config.schedule), self.speed.callback]
        if state.finished:  # a finished run trains no more
            return Datasets(None, None, callbacks)
        prepare = prepare_training_batch(self.rasters, table, self.variants, config.augment.share)

        def make_dataset(batch: int, shard: tuple[int, int]) -> Any:
            # Each input pipeline streams its own share of the rows; the stream's batch counter makes resuming exact.
            rows = self.train_rows[shard[0] :: shard[1]]
            stream = GlyphBatches(rows, batch, config.seed, prepare, start_batch=state.epoch * settings.steps_per_epoch)
            return stream.dataset(batch_signature(self.source.canvas_size), config.prefetch_batches)

        val = fixed_dataset(self.rasters, table, self.val_rows, config.eval_batch_size)
        return Datasets(distributed_batches(self.strategy, make_dataset, self.profile.batch_size), val, callbacks)

    def load_best(self, path: Path) -> Any:
        return load_baseline(path)

    def metrics(self, result: FitResult) -> dict[str, Any]:
        import tensorflow as tf

        best, canvas = result.model, self.source.canvas_size
        metrics: dict[str, Any] = {
            "model": {
                "parameters": int(best.count_params()),
                "backbone_parameters": int(best.backbone.count_params()),
                "flops": count_flops(best, {
                    "raster": tf.TensorSpec((1, canvas, canvas, 1), tf.float32), "side": tf.TensorSpec((1, len(SIDE_FEATURES)), tf.float32),
                }),  # fmt: skip
                "model_hash": model_hash(best),
                "checkpoint": str(result.folder / BEST),
                "canvas_size": canvas,
                "num_labels": self.num_labels,
            },
            "inputs": {"rasters_build_id": self.source.build_id, "label_map_hash": self.source.label_map_hash},
        }
        for split, rows in (("val", self.val_rows), ("test", self.test_rows)):
            ranked = predict_top_k(best, self.rasters, self.table, rows, self.config.eval_batch_size, TOP_K)
            metrics[split] = strict_shares(ranked, self.table.label[rows])
        return metrics

    def training_extras(self, result: FitResult) -> dict[str, Any]:
        return {"train_glyphs": int(len(self.train_rows)), "glyphs_per_second_this_run": self.speed.glyphs_per_second}

    def run_record(self, result: FitResult, metrics: dict[str, Any], metrics_path: Path) -> dict[str, Any]:
        return {
            "inputs": {"rasters_build_id": self.source.build_id},
            "outputs": {"checkpoint": str(result.folder / BEST), "metrics": str(metrics_path), "test_top1": metrics["test"]["top1_strict"]},
            "model_hash": metrics["model"]["model_hash"],
        }

    def summary(self, result: FitResult, metrics: dict[str, Any], metrics_path: str) -> BaselineSummary:
        return BaselineSummary(
            **self.summary_fields(result), glyphs_per_second=self.speed.glyphs_per_second, metrics=metrics, metrics_path=metrics_path
        )


def run_baseline(config: BaselineConfig, config_path: str | None = None, stage_key: str | None = None, restart_stale: bool = False
) -> BaselineSummary:
    return BaselineTask(config, config_path, stage_key, restart_stale).run()
