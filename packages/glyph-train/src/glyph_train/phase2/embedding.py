"""Phase 2 input layer (PLAN §7.1): primitive ids -> embeddings + 2D positional encoding (+ size cues).

The same layer also embeds Phase 1's soft outputs (probabilities over primitives) as the
probability-weighted mean of the embedding rows, which is what makes joint fine-tuning differentiable.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops


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
        self, vocab: int, dim: int, grid_side: int, positional: str = "learned", side_features: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if positional not in ("learned", "sinusoidal"):
            raise ValueError(f"positional must be 'learned' or 'sinusoidal', got {positional!r}")
        self.vocab, self.dim, self.grid_side = vocab, dim, grid_side
        self.positional, self.side_features = positional, side_features
        self.side_projection = layers.Dense(dim, name="side_projection") if side_features else None

    def build(self, input_shape: Any) -> None:
        self.table = self.add_weight(
            shape=(self.vocab, self.dim), initializer=keras.initializers.RandomNormal(stddev=0.02), name="table"
        )
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
