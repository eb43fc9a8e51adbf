"""Phase 2 backbones (docs/phase2.md): an embedded grid (G, G, E) -> one feature vector per glyph.

A: a pre-norm Transformer encoder over cell tokens or 2x2 patches of cells, pooled by a CLS token
or the mean. B: a residual CNN in downsampling stages over the embedding map, globally average pooled.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="glyph_train")
class ClassToken(layers.Layer):
    """Prepends one learned token to a (B, T, D) sequence."""

    def build(self, input_shape: Any) -> None:
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros", name="token")

    def call(self, x: Any) -> Any:
        batch = ops.shape(x)[0]
        return ops.concatenate([ops.broadcast_to(self.token, (batch, 1, ops.shape(x)[-1])), x], axis=1)


@keras.saving.register_keras_serializable(package="glyph_train")
class FirstToken(layers.Layer):
    """(B, T, D) -> (B, D): the CLS token's output."""

    def call(self, x: Any) -> Any:
        return x[:, 0]

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], input_shape[2])


def _encoder_block(x: Any, d_model: int, heads: int, mlp_dim: int, dropout: float, name: str) -> Any:
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    h = layers.MultiHeadAttention(heads, d_model // heads, dropout=dropout, name=f"{name}_attention")(h, h)
    x = layers.Add(name=f"{name}_add1")([x, layers.Dropout(dropout, name=f"{name}_drop1")(h)])
    h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    h = layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp1")(h)
    h = layers.Dense(d_model, name=f"{name}_mlp2")(layers.Dropout(dropout, name=f"{name}_drop2")(h))
    return layers.Add(name=f"{name}_add2")([x, layers.Dropout(dropout, name=f"{name}_drop3")(h)])


@keras.saving.register_keras_serializable(package="glyph_train")
class TransformerBackbone(keras.Model):
    """(G, G, E) -> d_model features: patch projection, ``layers`` pre-norm encoder blocks, CLS or mean pooling."""

    def __init__(
        self,
        grid_side: int = 16,
        embed_dim: int = 64,
        patch: int = 2,
        layers_count: int = 4,
        d_model: int = 256,
        heads: int = 8,
        mlp_dim: int = 512,
        dropout: float = 0.1,
        pool: str = "cls",
        **kwargs: Any,
    ) -> None:
        if grid_side % patch:
            raise ValueError(f"patch {patch} does not divide the {grid_side}-cell grid")
        embedded = keras.Input((grid_side, grid_side, embed_dim), name="embedded")
        # A strided convolution is the linear projection of each patch x patch group of cells.
        x = layers.Conv2D(d_model, patch, strides=patch, name="patch_projection")(embedded)
        x = layers.Reshape(((grid_side // patch) ** 2, d_model), name="tokens")(x)
        if pool == "cls":
            x = ClassToken(name="class_token")(x)
        x = layers.Dropout(dropout, name="token_dropout")(x)
        for i in range(layers_count):
            x = _encoder_block(x, d_model, heads, mlp_dim, dropout, name=f"block{i + 1}")
        x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
        if pool == "cls":
            features = FirstToken(name="cls_pool")(x)
        else:
            features = layers.GlobalAveragePooling1D(name="mean_pool")(x)
        super().__init__(inputs=embedded, outputs=features, **kwargs)
        self.config_values = {
            "grid_side": grid_side, "embed_dim": embed_dim, "patch": patch, "layers_count": layers_count,
            "d_model": d_model, "heads": heads, "mlp_dim": mlp_dim, "dropout": dropout, "pool": pool,
        }  # fmt: skip

    @property
    def feature_dim(self) -> int:
        return int(self.config_values["d_model"])

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, **self.config_values}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TransformerBackbone:
        return cls(**config)


def _residual_block(x: Any, width: int, dropout: float, momentum: float, name: str) -> Any:
    """Pre-activation: BN, ReLU, conv, BN, ReLU, dropout, conv, plus the input."""
    h = layers.BatchNormalization(momentum=momentum, name=f"{name}_norm1")(x)
    h = layers.Activation("relu", name=f"{name}_relu1")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv1")(h)
    h = layers.BatchNormalization(momentum=momentum, name=f"{name}_norm2")(h)
    h = layers.Activation("relu", name=f"{name}_relu2")(h)
    h = layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(h)
    return layers.Add(name=f"{name}_add")([x, h])


@keras.saving.register_keras_serializable(package="glyph_train")
class ResidualCnnBackbone(keras.Model):
    """(G, G, E) -> features: a 3x3 stem, stages of pre-activation residual blocks (every stage after the
    first opens with a stride-2 convolution that halves the map and doubles the width), global average pooling.

    Downsampling is what keeps the CNN affordable: at full 16x16 resolution throughout, six blocks of
    width 128 cost about 20 times the CPU Transformer per glyph.
    """

    def __init__(
        self,
        grid_side: int = 16,
        embed_dim: int = 64,
        stage_blocks: tuple[int, ...] | list[int] = (2, 2, 2),
        width: int = 64,
        dropout: float = 0.1,
        batch_norm_momentum: float = 0.9,
        **kwargs: Any,
    ) -> None:
        stage_blocks = [int(b) for b in stage_blocks]
        if grid_side % 2 ** (len(stage_blocks) - 1):
            raise ValueError(f"{len(stage_blocks)} stages halve the map {len(stage_blocks) - 1} times; the {grid_side}-cell grid does not divide")
        embedded = keras.Input((grid_side, grid_side, embed_dim), name="embedded")
        x = layers.Conv2D(width, 3, padding="same", name="stem")(embedded)
        channels = width
        for stage, blocks in enumerate(stage_blocks, start=1):
            if stage > 1:
                channels *= 2
                x = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"stage{stage}_down_norm")(x)
                x = layers.Activation("relu", name=f"stage{stage}_down_relu")(x)
                x = layers.Conv2D(channels, 3, strides=2, padding="same", name=f"stage{stage}_down")(x)
            for block in range(1, blocks + 1):
                x = _residual_block(x, channels, dropout, batch_norm_momentum, name=f"stage{stage}_block{block}")
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name="final_norm")(x)
        x = layers.Activation("relu", name="final_relu")(x)
        features = layers.GlobalAveragePooling2D(name="pool")(x)
        super().__init__(inputs=embedded, outputs=features, **kwargs)
        self.config_values = {
            "grid_side": grid_side, "embed_dim": embed_dim, "stage_blocks": stage_blocks, "width": width,
            "dropout": dropout, "batch_norm_momentum": batch_norm_momentum,
        }  # fmt: skip

    @property
    def feature_dim(self) -> int:
        return int(self.config_values["width"]) * 2 ** (len(self.config_values["stage_blocks"]) - 1)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, **self.config_values}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ResidualCnnBackbone:
        return cls(**config)
