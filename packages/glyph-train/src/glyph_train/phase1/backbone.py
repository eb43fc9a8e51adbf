"""The Phase 1 backbone (docs/phase1.md): an 8x8 cell -> a small feature vector."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="glyph_train")
class CellBackbone(keras.Model):
    """Conv blocks (3x3 'same' conv, ReLU, batch norm, 2x2 max-pool), flatten, then a dense ReLU layer.

    With the plan's sizes (32 and 64 filters, 128 hidden units) an 8x8 cell becomes 64x2x2 = 256 values
    after the convolutions and a 128-value feature at the end.
    """

    def __init__(
        self,
        cell_size: int = 8,
        conv_filters: Sequence[int] = (32, 64),
        hidden_units: int = 128,
        batch_norm_momentum: float = 0.9,
        **kwargs: Any,
    ) -> None:
        if cell_size % (2 ** len(conv_filters)):
            raise ValueError(f"{len(conv_filters)} 2x2 poolings do not divide a {cell_size}-pixel cell")
        cells = keras.Input((cell_size, cell_size, 1), name="cells")
        x = cells
        for i, filters in enumerate(conv_filters, start=1):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{i}")(x)
            x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"norm{i}")(x)
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        x = layers.Flatten(name="flatten")(x)
        features = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
        super().__init__(inputs=cells, outputs=features, **kwargs)
        self.cell_size = cell_size
        self.conv_filters = [int(f) for f in conv_filters]
        self.hidden_units = hidden_units
        self.batch_norm_momentum = batch_norm_momentum

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "cell_size": self.cell_size,
            "conv_filters": self.conv_filters,
            "hidden_units": self.hidden_units,
            "batch_norm_momentum": self.batch_norm_momentum,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CellBackbone:
        return cls(**config)
