"""The joint fine-tuning stage (docs/phase2.md): trained Phase 1 + Phase 2 -> one model trained end to end on rasters.

Runs after Phase 2 when the profile enables it; checkpoints live in outputs/checkpoints/phase2_joint/
and resume like every other stage. Each glyph costs 256 Phase 1 cell passes, so this is a GPU stage.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from glyph_core.classifier_config import Phase2Config
from glyph_core.paths import OutputLayout

from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.glyphs import SIDE_FEATURES, GlyphTable, PackedRasters
from glyph_train.data.raster_augment import augment_rasters
from glyph_train.phase1.classifier import load_classifier
from glyph_train.phase1.evaluate import model_hash
from glyph_train.phase2.inputs import model_targets
from glyph_train.phase2.joint import JointClassifier
from glyph_train.phase2.setup import MONITOR, compile_phase2
from glyph_train.predict import strict_shares, top_k
from glyph_train.training import BEST, TrainSettings, fit, prepare_run

if TYPE_CHECKING:
    from glyph_train.phase2.setup import GridData


def raster_inputs(rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, masks: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What a JointClassifier eats: (n, S, S, 1) float32 0/1 rasters and the size cues."""
    masks = rasters.masks(rows) if masks is None else masks
    return {"raster": masks[..., None].astype(np.float32), "side": table.side[rows]}


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


def run_joint(
    config: Phase2Config, layout: OutputLayout, data: GridData, phase2: keras.Model, identity: dict[str, str], restart_stale: bool = False
) -> dict[str, Any]:
    profile, joint = config.active, config.active.joint
    table, source = data.table, data.source
    aux = config.loss.aux_diacritic_weight > 0
    phase1_path = layout.checkpoints("phase1") / BEST
    if not phase1_path.is_file():
        raise FileNotFoundError(f"joint fine-tuning needs the Phase 1 model at {phase1_path}: run `glyph-train phase1`")
    train_rows, val_rows = table.rows_of("train"), table.rows_of("val")
    epoch_glyphs = profile.epoch_glyphs or len(train_rows)
    settings = TrainSettings(
        epochs=joint.epochs, steps_per_epoch=max(1, epoch_glyphs // joint.batch_size), learning_rate=joint.learning_rate,
        patience=joint.epochs, monitor=MONITOR,
    )  # fmt: skip
    joint_identity = {**identity, "phase2_model_hash": model_hash(phase2), "joint": joint.model_dump_json()}
    folder = layout.checkpoints("phase2_joint")

    def new_model() -> keras.Model:
        return JointClassifier(load_classifier(phase1_path, compile=False), phase2, train_phase1=joint.train_phase1)

    # A constant rate: the plateau schedule's optimizer, with no plateau callback attached.
    constant = config.schedule.model_copy(update={"kind": "plateau"})
    compile_config = config.model_copy(update={"schedule": constant})
    model, state = prepare_run(
        folder, joint_identity, config.resume, _default_strategy(), new_model, lambda m: compile_phase2(m, compile_config, profile, settings, len(table.labels)), restart_stale,
    )  # fmt: skip
    rasters = PackedRasters(source, np.arange(source.count))
    augment = config.input.raster_augment

    def prepare(rows: np.ndarray, rng: np.random.Generator) -> tuple[Any, Any]:
        masks, _ = augment_rasters(rasters.masks(rows), augment, rng)
        return raster_inputs(rasters, table, rows, masks), model_targets(table, rows, aux)

    import tensorflow as tf

    stream = GlyphBatches(train_rows, joint.batch_size, config.seed, prepare, start_batch=state.epoch * settings.steps_per_epoch)
    signature = joint_signature(source.canvas_size, aux)
    val_data = tf.data.Dataset.from_generator(
        lambda: _batches(rasters, table, val_rows, config.eval_batch_size, aux), output_signature=signature
    )
    state = fit(
        model, state, stream.dataset(signature, config.input.prefetch_batches), val_data, settings, folder,
        layout.logs / "phase2_joint", config.tensorboard, True,
    )  # fmt: skip
    best = keras.saving.load_model(folder / BEST) if (folder / BEST).is_file() else model
    test = score_joint(best, rasters, table, table.rows_of("test"), config.eval_batch_size)
    return {
        "checkpoint": str(folder / BEST), "epochs_run": state.epoch, "best_val_accuracy": state.best_val_accuracy,
        "test_top1": test["top1_strict"], "test_top5": test["top5_strict"], "parameters": int(best.count_params()),
    }  # fmt: skip


def _default_strategy() -> Any:
    import tensorflow as tf

    return tf.distribute.get_strategy()
