"""The input pipeline: whole-chunk reads, seeded and thread-independent batches, capped empty cells, tf.data."""

import numpy as np

from glyph_core.cell_config import CellAugmentConfig

from glyph_core.cells import CellCodec, PrimitiveAssigner
from glyph_core.rasters import open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.phase1.inputs import cells_per_pass, training_signature, training_stream
from glyph_train.phase1.preprocessor import CellPreprocessor


def make_stream(layout, seed, workers=2, batch=256, shuffle_chunks=3):
    source = open_rasters(layout)
    centroids, _ = load_centroids(layout.centroids, source.cell_size)
    preprocessor = CellPreprocessor(PrimitiveAssigner(centroids, source.cell_size), CellAugmentConfig(), empty_share=0.1)
    reads = []
    read_chunk = source.read_chunk

    def counting_read(chunk):
        reads.append(chunk)
        return read_chunk(chunk)

    object.__setattr__(source, "read_chunk", counting_read)
    rows = source.rows_of("train")
    stream = training_stream(source, rows, preprocessor, batch, seed=seed, shuffle_chunks=shuffle_chunks, workers=workers)
    return stream, reads, source, rows


def take(stream, count):
    batches = []
    for batch in stream.batches():
        batches.append(batch)
        if len(batches) == count:
            return batches
    raise AssertionError("the stream ended")


def test_same_seed_same_batches_whatever_the_threads(primitives_layout):
    one, _, _, _ = make_stream(primitives_layout, [1], workers=1)
    two, _, _, _ = make_stream(primitives_layout, [1], workers=3)
    other, _, _, _ = make_stream(primitives_layout, [2], workers=2)
    a, b, c = take(one, 12), take(two, 12), take(other, 12)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            assert np.array_equal(u, v)
    assert not np.array_equal(a[0][1], c[0][1])


def test_batches_are_full_mixed_and_capped_in_empty_cells(primitives_layout):
    stream, reads, source, rows = make_stream(primitives_layout, [3], batch=4096)
    per_pass = cells_per_pass(source, rows, CellCodec(8), 0.1)
    reads.clear()
    batches = take(stream, per_pass // 4096 + 10)
    inputs, targets, weights = (np.concatenate(parts) for parts in zip(*batches, strict=True))
    assert all(len(b[1]) == 4096 for b in batches)
    assert inputs.shape[1:] == (8, 8, 1) and inputs.dtype == np.float32 and targets.dtype == np.int32
    assert (weights == 1).all()
    assert abs((targets == 0).mean() - 0.1) < 0.02
    # Only chunks holding train rows are read, and a pass reads each of them once, whole.
    train_chunks = set(source.chunks_of(rows).tolist())
    assert set(reads) <= train_chunks
    first_pass = reads[: len(train_chunks)]
    assert sorted(first_pass) == sorted(train_chunks) and first_pass != sorted(first_pass)


def test_stream_as_tf_dataset(primitives_layout):
    stream, _, source, rows = make_stream(primitives_layout, [4], batch=128)
    dataset = stream.dataset(training_signature(8), prefetch=2)
    x, y, w = next(iter(dataset))
    assert tuple(x.shape) == (128, 8, 8, 1) and tuple(y.shape) == (128,) and tuple(w.shape) == (128,)


def test_cells_per_pass_counts_nonempty_cells_and_the_empty_share(primitives_layout):
    source = open_rasters(primitives_layout)
    rows = source.rows_of("val")
    codec = CellCodec(source.cell_size)
    nonempty = sum(int((codec.masks_to_keys(m) != codec.empty_key).sum()) for _, m in source.iter_rows(rows))
    assert cells_per_pass(source, rows, codec, 0.0) == nonempty
    assert cells_per_pass(source, rows, codec, 0.2) == nonempty + nonempty // 4
