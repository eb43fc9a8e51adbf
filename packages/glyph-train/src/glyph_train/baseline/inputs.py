"""Baseline inputs: augmented training batches and fixed unaugmented batches, cut from rasters held in memory.

Inputs are the raster and the size cues (the same side input Phase 2 gets); targets are label sets
(``GlyphTable.label_sets``), which the twin-aware loss reads whole and the strict metrics by their first column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from glyph_core.store import MAX_TWINS

from glyph_train.data.glyph_stream import Prepare
from glyph_train.data.glyphs import SIDE_FEATURES, GlyphTable, PackedRasters, raster_inputs
from glyph_train.data.variants import Variants, augmented_raster_inputs


def prepare_training_batch(rasters: PackedRasters, table: GlyphTable, variants: Variants | None, share: float) -> Prepare:
    """rows -> (rasters and size cues, a ``share`` of them a variant's; label sets) for
    :class:`~glyph_train.data.glyph_stream.GlyphBatches`."""

    def prepare(rows: np.ndarray, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
        return augmented_raster_inputs(rasters, table, rows, variants, share, rng), table.label_sets(rows)

    return prepare


def batch_signature(canvas_size: int) -> tuple[Any, Any]:
    import tensorflow as tf

    inputs = {
        "raster": tf.TensorSpec((None, canvas_size, canvas_size, 1), tf.float32),
        "side": tf.TensorSpec((None, len(SIDE_FEATURES)), tf.float32),
    }
    return inputs, tf.TensorSpec((None, 1 + MAX_TWINS), tf.int32)


def fixed_batches(rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, batch_size: int) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """(inputs, label sets) of ``rows`` in order, unaugmented, unpacked one batch at a time."""
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        yield raster_inputs(rasters, table, chunk), table.label_sets(chunk)


def fixed_dataset(rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, batch_size: int) -> Any:
    """The early-stopping set as a re-iterable tf.data.Dataset (a few batches in memory at a time)."""
    import tensorflow as tf

    data = tf.data.Dataset.from_generator(
        lambda: fixed_batches(rasters, table, rows, batch_size), output_signature=batch_signature(rasters.canvas_size)
    )
    # A known length lets Keras stop at the last batch instead of warning that the input ran out.
    data = data.apply(tf.data.experimental.assert_cardinality(-(-len(rows) // batch_size)))
    return data.prefetch(2)
