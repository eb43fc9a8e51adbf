"""The baseline model: a backbone over the binary raster (MobileNetV3Small, or Phase 2's residual CNN behind a learned
convolution over each cell's pixels), the size cues, and a dense head over glyph labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
from glyph_core.classifier_config import BaselineModelConfig
from keras import layers

from glyph_train.classifier_head import ClassifierWithHead
from glyph_train.data.glyphs import SIDE_FEATURES
from glyph_train.phase2.backbones import ResidualCnnBackbone


@keras.saving.register_keras_serializable(package="glyph_train")
class RasterBackbone(keras.Model):
    """(B, S, S, 1) 0/1 masks -> one pooled feature vector per raster.

    The preprocessing piece is the first layer: 0/1 ink to [-1, 1], the range MobileNet's own
    preprocessing gives images. The rest is keras.applications' MobileNetV3Small without its top,
    no pretrained weights (ImageNet filters do not fit one-channel binary glyphs).
    """

    def __init__(
        self,
        canvas_size: int = 128,
        alpha: float = 1.0,
        minimalistic: bool = False,
        batch_norm_momentum: float = 0.9,
        **kwargs: Any,
    ) -> None:
        rasters = keras.Input((canvas_size, canvas_size, 1), name="rasters")
        signed = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(rasters)
        mobilenet = keras.applications.MobileNetV3Small(
            input_shape=(canvas_size, canvas_size, 1),
            input_tensor=signed,
            alpha=alpha,
            minimalistic=minimalistic,
            include_top=False,
            weights=None,
            pooling="avg",
            include_preprocessing=False,
        )
        # Keras' 0.999 suits ImageNet-length runs at small rates. Here the moving statistics must follow
        # weights that change fast; at 0.99 they lagged so far that inference collapsed to one label.
        for layer in mobilenet.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = batch_norm_momentum
        super().__init__(inputs=rasters, outputs=mobilenet.output, **kwargs)
        self.canvas_size = canvas_size
        self.alpha = alpha
        self.minimalistic = minimalistic
        self.batch_norm_momentum = batch_norm_momentum

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "canvas_size": self.canvas_size,
            "alpha": self.alpha,
            "minimalistic": self.minimalistic,
            "batch_norm_momentum": self.batch_norm_momentum,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RasterBackbone:
        return cls(**config)


@keras.saving.register_keras_serializable(package="glyph_train")
class PixelCnnBackbone(keras.Model):
    """(B, S, S, 1) 0/1 masks -> pooled features: one convolution with kernel and stride ``cell_pixels`` (each
    cell's pixels to ``cell_channels`` learned values, where Phase 2 looks up one primitive's embedding),
    then Phase 2's residual stages over that cell map. The same CNN on both sides makes the comparison one
    of inputs: discrete primitives against the pixels themselves (docs/evaluation.md)."""

    def __init__(self, canvas_size: int = 128, cell_pixels: int = 8, cell_channels: int = 64, stages: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if canvas_size % cell_pixels:
            raise ValueError(f"cell_pixels {cell_pixels} does not divide the {canvas_size}-pixel canvas")
        stages = dict(stages or {})
        rasters = keras.Input((canvas_size, canvas_size, 1), name="rasters")
        signed = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(rasters)
        cells = layers.Conv2D(cell_channels, cell_pixels, strides=cell_pixels, name="cells")(signed)
        cnn = ResidualCnnBackbone(grid_side=canvas_size // cell_pixels, embed_dim=cell_channels, name="cnn", **stages)
        super().__init__(inputs=rasters, outputs=cnn(cells), **kwargs)
        self.config_values = {"canvas_size": canvas_size, "cell_pixels": cell_pixels, "cell_channels": cell_channels, "stages": stages}

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, **self.config_values}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PixelCnnBackbone:
        return cls(**config)


@keras.saving.register_keras_serializable(package="glyph_train")
class SizeCues(layers.Layer):
    """[features, side cues] -> the features with a small projection of the cues appended (``units`` 0:
    the features alone). Tight scaling erases a glyph's size and place in the em; Phase 2 gets them back
    through the cues, and a fair baseline gets the same (docs/evaluation.md)."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.projection = layers.Dense(units, activation="relu", name="side_projection") if units else None

    def build(self, input_shape: Any) -> None:
        if self.projection is not None:
            self.projection.build(input_shape[1])

    def call(self, inputs: Any) -> Any:
        features, side = inputs
        if self.projection is None:
            return features
        return keras.ops.concatenate([features, self.projection(side)], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        features = input_shape[0]
        return (*features[:-1], features[-1] + self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


SIDE_UNITS = 32  # width of the size-cue projection appended to the pooled features


@keras.saving.register_keras_serializable(package="glyph_train")
class RasterClassifier(ClassifierWithHead):
    """{"raster": (B, S, S, 1) 0/1, "side": (B, F) size cues} -> backbone features (+ the cues) -> dropout ->
    one logit per label of the rasters store (train with from_logits=True)."""

    def __init__(self, backbone: keras.Model, num_labels: int, dropout: float = 0.2, side_input: bool = True, **kwargs: Any) -> None:
        rasters = keras.Input(backbone.input_shape[1:], name="raster")
        cues = keras.Input((len(SIDE_FEATURES),), name="side")
        features = SizeCues(SIDE_UNITS if side_input else 0, name="size_cues")([backbone(rasters), cues])
        super().__init__({"raster": rasters, "side": cues}, features, num_labels, dropout, **kwargs)
        self.backbone = backbone
        self.num_labels = num_labels
        self.dropout = dropout
        self.side_input = side_input

    def get_config(self) -> dict[str, Any]:
        return {**self.parts_config(), "num_labels": self.num_labels, "dropout": self.dropout, "side_input": self.side_input}


def build_baseline(num_labels: int, canvas_size: int, config: BaselineModelConfig, backbone: str = "mobilenet") -> RasterClassifier:
    """A fresh baseline; ``backbone`` is the profile's (``mobilenet`` or ``cnn``)."""
    if backbone == "cnn":
        c = config.cnn
        stages = {"stage_blocks": c.stage_blocks, "width": c.width, "dropout": c.dropout, "batch_norm_momentum": c.batch_norm_momentum}
        # cell_channels = the pixels of one cell, the width Phase 2's centroid-initialized embedding has.
        features: keras.Model = PixelCnnBackbone(canvas_size, config.cell_pixels, config.cell_pixels**2, stages, name="pixel_cnn")
    else:
        features = RasterBackbone(
            canvas_size=canvas_size, alpha=config.alpha, minimalistic=config.minimalistic,
            batch_norm_momentum=config.batch_norm_momentum,
        )  # fmt: skip
    return RasterClassifier(features, num_labels, dropout=config.dropout, side_input=config.side_input)


def load_baseline(path: str | Path, compile: bool = True) -> keras.Model:
    """A saved baseline model (.keras); importing this module registers the classes Keras needs."""
    return keras.saving.load_model(path, compile=compile)

