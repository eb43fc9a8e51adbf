"""Cell keys, remembered per-pattern functions, and primitive ids equal to glyph-core's specification."""

import numpy as np
import pytest

from glyph_core.cell_config import CellAugmentConfig
from glyph_core.primitives import assign_primitives, nearest_centroid, split_cells
from glyph_core.store import read_masks

from glyph_train.data.augment import draw_augmentation, translate
from glyph_core.cells import CellCodec, PatternTable, PrimitiveAssigner, nearest_primitive
from glyph_core.rasters import open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.phase1.preprocessor import CellPreprocessor


@pytest.mark.parametrize("cell", [4, 8, 16])
def test_codec_round_trip_and_empty_key(cell):
    rng = np.random.default_rng(cell)
    cells = (rng.random((500, cell * cell)) < 0.3).astype(np.uint8)
    cells[np.arange(500), rng.integers(0, cell * cell, 500)] = 1
    cells[0] = 0
    codec = CellCodec(cell)
    keys = codec.encode(cells)
    assert keys.shape == (500,)
    assert np.array_equal(codec.decode(keys), cells)
    assert keys[0] == codec.empty_key
    assert (keys[1:] != codec.empty_key).all()
    # Equal cells give equal keys, different cells different keys.
    assert len(np.unique(keys)) == len(np.unique(cells, axis=0))


def test_masks_to_keys_follows_the_row_major_cell_order():
    masks = np.zeros((1, 16, 16), dtype=np.uint8)
    masks[0, 0, 8] = 1  # top-right cell of a 2x2 grid, its first pixel
    codec = CellCodec(8)
    keys = codec.masks_to_keys(masks)
    assert keys.shape == (1, 2, 2)
    assert (keys[0, 0, 0], keys[0, 1, 0], keys[0, 1, 1]) == (codec.empty_key,) * 3
    assert np.array_equal(codec.decode(keys[0, 0, 1:2]), split_cells(masks, 8)[0, 0, 1:2])


def test_nearest_primitive_equals_the_specification_even_on_ties():
    rng = np.random.default_rng(0)
    centroids = rng.random((63, 64)).astype(np.float32)
    centroids[10] = centroids[3]  # an exact duplicate: the lower id must win
    binary = (rng.random((40, 64)) < 0.5).astype(np.float32)
    centroids[20:60] = binary  # patterns equal to centroids...
    centroids[20:60, 0] = np.where(binary[:, 0] == 1, 0.5, 0.5)  # ...with a pixel at 0.5: exact ties
    patterns = (rng.random((3000, 64)) < 0.4).astype(np.uint8)
    patterns[:40] = binary
    patterns[40:80] = (centroids[3] > 0.5).astype(np.uint8)
    expected = nearest_centroid(patterns, centroids) + 1
    assert np.array_equal(nearest_primitive(patterns, centroids), expected)


def test_pattern_table_computes_each_pattern_once():
    codec = CellCodec(8)
    calls = []

    def compute(patterns):
        calls.append(len(patterns))
        return patterns.sum(axis=1)

    table = PatternTable(codec, compute, empty_value=0)
    rng = np.random.default_rng(1)
    cells = (rng.random((1000, 64)) < 0.05).astype(np.uint8)
    keys = codec.encode(cells)
    first = table.lookup(keys)
    assert np.array_equal(first, cells.sum(axis=1))
    distinct_nonempty = len(np.unique(keys[cells.any(axis=1)]))
    assert calls == [distinct_nonempty]
    assert np.array_equal(table.lookup(keys[::-1]), first[::-1]) and len(calls) == 1


def test_assigner_equals_glyph_core_on_real_rasters(primitives_layout):
    source = open_rasters(primitives_layout)
    centroids, _ = load_centroids(primitives_layout.centroids, source.cell_size)
    assigner = PrimitiveAssigner(centroids, source.cell_size)
    masks = read_masks(source.group, 0, 400, value=1)
    assert np.array_equal(assigner.assign(masks), assign_primitives(masks, centroids, source.cell_size))


def test_phase1_targets_are_glyph_core_ids_of_the_translated_rasters(primitives_layout):
    source = open_rasters(primitives_layout)
    centroids, _ = load_centroids(primitives_layout.centroids, source.cell_size)
    config = CellAugmentConfig()
    preprocessor = CellPreprocessor(PrimitiveAssigner(centroids, source.cell_size), config, empty_share=0.1)
    rows = np.arange(0, 300)
    masks = read_masks(source.group, 0, 300, value=1)
    diacritic = source.is_diacritic[rows]
    assert diacritic.any() and not diacritic.all()
    batch = preprocessor(masks, diacritic, np.random.default_rng(5), augment=True, cap_empty=False)
    draw = draw_augmentation(diacritic, config, np.random.default_rng(5))
    assert (draw.shifts[diacritic] == 0).all() and (draw.shifts[~diacritic] != 0).any()
    expected = assign_primitives(translate(masks, draw.shifts), centroids, source.cell_size)
    assert np.array_equal(batch.targets, expected.reshape(-1))
    # Blur and gamma only touch the inputs: cells with a target of 0 are blank or faint halo.
    assert batch.inputs.dtype == np.float32 and 0 < batch.inputs.max() <= 1
    assert (batch.inputs[batch.targets == 0] < 0.5).all()
