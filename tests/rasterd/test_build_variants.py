"""Outline-augmented variants: the render obeys the build's raster policy, and `rasterd build` /
`rasterd tokenize` write, resume and refresh the variants store beside the rasters store."""

from __future__ import annotations

import numpy as np
import pytest
from font_samples import sample_glyphs

from glyph_core.config import OutlineAugmentConfig, RasterConfig, RasterizerConfig
from glyph_core.paths import OutputLayout
from glyph_core.primitives import assign_primitives
from glyph_core.store import open_store, read_masks, split_code
from rasterd.raster import pack_contours, rasterize_contours
from rasterd.variants import draw_transforms, render_variants

POLICY = RasterConfig()


@pytest.fixture(scope="module")
def glyphs():
    samples = sample_glyphs(fonts=3, per_font=60)
    return [s.contours for s in samples], np.array([s.em_height for s in samples])


def ink_extent(mask: np.ndarray) -> tuple[int, int, int]:
    """(first ink row, first ink column, larger side of the ink box)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)


def test_no_transform_and_no_stroke_change_is_the_builds_own_raster(glyphs):
    texts, em = glyphs
    n = len(texts)
    plain = rasterize_contours(texts, em, POLICY)
    same = render_variants(pack_contours(texts, POLICY.max_points), em, np.repeat(np.eye(2)[None], n, 0), np.zeros(n, int), POLICY)
    assert np.array_equal(same.masks, plain.masks)
    for name in ("is_diacritic", "bbox", "scale_factor", "major_dim_ratio", "target_dim"):
        assert np.allclose(getattr(same, name), getattr(plain, name), equal_nan=True), name


def test_variants_keep_the_tight_fit_and_top_left_placement(glyphs):
    """Unlike a warp of the raster, nothing is cut off at the right or bottom and nothing shrinks
    below the target: the policy tight-fits the transformed outline."""
    texts, em = glyphs
    n = len(texts)
    matrices, strokes = draw_transforms(np.arange(n), np.zeros(n, int), OutlineAugmentConfig(), POLICY.supersample)
    assert set(strokes.tolist()) == {-2, -1, 0, 1, 2}  # 1 output px on a 2x supersampled canvas
    batch = render_variants(pack_contours(texts, POLICY.max_points), em, matrices, strokes, POLICY)
    plain = rasterize_contours(texts, em, POLICY)

    def gaps(rendered):
        """Pixels between the ink box and the policy's tight fit (top, left, or short of the target)."""
        out = []
        for mask, target in zip(rendered.masks > 0, rendered.target_dim, strict=True):
            top, left, side = ink_extent(mask) if mask.any() else (0, 0, target)
            assert side <= target
            out.append(max(top, left, target - side))
        return np.array(out)

    # The downsample drops thin tips of plain rasters too; an erosion can round off a pixel or two more.
    variant_gaps, plain_gaps = gaps(batch), gaps(plain)
    assert (variant_gaps <= plain_gaps + 2).all() and np.mean(variant_gaps == 0) > 0.75
    changed = (batch.masks != plain.masks).any(axis=(1, 2))
    assert changed.mean() > 0.9
    # Size cues follow the transformed outline: its own bbox, and the policy's scale for it.
    major = np.maximum(batch.bbox[:, 2] - batch.bbox[:, 0], batch.bbox[:, 3] - batch.bbox[:, 1])
    assert np.allclose(batch.scale_factor * major, batch.target_dim)
    assert not np.allclose(batch.bbox, plain.bbox)


def test_stroke_changes_weight_and_an_erosion_never_erases_a_glyph(glyphs):
    texts, em = glyphs
    outlines = pack_contours(texts, POLICY.max_points)
    n, eye = len(texts), np.repeat(np.eye(2)[None], len(texts), 0)
    ink = {s: render_variants(outlines, em, eye, np.full(n, s), POLICY).masks.astype(bool).sum(axis=(1, 2)) for s in (-2, 0, 2)}
    drawn = ink[0] > 0
    assert (ink[2][drawn] > ink[0][drawn]).all()
    assert (ink[-2][drawn] > 0).all() and (ink[-2][drawn] <= ink[0][drawn]).all()
    assert (ink[-2][drawn] < ink[0][drawn]).mean() > 0.9


