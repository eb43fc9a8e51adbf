"""The two serving graphs of a bundle (docs/export.md) as SavedModels, and their LiteRT conversions.

cell model: ``cells`` (m, c, c, 1) float32 0/1 -> ``ids`` (m,) int32, Phase 1's most likely primitive.
grid model: ``grid`` (n, G, G) int32 and ``side`` (n, F) float32 -> ``logits`` (n, classes) and
``features`` (n, D): Phase 2's label logits (the runtime takes the softmax: int8 probabilities over a
thousand labels would collapse the small ones into ties) and the backbone output they come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from glyph_core.cues import SIDE_FEATURES
from glyph_core.recognizer import SIGNATURE


def _archive(model: keras.Model, function: Any, signature: list[tf.TensorSpec], path: Path) -> Path:
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE, function, input_signature=signature)
    archive.write_out(str(path), verbose=False)
    return path


def write_cell_model(phase1: keras.Model, path: Path) -> Path:
    cell = int(phase1.input_shape[1])

    def ids(cells: Any) -> dict[str, Any]:
        return {"ids": tf.cast(tf.argmax(phase1(cells, training=False), axis=-1), tf.int32)}

    return _archive(phase1, ids, [tf.TensorSpec((None, cell, cell, 1), tf.float32, name="cells")], path)


def write_grid_model(phase2: keras.Model, path: Path) -> Path:
    g = int(phase2.embedding.grid_side)

    def classify(grid: Any, side: Any) -> dict[str, Any]:
        features = phase2.backbone(phase2.embedding([grid, side]), training=False)
        # The head's dropout is the identity at inference.
        return {"logits": phase2.get_layer("logits")(features), "features": features}

    signature = [
        tf.TensorSpec((None, g, g), tf.int32, name="grid"),
        tf.TensorSpec((None, len(SIDE_FEATURES)), tf.float32, name="side"),
    ]
    return _archive(phase2, classify, signature, path)


def to_litert(saved_model: Path, calibration: list[dict[str, np.ndarray]] | None = None) -> tuple[bytes, bool]:
    """The LiteRT flatbuffer of ``saved_model``: float32, or int8 when ``calibration`` batches are given.

    int8 asks for integer kernels only; when the converter cannot (an op without an int8 kernel),
    it is retried with float kernels allowed for those ops. Returns (model bytes, integer_only).
    """

    def convert(integer_only: bool) -> bytes:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model), signature_keys=[SIGNATURE])
        if calibration is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]

            def representative() -> Iterator[dict[str, np.ndarray]]:
                yield from calibration

            converter.representative_dataset = representative
            ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.target_spec.supported_ops = ops if integer_only else [*ops, tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()

    if calibration is None:
        return convert(False), False
    try:
        return convert(True), True
    except Exception:  # noqa: BLE001 - the converter raises plain exceptions for unsupported ops
        return convert(False), False
