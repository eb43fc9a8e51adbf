"""The joint fine-tuning stage (docs/phase2.md): trained Phase 1 + Phase 2 -> one model trained end to end on rasters.

Runs after Phase 2 when the profile enables it, on the training-task template like every stage:
checkpoints in outputs/checkpoints/phase2_joint/ (resumable), outputs/analysis/phase2_joint/metrics.json,
a run record of its own. Each glyph costs 256 Phase 1 cell passes, so this is a GPU stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keras
import numpy as np

from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.glyphs import SIDE_FEATURES, GlyphTable, PackedRasters, raster_inputs
from glyph_train.data.variants import Variants, augmented_raster_inputs, load_variants
from glyph_train.phase1.classifier import load_classifier
from glyph_train.phase1.evaluate import model_hash
from glyph_train.phase2.inputs import model_targets
from glyph_train.phase2.joint import JointClassifier
from glyph_train.phase2.setup import MONITOR, GridData, compile_phase2
from glyph_train.predict import strict_shares, top_k
from glyph_train.task import Datasets, FitResult, StageSummary, TrainingTask
from glyph_train.training import BEST, TrainingState, TrainSettings



class Phase2Run(Protocol):
    """What the joint stage reads of the Phase 2 run it follows (``glyph_train.phase2.run.Phase2Task``)."""

    config: Any
    config_path: str | None
    stage_key: str | None
    restart_stale: bool
    profile: Any
    data: GridData
    aux: bool

    def epoch_units(self) -> int: ...

    def identity(self) -> dict[str, str]: ...


def joint_signature(canvas: int, aux: bool) -> tuple[Any, Any]:
    import tensorflow as tf

    from glyph_train.phase2.inputs import signature

    _, targets = signature(canvas // 8, aux)
    inputs = {"raster": tf.TensorSpec((None, canvas, canvas, 1), tf.float32), "side": tf.TensorSpec((None, len(SIDE_FEATURES)), tf.float32)}
    return inputs, targets


def _batches(rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, batch: int, aux: bool) -> Iterator[tuple[Any, Any]]:
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        yield raster_inputs(rasters, table, part), model_targets(table, part, aux)


def score_joint(model: keras.Model, rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, batch: int) -> dict[str, float | int | None]:
    best = [top_k(np.asarray(model.predict_on_batch(x)["logits"]), 5) for x, _ in _batches(rasters, table, rows, batch, False)]
    return strict_shares(np.concatenate(best) if best else np.zeros((0, 5), dtype=np.int64), table.label[rows])


@dataclass
class JointSummary(StageSummary):
    test: dict[str, float | int | None]
    checkpoint: str
    metrics_path: str

    def record(self) -> dict[str, Any]:
        """What Phase 2's metrics.json and summary hold of the joint stage."""
        return {
            "checkpoint": self.checkpoint, "epochs_run": self.epochs_run, "best_val_accuracy": self.best_val_accuracy,
            "test_top1": self.test["top1_strict"], "test_top5": self.test["top5_strict"], "parameters": self.parameters,
            "metrics": self.metrics_path,
        }  # fmt: skip