def test_a_variant_depends_on_seed_glyph_and_number_only():
    config = OutlineAugmentConfig()
    a = draw_transforms(np.array([5, 9, 5]), np.array([0, 0, 1]), config, 2)
    b = draw_transforms(np.array([5, 5]), np.array([1, 0]), config, 2)
    assert np.array_equal(a[0][2], b[0][0]) and np.array_equal(a[0][0], b[0][1])
    assert not np.allclose(a[0][0], a[0][2])
    other = draw_transforms(np.array([5]), np.array([0]), config.model_copy(update={"seed": 8}), 2)
    assert not np.allclose(other[0][0], a[0][0])
    none = draw_transforms(np.array([5]), np.array([0]), OutlineAugmentConfig(scale_jitter=0, slant_max=0, rotate_deg=0, stroke_px=0), 2)
    assert np.allclose(none[0][0], np.eye(2)) and none[1][0] == 0


def make_config(db, root, **augment) -> RasterizerConfig:
    return RasterizerConfig.model_validate({
        "database": str(db), "outputs": {"root": str(root)}, "labels": {"min_count": 3}, "dask": {"workers": 1},
        "build": {"chunk_size": 256}, "augment": {"variants": 2, **augment},
    })  # fmt: skip


@pytest.mark.slow
def test_build_writes_refreshes_and_drops_the_variants_store_and_tokenize_follows(small_glyphs_db, tmp_path):
    from glyph_train.primitives.run import run_primitives
    from glyph_core.cell_config import PrimitivesConfig
    from rasterd.build import run_build
    from rasterd.tokenize import run_tokenize

    root = tmp_path / "outputs"
    layout = OutputLayout.at(root)
    summary = run_build(make_config(small_glyphs_db, root))
    rasters = open_store(layout.rasters_store, "rasters")
    variants = open_store(layout.variants_store, "variants", expect={"rasters_build_id": rasters.attrs["build_id"]})
    train = np.flatnonzero(rasters["split"][:] == split_code("train"))
    assert int(variants.attrs["count"]) == 2 * len(train) == summary.variants.glyphs
    assert np.array_equal(variants["source_row"][:], np.repeat(train, 2))
    assert np.array_equal(variants["variant"][:], np.tile([0, 1], len(train)))
    assert np.array_equal(variants["glyph_id"][:], rasters["glyph_id"][:][np.repeat(train, 2)])
    masks, source = read_masks(variants), read_masks(rasters)[np.repeat(train, 2)]
    assert (masks != source).any(axis=(1, 2)).mean() > 0.9 and masks.any(axis=(1, 2)).all()
    assert "variants" in str(summary) and str(len(train) * 2) in str(summary)

    again = run_build(make_config(small_glyphs_db, root))
    assert again.up_to_date and again.variants.up_to_date

    # New augmentation settings redo the variants only; the rasters store keeps its build.
    reseeded = run_build(make_config(small_glyphs_db, root, seed=8))
    assert reseeded.up_to_date and not reseeded.variants.up_to_date
    assert open_store(layout.rasters_store, "rasters").attrs["build_id"] == rasters.attrs["build_id"]
    assert not np.array_equal(read_masks(open_store(layout.variants_store, "variants")), masks)

    run_primitives(PrimitivesConfig(outputs={"root": str(root)}, clusters=31))
    tokenized = run_tokenize(make_config(small_glyphs_db, root, seed=8))
    variants = open_store(layout.variants_store, "variants")
    grids = open_store(layout.variant_grids_store, "grids", expect={"rasters_build_id": variants.attrs["build_id"]})
    expected = assign_primitives(read_masks(variants, 0, 64), np.load(layout.centroids), 8)
    assert np.array_equal(grids["grid"][:64], expected)
    assert tokenized.variants is not None and "variants" in str(tokenized)

    dropped = run_build(make_config(small_glyphs_db, root, seed=8, variants=0))
    assert dropped.variants.per_glyph == 0 and not layout.variants_store.exists()
    run_tokenize(make_config(small_glyphs_db, root, seed=8, variants=0))
    assert not layout.variant_grids_store.exists()
