"""Training draws outline-augmented variants (written by `rasterd build`, tokenized by `rasterd tokenize`)
instead of warping rasters: the draw, the swap of grids, rasters and size cues, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from glyph_core.classifier_config import GridInputConfig
from glyph_core.rasters import open_rasters
from glyph_core.store import StoreError, read_masks
from glyph_train.data.glyphs import PackedRasters, load_glyph_table
from glyph_train.data.variants import Variants, augmented_raster_inputs, load_variants
from glyph_train.phase2.inputs import GridPreparer

from train_helpers import VARIANTS, rasterizer_config


def synthetic(count: int = 20, with_variants: int = 10, per_glyph: int = 3) -> Variants:
    first = np.full(count, -1, dtype=np.int64)
    first[:with_variants] = np.arange(with_variants) * per_glyph
    n = with_variants * per_glyph
    side = np.arange(n * 5, dtype=np.float32).reshape(n, 5)
    return Variants(per_glyph, "b" * 32, first, side, None, np.arange(n)[:, None, None] * np.ones((1, 16, 16), np.int32))


def test_the_draw_takes_its_share_only_of_rows_with_variants_and_is_seeded():
    variants, rows = synthetic(), np.arange(20)
    chosen, picks = variants.draw(rows, 1.0, np.random.default_rng(0))
    assert np.array_equal(chosen, np.arange(10))  # rows 10..19 have no variants (not train rows)
    assert ((picks >= 3 * chosen) & (picks < 3 * chosen + 3)).all()
    assert len(variants.draw(rows, 0.0, np.random.default_rng(0))[0]) == 0
    many = np.tile(rows, 200)
    chosen, picks = variants.draw(many, 0.5, np.random.default_rng(1))
    assert 0.45 < len(chosen) / (len(many) / 2) < 0.55
    assert set((picks % 3).tolist()) == {0, 1, 2}  # every variant gets drawn
    again = variants.draw(many, 0.5, np.random.default_rng(1))
    assert np.array_equal(again[0], chosen) and np.array_equal(again[1], picks)


@pytest.fixture
def tokenized(primitives_layout, small_glyphs_db):
    from rasterd.tokenize import run_tokenize

    run_tokenize(rasterizer_config(small_glyphs_db, primitives_layout.root))
    return primitives_layout


def test_phase2_batches_take_a_variants_grid_and_size_cues(tokenized):
    from glyph_core.primitives import load_centroids

    source = open_rasters(tokenized)
    table = load_glyph_table(source, tokenized)
    _, chash = load_centroids(tokenized.centroids, source.cell_size)
    variants = load_variants(tokenized, source, grids_centroid_hash=chash)
    train = table.rows_of("train")
    assert variants.per_glyph == VARIANTS and (variants.first[train] >= 0).all()
    assert (variants.first[table.rows_of("val")] == -1).all()
    grids = np.zeros((len(table), 16, 16), dtype=np.int32)
    config = GridInputConfig(token_noise=[0.0, 0.0], augment={"share": 1.0})
    preparer = GridPreparer(table, grids, config, 128, aux=False, variants=variants)
    rows = train[:64]
    inputs, targets = preparer(rows, np.random.default_rng(3))
    _, picks = variants.draw(rows, 1.0, np.random.default_rng(3))
    assert np.array_equal(inputs["grid"], variants.grids[picks]) and inputs["grid"].any()
    assert np.array_equal(inputs["side"], variants.side[picks])
    assert not np.array_equal(inputs["side"], table.side[rows])  # the variant's own outline, its own cues
    assert np.array_equal(targets["logits"][:, 0], table.label[rows])
    with pytest.raises(ValueError, match="variants"):
        GridPreparer(table, grids, config, 128, aux=False, variants=None)


def test_raster_batches_take_a_variants_raster(tokenized):
    source = open_rasters(tokenized)
    table = load_glyph_table(source, tokenized)
    variants = load_variants(tokenized, source, rasters=True)
    rows = table.rows_of("train")[:32]
    inputs = augmented_raster_inputs(PackedRasters(source, rows), table, rows, variants, 1.0, np.random.default_rng(4))
    _, picks = variants.draw(rows, 1.0, np.random.default_rng(4))
    stored = read_masks(zarr.open_group(str(tokenized.variants_store), mode="r"), value=1)
    assert np.array_equal(inputs["raster"][..., 0], stored[picks].astype(np.float32))
    plain = augmented_raster_inputs(PackedRasters(source, rows), table, rows, variants, 0.0, np.random.default_rng(4))
    assert np.array_equal(plain["raster"][..., 0], PackedRasters(source, rows).masks(rows).astype(np.float32))


def test_missing_or_stale_variants_are_refused_naming_the_command(tokenized):
    source = open_rasters(tokenized)
    with pytest.raises(StoreError, match="rasterd tokenize"):
        load_variants(tokenized, source, grids_centroid_hash="0" * 64)
    group = zarr.open_group(str(tokenized.variants_store), mode="r+")
    group.attrs["rasters_build_id"] = "another build"
    with pytest.raises(StoreError, match="rasterd build"):
        load_variants(tokenized, source)
    import shutil

    shutil.rmtree(tokenized.variants_store)
    with pytest.raises(FileNotFoundError, match="augment.variants"):
        load_variants(tokenized, source)