class JointTask(TrainingTask):
    """Phase 1 + the trained Phase 2 model, fine-tuned end to end on (augmented) rasters."""

    stage = "phase2_joint"
    command = "glyph-train phase2 (joint fine-tuning)"
    monitor = MONITOR

    def __init__(self, parent: Phase2Run, phase2: keras.Model) -> None:
        super().__init__(parent.config, parent.config_path, parent.stage_key, parent.restart_stale, strategy=_default_strategy())
        self.parent, self.phase2, self.joint = parent, phase2, parent.profile.joint
        self.validation_batch_size = parent.config.eval_batch_size

    def load_inputs(self) -> None:
        self.phase1_path = self.layout.checkpoints("phase1") / BEST
        if not self.phase1_path.is_file():
            raise FileNotFoundError(f"joint fine-tuning needs the Phase 1 model at {self.phase1_path}: run `glyph-train phase1`")
        data = self.parent.data
        self.table, self.source = data.table, data.source
        self.rasters = PackedRasters(self.source, np.arange(self.source.count))
        self.aux = self.parent.aux
        share = self.config.input.augment.share
        self.variants: Variants | None = load_variants(self.layout, self.source, rasters=True) if share > 0 else None

    def epoch_units(self) -> int:
        return self.parent.epoch_units()

    def batch_size(self) -> int:
        return self.joint.batch_size

    def train_settings(self) -> TrainSettings:
        # No early stopping: a short fine-tuning runs all its epochs; best.keras still follows val accuracy.
        return TrainSettings(
            epochs=self.joint.epochs, steps_per_epoch=max(1, self.epoch_units() // self.joint.batch_size),
            learning_rate=self.joint.learning_rate, patience=self.joint.epochs, monitor=self.monitor,
        )  # fmt: skip

    def identity(self) -> dict[str, str]:
        # The parent's identity names the variants build when augmenting, which this stage draws from too.
        return {**self.parent.identity(), "phase2_model_hash": model_hash(self.phase2), "joint": self.joint.model_dump_json()}

    def new_model(self) -> keras.Model:
        return JointClassifier(load_classifier(self.phase1_path, compile=False), self.phase2, train_phase1=self.joint.train_phase1)

    def compile(self, model: keras.Model, settings: TrainSettings) -> None:
        # A constant rate: the plateau schedule's optimizer, with no plateau callback attached.
        config = self.config
        constant = config.model_copy(update={"schedule": config.schedule.model_copy(update={"kind": "plateau"})})
        compile_phase2(model, constant, self.profile, settings, len(self.table.labels))

    def datasets(self, model: keras.Model, state: TrainingState, settings: TrainSettings) -> Datasets:
        import tensorflow as tf

        config, rasters, table, aux, variants = self.config, self.rasters, self.table, self.aux, self.variants

        def prepare(rows: np.ndarray, rng: np.random.Generator) -> tuple[Any, Any]:
            inputs = augmented_raster_inputs(rasters, table, rows, variants, config.input.augment.share, rng)
            return inputs, model_targets(table, rows, aux)

        rows = table.rows_of("train")
        stream = GlyphBatches(rows, self.joint.batch_size, config.seed, prepare, start_batch=state.epoch * settings.steps_per_epoch)
        signature = joint_signature(self.source.canvas_size, aux)
        val_rows = table.rows_of("val")
        val = tf.data.Dataset.from_generator(
            lambda: _batches(rasters, table, val_rows, config.eval_batch_size, aux), output_signature=signature
        )
        return Datasets(stream.dataset(signature, config.input.prefetch_batches), val, [])

    def load_best(self, path: Path) -> keras.Model:
        return keras.saving.load_model(path)

    def metrics(self, result: FitResult) -> dict[str, Any]:
        self.test = score_joint(result.model, self.rasters, self.table, self.table.rows_of("test"), self.config.eval_batch_size)
        return {
            "model": {"parameters": int(result.model.count_params()), "checkpoint": str(result.folder / BEST)},
            "inputs": self.identity(),
            "scores": {"test raster": self.test},
        }

    def training_extras(self, result: FitResult) -> dict[str, Any]:
        return {"train_phase1": self.joint.train_phase1}

    def run_record(self, result: FitResult, metrics: dict[str, Any], metrics_path: Path) -> dict[str, Any]:
        return {
            "inputs": {k: v for k, v in self.identity().items() if k not in ("training_config_hash", "joint")},
            "outputs": {"checkpoint": str(result.folder / BEST), "metrics": str(metrics_path)},
        }

    def summary(self, result: FitResult, metrics: dict[str, Any], metrics_path: str) -> JointSummary:
        test = getattr(self, "test", {"top1_strict": None, "top5_strict": None})
        return JointSummary(**self.summary_fields(result), test=test, checkpoint=str(result.folder / BEST), metrics_path=metrics_path)


def run_joint(parent: Phase2Run, phase2: keras.Model) -> JointSummary:
    """Fine-tune Phase 1 + ``phase2`` jointly after the Phase 2 run ``parent`` (resumes like every stage)."""
    return JointTask(parent, phase2).run()


def _default_strategy() -> Any:
    import tensorflow as tf

    return tf.distribute.get_strategy()
