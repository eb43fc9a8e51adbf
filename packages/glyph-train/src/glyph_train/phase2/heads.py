"""Phase 2 heads: a plain dense head, or a cosine head whose margin (ArcFace / CosFace) lives in the loss.

The model always outputs ``scale * cos(angle)`` between the normalized feature and each normalized
class weight, in training and in validation alike. The margin is applied inside the loss, on the
true class only, so validation metrics and predictions read the same normalized logits the
training path produced (docs/training.md: no inflated val loss from a train-only margin path).
"""

from __future__ import annotations

import math
from typing import Any

import keras
from glyph_core.classifier_config import MarginConfig
from keras import layers, ops


@keras.saving.register_keras_serializable(package="glyph_train")
class CosineLogits(layers.Layer):
    """features -> scale * cos(angle to each class weight)."""

    def __init__(self, classes: int, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.classes, self.scale = classes, scale

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.classes), initializer="glorot_uniform", name="kernel")

    def call(self, features: Any) -> Any:
        x = ops.normalize(features, axis=-1)
        w = ops.normalize(self.kernel, axis=0)
        return self.scale * ops.matmul(x, w)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "classes": self.classes, "scale": self.scale}


@keras.saving.register_keras_serializable(package="glyph_train")
class MarginCrossEntropy(keras.losses.Loss):
    """Cross-entropy with label smoothing on sparse labels; on cosine logits, with an additive angular
    (arcface) or cosine (cosface) margin on the true class. kind "none" is plain smoothed cross-entropy.

    ``margin`` is a variable so a callback can warm it up; at margin 0 this is plain cross-entropy on the logits.
    """

    def __init__(
        self,
        classes: int,
        scale: float,
        kind: str = "none",
        margin: float = 0.0,
        label_smoothing: float = 0.0,
        name: str = "margin_cross_entropy",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if kind not in ("none", "arcface", "cosface"):
            raise ValueError(f"margin kind must be none, arcface or cosface, got {kind!r}")
        self.classes, self.scale, self.kind, self.label_smoothing = classes, scale, kind, label_smoothing
        self.margin = keras.Variable(float(margin), trainable=False, dtype="float32", name="margin")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        onehot = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), self.classes)
        if self.kind == "none":
            return keras.losses.categorical_crossentropy(onehot, y_pred, from_logits=True, label_smoothing=self.label_smoothing)
        cos = ops.clip(ops.cast(y_pred, "float32") / self.scale, -1.0 + 1e-7, 1.0 - 1e-7)
        m = ops.convert_to_tensor(self.margin)
        if self.kind == "cosface":
            target = cos - m
        else:
            sin = ops.sqrt(1.0 - cos * cos)
            shifted = cos * ops.cos(m) - sin * ops.sin(m)  # cos(angle + m)
            # Past angle pi - m, cos(angle + m) would rise again: fall back to a linear penalty there.
            target = ops.where(cos > ops.cos(math.pi - m), shifted, cos - m * ops.sin(math.pi - m))
        logits = self.scale * ops.where(onehot > 0, target, cos)
        return keras.losses.categorical_crossentropy(onehot, logits, from_logits=True, label_smoothing=self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        return {
            "classes": self.classes, "scale": self.scale, "kind": self.kind, "margin": float(self.margin.numpy()),
            "label_smoothing": self.label_smoothing, "name": self.name,
        }  # fmt: skip


def margin_at(epoch: int, config: MarginConfig) -> float:
    """Margin for a 0-based epoch: 0 during warm-up, then a linear ramp to the target."""
    if config.kind == "none" or epoch < config.warmup_epochs:
        return 0.0
    if config.ramp_epochs == 0:
        return config.target
    return config.target * min(1.0, (epoch - config.warmup_epochs + 1) / config.ramp_epochs)


class MarginWarmup(keras.callbacks.Callback):
    """Sets the loss's margin at the start of each epoch and logs it."""

    def __init__(self, loss: MarginCrossEntropy, config: MarginConfig) -> None:
        super().__init__()
        self.loss, self.config = loss, config

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.loss.margin.assign(margin_at(epoch, self.config))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["margin"] = float(self.loss.margin.numpy())
