"""Phase 2 input layer (docs/phase2.md): primitive ids -> embeddings + 2D positional encoding (+ size cues).

The same layer also embeds Phase 1's soft outputs (probabilities over primitives) as the
probability-weighted mean of the embedding rows, which is what makes joint fine-tuning differentiable.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops


def centroid_table(centroids: np.ndarray) -> np.ndarray:
    """(K + 1, cell²) embedding rows that draw each primitive: its centroid's ink (the empty id 0 is blank),
    scaled to unit RMS overall. The embedded grid then starts as a picture of the glyph, which a model
    learns from far faster than from random vectors."""
    pixels = np.asarray(centroids, dtype=np.float32)
    pixels = pixels / (np.sqrt(np.mean(pixels**2)) + 1e-6)
    return np.concatenate([np.zeros((1, pixels.shape[1]), np.float32), pixels]).astype(np.float32)


def sinusoidal_2d(side: int, dim: int) -> np.ndarray:
    """(side, side, dim) encoding: the first half of the channels encodes the row, the second the column."""
    if dim % 4:
        raise ValueError(f"sinusoidal 2D encoding needs a width divisible by 4, got {dim}")
    quarter = dim // 4
    freqs = 1.0 / (10000 ** (np.arange(quarter) / quarter))
    angles = np.arange(side)[:, None] * freqs[None, :]  # (side, quarter)
    axis = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)  # (side, dim/2)
    rows = np.broadcast_to(axis[:, None, :], (side, side, dim // 2))
    cols = np.broadcast_to(axis[None, :, :], (side, side, dim // 2))
    return np.concatenate([rows, cols], axis=-1).astype(np.float32)


@keras.saving.register_keras_serializable(package="glyph_train")
class GridEmbedding(layers.Layer):
    """``(tokens, side)`` -> (B, G, G, dim): tokens are int ids (B, G, G) or probabilities (B, G, G, vocab)."""

    def __init__(
        self,
        vocab: int,
        dim: int,
        grid_side: int,
        positional: str = "learned",
        side_features: int = 0,
        initial_table: np.ndarray | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if initial_table is not None and tuple(initial_table.shape) != (vocab, dim):
            raise ValueError(f"initial embedding table of shape {initial_table.shape}, expected {(vocab, dim)}")
        # Only the first build uses it; a saved model restores the trained table, so it stays out of the config.
        self.initial_table = initial_table
        if positional not in ("learned", "sinusoidal"):
            raise ValueError(f"positional must be 'learned' or 'sinusoidal', got {positional!r}")
        self.vocab, self.dim, self.grid_side = vocab, dim, grid_side
        self.positional, self.side_features = positional, side_features
        self.side_projection = layers.Dense(dim, name="side_projection") if side_features else None

    def build(self, input_shape: Any) -> None:
        initializer = (
            keras.initializers.RandomNormal(stddev=0.02)
            if self.initial_table is None
            else keras.initializers.Constant(self.initial_table)
        )
        self.table = self.add_weight(shape=(self.vocab, self.dim), initializer=initializer, name="table")
        side = self.grid_side
        if self.positional == "learned":
            self.position = self.add_weight(
                shape=(side, side, self.dim), initializer=keras.initializers.RandomNormal(stddev=0.02), name="position"
            )
        else:
            self.position = self.add_weight(
                shape=(side, side, self.dim),
                initializer=keras.initializers.Constant(sinusoidal_2d(side, self.dim)),
                trainable=False,
                name="position",
            )
        if self.side_projection is not None:
            self.side_projection.build((None, self.side_features))

    def call(self, inputs: Any) -> Any:
        tokens, side = inputs if isinstance(inputs, (list, tuple)) else (inputs, None)
        if len(tokens.shape) == 4:  # soft: probabilities over the vocabulary
            x = ops.einsum("bijv,vd->bijd", ops.cast(tokens, self.table.dtype), self.table)
        else:
            x = ops.take(self.table, ops.cast(tokens, "int32"), axis=0)
        x = x + self.position
        if self.side_projection is not None and side is not None and self.side_features:
            x = x + self.side_projection(side)[:, None, None, :]
        return x

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "vocab": self.vocab,
            "dim": self.dim,
            "grid_side": self.grid_side,
            "positional": self.positional,
            "side_features": self.side_features,
        }
