"""CompiledPrimitiveAssigner gives exactly glyph_core.primitives.assign_primitives' ids, however its memo was
filled, for every cell size and for awkward centroid sets (duplicates, ties, NaN, inf, huge)."""

from __future__ import annotations

import numpy as np
import pytest
from font_samples import sample_glyphs
from glyph_core.config import RasterConfig
from glyph_core.primitives import assign_primitives, centroid_hash, split_cells

from rasterd.raster import CompiledPrimitiveAssigner, rasterize_contours


def random_masks(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """Masks with empty areas, sparse and dense regions."""
    density = rng.random((count, 1, 1))
    masks = (rng.random((count, size, size)) < density).astype(np.uint8) * 255
    masks[:, : size // 4] = 0
    masks[:, -size // 8 :] = 255
    return masks


def random_centroids(rng: np.random.Generator, count: int, pixels: int) -> np.ndarray:
    """Soft centroids in [0, 1], a few binary ones, and duplicated rows (exact ties)."""
    centroids = rng.random((count, pixels))
    centroids[: count // 4] = rng.random((count // 4, pixels)) < 0.5
    dup = rng.choice(count, size=count // 5)
    centroids[rng.choice(count, size=count // 5)] = centroids[dup]
    return centroids


@pytest.mark.parametrize("cell_size", [4, 8, 16])
@pytest.mark.parametrize("count", [1, 2, 37, 300])
def test_equals_the_specification_on_random_masks(cell_size: int, count: int) -> None:
    rng = np.random.default_rng(cell_size * 1000 + count)
    masks = random_masks(rng, 12, 64)
    centroids = random_centroids(rng, count, cell_size * cell_size)
    assigner = CompiledPrimitiveAssigner(centroids, cell_size)
    expected = assign_primitives(masks, centroids, cell_size)
    np.testing.assert_array_equal(assigner.assign(masks), expected)
    # A second call answers from the memo.
    np.testing.assert_array_equal(assigner.assign(masks[::-1]), expected[::-1])


def test_equals_the_specification_on_real_cells() -> None:
    samples = sample_glyphs(fonts=6, per_font=60)
    masks = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), RasterConfig()).masks
    cells = split_cells(masks, 8).reshape(-1, 64)
    cells = cells[cells.any(axis=1)]
    rng = np.random.default_rng(2)
    # k-means-like centroids: real patterns blurred a little, plus exact copies of real patterns.
    picks = cells[rng.choice(len(cells), 255, replace=False)].astype(np.float64)
    centroids = np.concatenate([picks[:200] * 0.9 + 0.05 + rng.random((200, 64)) * 0.01, picks[200:]])
    assigner = CompiledPrimitiveAssigner(centroids, 8)
    for start in range(0, len(masks), 100):
        np.testing.assert_array_equal(assigner.assign(masks[start : start + 100]), assign_primitives(masks[start : start + 100], centroids, 8))
    assert assigner.known_patterns == len(np.unique(cells, axis=0))


def test_exact_ties_go_to_the_lowest_index() -> None:
    rng = np.random.default_rng(4)
    masks = random_masks(rng, 8, 32)
    np.testing.assert_array_equal(CompiledPrimitiveAssigner(np.full((6, 64), 0.5), 8).assign(masks), assign_primitives(masks, np.full((6, 64), 0.5), 8))
    binary = (rng.random((40, 64)) < 0.5).astype(np.float64)
    np.testing.assert_array_equal(CompiledPrimitiveAssigner(binary, 8).assign(masks), assign_primitives(masks, binary, 8))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("poison", ["nan", "inf", "huge", "float32", "negative"])
def test_awkward_centroid_values(poison: str) -> None:
    rng = np.random.default_rng(5)
    masks = random_masks(rng, 8, 32)
    centroids = rng.random((20, 64))
    if poison == "nan":
        centroids[7, 3] = np.nan
        centroids[12, 0] = np.nan
    elif poison == "inf":
        centroids[4, 9] = np.inf
        centroids[5, 9] = -np.inf
    elif poison == "huge":
        centroids[2] = 1e200
    elif poison == "float32":
        centroids = centroids.astype(np.float32)
    else:
        centroids = centroids * 40 - 20
    with np.errstate(over="ignore", invalid="ignore"):
        expected = assign_primitives(masks, centroids, 8)
    np.testing.assert_array_equal(CompiledPrimitiveAssigner(centroids, 8).assign(masks), expected)


def test_inputs_and_metadata() -> None:
    rng = np.random.default_rng(6)
    centroids = rng.random((10, 16))
    assigner = CompiledPrimitiveAssigner(centroids, 4)
    assert assigner.centroid_hash == centroid_hash(centroids)
    mask = (rng.random((16, 16)) < 0.5).astype(np.uint8)
    ids = assigner.assign(mask)  # one 2-D mask, values 0/1
    assert ids.shape == (1, 4, 4) and ids.dtype == np.uint16
    np.testing.assert_array_equal(ids, assign_primitives(mask, centroids, 4))
    np.testing.assert_array_equal(assigner.assign(mask.astype(bool)[None]), ids)
    np.testing.assert_array_equal(assigner.assign(mask.astype(np.float32)[None] * 0.3), ids)
    assert not assigner.assign(np.zeros((2, 16, 16), np.uint8)).any()
    assert assigner.assign(np.zeros((0, 16, 16), np.uint8)).shape == (0, 4, 4)
    with pytest.raises(ValueError, match="multiple of cell_size"):
        assigner.assign(np.zeros((1, 18, 16), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        CompiledPrimitiveAssigner(centroids, 8)
    with pytest.raises(ValueError, match="uint16"):
        CompiledPrimitiveAssigner(np.zeros((70_000, 16)), 4)
