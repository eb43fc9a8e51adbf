"""Joint fine-tuning (docs/phase2.md): raster -> Phase 1 on every cell -> soft primitive grid -> Phase 2, trained end to end.

Phase 1's softmax over primitives feeds Phase 2's embedding as a probability-weighted mean of
embedding rows (``GridEmbedding`` accepts probabilities), so gradients reach Phase 1. At inference
the soft grid is close to the hard one whenever Phase 1 is confident.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from glyph_train.data.glyphs import SIDE_FEATURES


@keras.saving.register_keras_serializable(package="glyph_train")
class RasterToCells(layers.Layer):
    """(B, S, S, 1) -> (B * G * G, c, c, 1), cells in row-major grid order."""

    def __init__(self, cell_size: int, grid_side: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cell_size, self.grid_side = cell_size, grid_side

    def call(self, rasters: Any) -> Any:
        g, c = self.grid_side, self.cell_size
        x = ops.reshape(rasters, (-1, g, c, g, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4))
        return ops.reshape(x, (-1, c, c, 1))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (None, self.cell_size, self.cell_size, 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cell_size": self.cell_size, "grid_side": self.grid_side}


@keras.saving.register_keras_serializable(package="glyph_train")
class CellsToGrid(layers.Layer):
    """(B * G * G, K) -> (B, G, G, K)."""

    def __init__(self, grid_side: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grid_side = grid_side

    def call(self, cells: Any) -> Any:
        return ops.reshape(cells, (-1, self.grid_side, self.grid_side, ops.shape(cells)[-1]))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (None, self.grid_side, self.grid_side, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "grid_side": self.grid_side}


@keras.saving.register_keras_serializable(package="glyph_train")
class JointClassifier(keras.Model):
    """{"raster": (B, S, S, 1) 0/1, "side": (B, F)} -> the Phase 2 outputs, through a trainable Phase 1."""

    def __init__(self, phase1: keras.Model, phase2: keras.Model, train_phase1: str = "all", **kwargs: Any) -> None:
        cell = int(phase1.input_shape[1])
        side_cells = int(phase2.embedding.grid_side)
        canvas = cell * side_cells
        raster = keras.Input((canvas, canvas, 1), name="raster")
        cues = keras.Input((len(SIDE_FEATURES),), name="side")
        cells = RasterToCells(cell, side_cells, name="cells")(raster)
        probabilities = layers.Softmax(name="cell_probabilities")(phase1(cells))
        grid = CellsToGrid(side_cells, name="soft_grid")(probabilities)
        outputs = phase2.head(phase2.backbone(phase2.embedding([grid, cues])))
        super().__init__(inputs={"raster": raster, "side": cues}, outputs=outputs, **kwargs)
        # Phase 1's BatchNormalization keeps the statistics it learned on its own cell mix: over whole
        # grids, mostly empty cells, batch statistics would drag them away from what the weights expect.
        # A BatchNormalization layer that is not trainable runs in inference mode in Keras 3.
        for layer in phase1._flatten_layers(include_self=False):
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
        if train_phase1 == "head":
            # Each layer is frozen itself: on a reloaded model, setting the backbone's flag alone leaves its
            # layers trainable, and the saved optimizer state would no longer match the trainable variables.
            for layer in (phase1.backbone, *phase1.backbone.layers):
                layer.trainable = False
        self.phase1, self.phase2, self.train_phase1 = phase1, phase2, train_phase1

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "phase1": keras.saving.serialize_keras_object(self.phase1),
            "phase2": keras.saving.serialize_keras_object(self.phase2),
            "train_phase1": self.train_phase1,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JointClassifier:
        config = dict(config)
        config["phase1"] = keras.saving.deserialize_keras_object(config["phase1"])
        config["phase2"] = keras.saving.deserialize_keras_object(config["phase2"])
        return cls(**config)
