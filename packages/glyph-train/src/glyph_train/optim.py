"""Optimizer and learning-rate schedule of the glyph classifiers (docs/phase2.md): AdamW with cosine or plateau decay."""

from __future__ import annotations

from typing import Any

import keras
from glyph_core.classifier_config import ScheduleConfig


def learning_rate(config: ScheduleConfig, peak: float, total_steps: int, steps_per_epoch: int) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """cosine: linear warm-up then cosine decay to ``peak * final_lr_fraction``; plateau: a constant the callback lowers."""
    if config.kind == "plateau":
        return peak
    warmup = int(round(config.warmup_epochs * steps_per_epoch))
    warmup = min(warmup, max(0, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else peak,
        decay_steps=max(1, total_steps - warmup),
        alpha=config.final_lr_fraction,
        warmup_target=peak if warmup else None,
        warmup_steps=warmup,
    )


# Weights named so are left undecayed whatever their shape: the embedding table (it starts as the centroids'
# pixels, which decay would wash out), the position table and the CLS token.
UNDECAYED_NAMES = frozenset({"table", "position", "token"})


def decays(variable: Any) -> bool:
    """Weight decay applies to kernels only: not to biases, normalization scales and offsets (1-D), nor to
    the embedding, position and class-token tables (docs/training.md)."""
    # The TensorFlow backend passes the tf.Variable inside, named like "scope/table:0".
    name = str(variable.name).rsplit("/", 1)[-1].split(":", 1)[0]
    return len(variable.shape) >= 2 and name not in UNDECAYED_NAMES


@keras.saving.register_keras_serializable(package="glyph_train")
class KernelDecayAdamW(keras.optimizers.AdamW):
    """AdamW whose decoupled weight decay reaches kernels only (``decays``). The rule is the class's own,
    so a checkpoint restored with ``load_model`` keeps it (Keras does not save an exclusion list)."""

    def _use_weight_decay(self, variable: Any) -> bool:
        return decays(variable)


def make_optimizer(config: ScheduleConfig, peak: float, total_steps: int, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    return KernelDecayAdamW(
        learning_rate=learning_rate(config, peak, total_steps, steps_per_epoch), weight_decay=config.weight_decay
    )


def schedule_callbacks(config: ScheduleConfig, monitor: str = "val_accuracy") -> list[keras.callbacks.Callback]:
    """ReduceLROnPlateau on val accuracy for the plateau schedule; nothing for cosine (it lives in the optimizer)."""
    if config.kind != "plateau":
        return []
    return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=config.plateau_factor, patience=config.plateau_patience, verbose=1)]
