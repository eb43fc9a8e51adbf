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


def label_column(y_true: Any) -> Any:
    """(B,) labels, or column 0 of (B, 1 + twins) label sets: the label strict scoring reads."""
    y = ops.convert_to_tensor(y_true)
    return y[:, :1] if len(y.shape) == 2 else y


@keras.saving.register_keras_serializable(package="glyph_train")
class LabelAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Strict top-1 on label sets: only the true label (column 0) counts."""

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().update_state(label_column(y_true), y_pred, sample_weight)


@keras.saving.register_keras_serializable(package="glyph_train")
class LabelTopK(keras.metrics.SparseTopKCategoricalAccuracy):
    """Strict top-k on label sets."""

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        return super().update_state(ops.reshape(label_column(y_true), (-1,)), y_pred, sample_weight)


@keras.saving.register_keras_serializable(package="glyph_train")
class MarginCrossEntropy(keras.losses.Loss):
    """Cross-entropy with label smoothing; on cosine logits, with an additive angular (arcface) or cosine
    (cosface) margin on the true class. kind "none" is plain smoothed cross-entropy.

    ``y_true`` is (B,) labels or (B, 1 + twins) label sets (``GlyphTable.label_sets``, -1 padded). With
    ``twin_aware`` the likelihood is that of the set, log(p(label) + p(twins)): a font that draws two
    labels identically cannot be told apart, so the model is not pushed away from the twin it rightly
    sees (docs/training.md). Without it, or without twins, this is the usual loss on the label.

    ``margin`` is a variable so a callback can warm it up; at margin 0 the logits are used as they are.

    Distillation (``distill_weight`` > 0): training targets then carry a teacher's distribution over the
    classes after the label set, (B, 1 + twins + classes); the loss is (1 - w) times the label loss plus
    w * T^2 * KL(teacher || softmax(logits / T)). Targets without those columns (validation) get the
    label loss alone.
    """

    def __init__(
        self,
        classes: int,
        scale: float,
        kind: str = "none",
        margin: float = 0.0,
        label_smoothing: float = 0.0,
        name: str = "margin_cross_entropy",
        twin_aware: bool = False,
        distill_weight: float = 0.0,
        distill_temperature: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if kind not in ("none", "arcface", "cosface"):
            raise ValueError(f"margin kind must be none, arcface or cosface, got {kind!r}")
        self.classes, self.scale, self.kind, self.label_smoothing = classes, scale, kind, label_smoothing
        self.twin_aware = twin_aware
        self.distill_weight, self.distill_temperature = distill_weight, distill_temperature
        self.margin = keras.Variable(float(margin), trainable=False, dtype="float32", name="margin")

    def _margin_logits(self, onehot: Any, y_pred: Any) -> Any:
        if self.kind == "none":
            return y_pred
        cos = ops.clip(ops.cast(y_pred, "float32") / self.scale, -1.0 + 1e-7, 1.0 - 1e-7)
        m = ops.convert_to_tensor(self.margin)
        if self.kind == "cosface":
            target = cos - m
        else:
            sin = ops.sqrt(1.0 - cos * cos)
            shifted = cos * ops.cos(m) - sin * ops.sin(m)  # cos(angle + m)
            # Past angle pi - m, cos(angle + m) would rise again: fall back to a linear penalty there.
            target = ops.where(cos > ops.cos(math.pi - m), shifted, cos - m * ops.sin(math.pi - m))
        return self.scale * ops.where(onehot > 0, target, cos)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y_true = ops.convert_to_tensor(y_true)
        if len(y_true.shape) == 2 and y_true.shape[-1] > self.classes:  # label sets, then the teacher's distribution
            teacher = ops.cast(y_true[:, -self.classes :], "float32")
            label_loss = self._label_loss(y_true[:, : -self.classes], y_pred)
            w, t = self.distill_weight, self.distill_temperature
            log_q = ops.log_softmax(ops.cast(y_pred, "float32") / t, axis=-1)
            kl = ops.sum(teacher * (ops.log(ops.maximum(teacher, 1e-12)) - log_q), axis=-1)
            return (1.0 - w) * label_loss + w * t * t * kl
        return self._label_loss(y_true, y_pred)

    def _label_loss(self, y_true: Any, y_pred: Any) -> Any:
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 1:
            labels = labels[:, None]
        onehot = ops.one_hot(labels[:, 0], self.classes)
        logits = self._margin_logits(onehot, y_pred)
        if not self.twin_aware:
            return keras.losses.categorical_crossentropy(onehot, logits, from_logits=True, label_smoothing=self.label_smoothing)
        # Padding (-1) goes to an extra class that is cut off again.
        accepted = ops.max(ops.one_hot(ops.where(labels >= 0, labels, self.classes), self.classes + 1), axis=1)[:, : self.classes]
        log_p = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        set_nll = -ops.logsumexp(ops.where(accepted > 0, log_p, -1e9), axis=-1)
        # Smoothing as Keras does it: the share label_smoothing of the target spread evenly over all classes.
        return (1.0 - self.label_smoothing) * set_nll - self.label_smoothing * ops.mean(log_p, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            "classes": self.classes, "scale": self.scale, "kind": self.kind, "margin": float(self.margin.numpy()),
            "label_smoothing": self.label_smoothing, "name": self.name, "twin_aware": self.twin_aware,
            "distill_weight": self.distill_weight, "distill_temperature": self.distill_temperature,
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
