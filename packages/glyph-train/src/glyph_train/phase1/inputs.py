"""Phase 1 inputs: the training stream and the fixed early-stopping set, both cut from the rasters store."""

from __future__ import annotations

from typing import Any

import numpy as np

from glyph_core.cells import CellCodec
from glyph_train.data.pipeline import Arrays, ChunkStream, Prepare
from glyph_core.rasters import RasterStore
from glyph_train.phase1.preprocessor import CellBatch, CellPreprocessor


def training_arrays(batch: CellBatch) -> Arrays:
    """What the classifier trains on: (cells, primitive ids, loss weights)."""
    return batch.inputs, batch.targets, batch.weights


def prepare_training_cells(source: RasterStore, preprocessor: CellPreprocessor) -> Prepare:
    """Augmented cells of a chunk's rows with every non-empty cell and a capped share of empty ones."""

    def prepare(rows: np.ndarray, masks: np.ndarray, rng: np.random.Generator) -> Arrays:
        batch = preprocessor(masks, source.is_diacritic[rows], rng, augment=True, cap_empty=True)
        return training_arrays(batch)

    return prepare


def training_stream(
    source: RasterStore,
    rows: np.ndarray,
    preprocessor: CellPreprocessor,
    batch_size: int,
    *,
    seed: list[int],
    shuffle_chunks: int,
    workers: int,
    shard: tuple[int, int] = (0, 1),
) -> ChunkStream:
    return ChunkStream(
        source, rows, prepare_training_cells(source, preprocessor), batch_size,
        seed=seed, shuffle_chunks=shuffle_chunks, workers=workers, shard=shard,
    )  # fmt: skip


def training_signature(cell_size: int) -> tuple[Any, ...]:
    import tensorflow as tf

    return (
        tf.TensorSpec((None, cell_size, cell_size, 1), tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.float32),
    )


def cells_per_pass(source: RasterStore, rows: np.ndarray, codec: CellCodec, empty_share: float) -> int:
    """Training cells one clean pass over ``rows`` yields: every non-empty cell plus the capped empty ones."""
    nonempty = total = 0
    for _, masks in source.iter_rows(rows):
        keys = codec.masks_to_keys(masks)
        total += keys.size
        nonempty += int((keys != codec.empty_key).sum())
    return min(total, nonempty + int(nonempty * empty_share / (1.0 - empty_share)))


def fixed_cells(
    source: RasterStore,
    rows: np.ndarray,
    preprocessor: CellPreprocessor,
    *,
    seed: int,
    limit: int | None,
    augment: bool = False,
) -> CellBatch:
    """The cells of ``rows`` as one in-memory set (empty share capped), at most ``limit`` of them, seeded."""
    rng = np.random.default_rng(seed)
    parts = []
    for chunk_rows, masks in source.iter_rows(rows):
        batch = preprocessor(masks, source.is_diacritic[chunk_rows], rng, augment=augment, cap_empty=True)
        parts.append(CellBatch(batch.inputs, batch.targets, batch.weights, chunk_rows[batch.raster], batch.position))
    cells = CellBatch.concat(parts)
    if limit is not None and len(cells) > limit:
        cells = cells.take(np.sort(rng.choice(len(cells), size=limit, replace=False)))
    return cells
