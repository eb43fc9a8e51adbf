"""Optimizer and learning-rate schedule of the glyph classifiers (docs/phase2.md): AdamW with cosine or plateau decay."""

from __future__ import annotations

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


def make_optimizer(config: ScheduleConfig, peak: float, total_steps: int, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    return keras.optimizers.AdamW(
        learning_rate=learning_rate(config, peak, total_steps, steps_per_epoch), weight_decay=config.weight_decay
    )


def schedule_callbacks(config: ScheduleConfig, monitor: str = "val_accuracy") -> list[keras.callbacks.Callback]:
    """ReduceLROnPlateau on val accuracy for the plateau schedule; nothing for cosine (it lives in the optimizer)."""
    if config.kind != "plateau":
        return []
    return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=config.plateau_factor, patience=config.plateau_patience, verbose=1)]
