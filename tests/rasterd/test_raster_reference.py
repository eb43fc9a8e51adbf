"""The Cython core renders exactly what the NumPy reference (raster_reference.py) renders: masks and
metadata, on hand-made outlines under every config knob and on real glyphs."""

from __future__ import annotations

import numpy as np
import pytest
import raster_reference as reference
from font_samples import sample_glyphs
from glyph_core.config import RasterConfig
from glyph_core.contours import parse_contours
from raster_shapes import HAND_MADE

from rasterd.raster import RasterBatch, rasterize_contours, rasterize_outlines

CONFIGS = {
    "default": RasterConfig(),
    "center_evenodd": RasterConfig(anchoring="center", fill_rule="evenodd"),
    "coarse_curves": RasterConfig(curve_subdivisions=1),
    "fine_curves": RasterConfig(curve_subdivisions=13),
    "no_supersample": RasterConfig(canvas_size=64, supersample=1, diacritic_target=32),
    "small_x3": RasterConfig(canvas_size=32, supersample=3, cell_size=4, diacritic_target=16),
    "x4": RasterConfig(canvas_size=48, supersample=4, cell_size=16, diacritic_target=20),
}


def assert_matches_reference(batch: RasterBatch, index: int, expected: reference.ReferenceRaster, name: str) -> None:
    diff = int(np.count_nonzero(batch.masks[index] != expected.mask))
    assert diff == 0, f"{name}: {diff} pixels differ from the reference"
    assert tuple(batch.bbox[index].tolist()) == expected.bbox, name
    assert batch.scale_factor[index] == expected.scale_factor, name
    np.testing.assert_equal(batch.major_dim_ratio[index], expected.major_dim_ratio, err_msg=name)
    assert bool(batch.is_diacritic[index]) == expected.is_diacritic, name
    assert int(batch.target_dim[index]) == expected.target_dim, name


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_hand_made_outlines_match_reference(config_name: str) -> None:
    config = CONFIGS[config_name]
    names = sorted(HAND_MADE)
    for em in (1000.0, np.nan, 40_000.0):
        batch = rasterize_outlines([HAND_MADE[n] for n in names], np.full(len(names), em), config)
        for i, name in enumerate(names):
            assert_matches_reference(batch, i, reference.render(HAND_MADE[name], em, config), f"{name} em={em}")


@pytest.mark.parametrize("config_name", ["default", "center_evenodd", "small_x3"])
def test_real_glyphs_match_reference(config_name: str) -> None:
    config = CONFIGS[config_name]
    samples = sample_glyphs(fonts=6)[::23]
    texts = [s.contours for s in samples]
    em = np.array([s.em_height for s in samples])
    batch = rasterize_contours(texts, em, config)
    for i, sample in enumerate(samples):
        expected = reference.render(parse_contours(sample.contours), sample.em_height, config)
        assert_matches_reference(batch, i, expected, f"{sample.font} U+{sample.codepoint:04X}")


@pytest.mark.slow
def test_all_sample_glyphs_match_reference() -> None:
    # Every installed font, the first 120 Arabic-block glyphs of each (the pure-Python reference is slow).
    config = RasterConfig()
    samples = sample_glyphs(fonts=18, per_font=120)
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), config)
    for i, sample in enumerate(samples):
        expected = reference.render(parse_contours(sample.contours), sample.em_height, config)
        assert_matches_reference(batch, i, expected, f"{sample.font} U+{sample.codepoint:04X}")


def test_outlines_and_contour_text_give_the_same_batch() -> None:
    samples = sample_glyphs(fonts=5, per_font=40)
    em = np.array([s.em_height for s in samples])
    from_text = rasterize_contours([s.contours for s in samples], em, RasterConfig())
    from_outlines = rasterize_outlines([parse_contours(s.contours) for s in samples], em, RasterConfig())
    for field in ("masks", "is_diacritic", "bbox", "scale_factor", "major_dim_ratio", "target_dim"):
        np.testing.assert_array_equal(getattr(from_text, field), getattr(from_outlines, field), err_msg=field)


def test_batch_order_and_size_do_not_matter() -> None:
    samples = sample_glyphs(fonts=5, per_font=30)
    texts = [s.contours for s in samples]
    em = np.array([s.em_height for s in samples])
    whole = rasterize_contours(texts, em, RasterConfig())
    order = np.random.default_rng(5).permutation(len(texts))
    shuffled = rasterize_contours([texts[i] for i in order], em[order], RasterConfig())
    np.testing.assert_array_equal(shuffled.masks, whole.masks[order])
    one = rasterize_contours(texts[7:8], em[7:8], RasterConfig())
    np.testing.assert_array_equal(one.masks[0], whole.masks[7])
    empty = rasterize_contours([], np.empty(0), RasterConfig())
    assert empty.masks.shape == (0, 128, 128) and len(empty) == 0
