"""Phase 1 model construction and compilation (docs/phase1.md): AdamW (kernels decayed only) with cosine decay on sparse cross-entropy.

The checkpointed loop itself is ``glyph_train.training``.
"""

from __future__ import annotations

import keras
from glyph_core.cell_config import CellModelConfig

from glyph_train.optim import KernelDecayAdamW
from glyph_train.phase1.backbone import CellBackbone
from glyph_train.phase1.classifier import CellClassifier
from glyph_train.training import TrainSettings


def build_classifier(num_primitives: int, cell_size: int, model: CellModelConfig) -> CellClassifier:
    backbone = CellBackbone(
        cell_size=cell_size,
        conv_filters=model.conv_filters,
        hidden_units=model.hidden_units,
        batch_norm_momentum=model.batch_norm_momentum,
    )
    return CellClassifier(backbone, num_primitives, dropout=model.dropout)


def compile_classifier(model: keras.Model, settings: TrainSettings, weight_decay: float, final_lr_fraction: float) -> None:
    """AdamW on a cosine-decayed learning rate over the whole run; sparse cross-entropy on logits."""
    schedule = keras.optimizers.schedules.CosineDecay(
        settings.learning_rate, decay_steps=settings.epochs * settings.steps_per_epoch, alpha=final_lr_fraction
    )
    model.compile(
        optimizer=KernelDecayAdamW(learning_rate=schedule, weight_decay=weight_decay),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
