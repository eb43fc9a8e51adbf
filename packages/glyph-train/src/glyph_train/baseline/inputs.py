"""Baseline inputs: augmented training batches and fixed unaugmented batches, cut from rasters held in memory.

Batches carry int32 labels; ``one_hot`` turns them into the smoothed loss's targets inside tf.data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from glyph_core.classifier_config import RasterAugmentConfig

from glyph_train.data.glyph_stream import Prepare
from glyph_train.data.glyphs import PackedRasters
from glyph_train.data.raster_augment import augment_rasters


def model_inputs(masks: np.ndarray) -> np.ndarray:
    """(n, S, S) 0/1 masks -> the (n, S, S, 1) float32 the model eats."""
    return masks[..., None].astype(np.float32)


def prepare_training_batch(rasters: PackedRasters, labels: np.ndarray, augment: RasterAugmentConfig) -> Prepare:
    """rows -> (augmented rasters, int32 labels) for :class:`~glyph_train.data.glyph_stream.GlyphBatches`."""

    def prepare(rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        masks, _ = augment_rasters(rasters.masks(rows), augment, rng)
        return model_inputs(masks), labels[rows].astype(np.int32)

    return prepare


def batch_signature(canvas_size: int) -> tuple[Any, Any]:
    import tensorflow as tf

    return tf.TensorSpec((None, canvas_size, canvas_size, 1), tf.float32), tf.TensorSpec((None,), tf.int32)


def fixed_batches(rasters: PackedRasters, rows: np.ndarray, labels: np.ndarray, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rasters, int32 labels) of ``rows`` in order, unaugmented, unpacked one batch at a time."""
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        yield model_inputs(rasters.masks(chunk)), labels[chunk].astype(np.int32)


def fixed_dataset(rasters: PackedRasters, rows: np.ndarray, labels: np.ndarray, batch_size: int, num_labels: int) -> Any:
    """The early-stopping set as a re-iterable tf.data.Dataset of one-hot batches (a few batches in memory at a time)."""
    import tensorflow as tf

    canvas = rasters.canvas_size
    data = tf.data.Dataset.from_generator(
        lambda: fixed_batches(rasters, rows, labels, batch_size), output_signature=batch_signature(canvas)
    )
    # A known length lets Keras stop at the last batch instead of warning that the input ran out.
    data = data.apply(tf.data.experimental.assert_cardinality(-(-len(rows) // batch_size)))
    return one_hot(data, num_labels).prefetch(2)


def one_hot(data: Any, num_labels: int) -> Any:
    """Labels -> one-hot float32 targets (Keras' label smoothing works on those)."""
    import tensorflow as tf

    return data.map(lambda x, y: (x, tf.one_hot(y, num_labels, dtype=tf.float32)))
