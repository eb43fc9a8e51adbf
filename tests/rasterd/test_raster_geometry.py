"""What the masks look like: placement, size, holes, fill rules, metadata (docs/raster-policy.md)."""

from __future__ import annotations

import numpy as np
import pytest
import raster_reference as reference
from font_samples import LETTERS_WITH_COUNTERS, available_fonts, font_samples, sample_glyphs
from glyph_core.config import RasterConfig
from glyph_core.contours import parse_contours
from glyph_core.store import unpack_masks
from raster_shapes import DOT, FLAT, OVERLAPPING_SQUARES, POINT, SQUARE, SQUARE_IN_SQUARE, SQUARE_WITH_HOLE, WIDE_BAR, outline, rect
from scipy import ndimage

from rasterd.raster import rasterize_contours, rasterize_outlines

DEFAULT = RasterConfig()


def render_one(shape, em: float = 1000.0, config: RasterConfig = DEFAULT):
    return rasterize_outlines([shape], np.array([em]), config)


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the ink."""
    rows, cols = np.nonzero(mask)
    return int(rows.min()), int(cols.min()), int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def hole_count(mask: np.ndarray) -> int:
    """Background components that do not touch the border."""
    _, count = ndimage.label(np.pad(mask == 0, 1, constant_values=True))
    return count - 1


def test_square_fills_the_canvas() -> None:
    batch = render_one(SQUARE)
    assert (batch.masks[0] == 255).all()
    assert batch.masks.dtype == np.uint8 and batch.masks.shape == (1, 128, 128)
    assert batch.bbox[0].tolist() == [0, 0, 1000, 1000]
    assert batch.scale_factor[0] == 128 / 1000 and batch.major_dim_ratio[0] == 1.0
    assert not batch.is_diacritic[0] and batch.target_dim[0] == 128


def test_top_left_anchoring_puts_the_bbox_corner_at_the_origin() -> None:
    bar = render_one(WIDE_BAR).masks[0]  # 1000 x 120 units -> 128 x 15.36 px
    top, left, height, width = ink_box(bar)
    assert (top, left, width) == (0, 0, 128) and height in (15, 16)
    shifted = render_one(outline(rect(5000, -3000, 5600, -2000))).masks[0]  # placement ignores the origin
    top, left, height, width = ink_box(shifted)
    assert (top, left, height) == (0, 0, 128) and width == 77


def test_center_anchoring_centres_the_scaled_bbox() -> None:
    mask = render_one(WIDE_BAR, config=RasterConfig(anchoring="center")).masks[0]
    top, left, height, width = ink_box(mask)
    assert (left, width) == (0, 128)
    assert abs((top + height / 2) - 64) <= 0.5
    dot = render_one(DOT, config=RasterConfig(anchoring="center")).masks[0]
    assert ink_box(dot) == (32, 32, 64, 64)


def test_diacritic_is_scaled_to_half_the_canvas() -> None:
    batch = render_one(DOT, em=1000.0)  # 150 / 1000 < 0.25
    assert batch.is_diacritic[0] and batch.target_dim[0] == 64
    assert batch.major_dim_ratio[0] == pytest.approx(0.15)
    assert ink_box(batch.masks[0]) == (0, 0, 64, 64)
    assert np.count_nonzero(batch.masks[0]) == 64 * 64


def test_real_diacritics_have_a_major_dimension_of_64_pixels() -> None:
    samples = sample_glyphs(fonts=18)
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), DEFAULT)
    diacritics = np.flatnonzero(batch.is_diacritic)
    assert len(diacritics) > 300
    extents = batch.bbox[:, 2:] - batch.bbox[:, :2]
    scaled_major = extents.max(axis=1) * batch.scale_factor
    np.testing.assert_allclose(scaled_major[diacritics], 64, rtol=1e-12)
    np.testing.assert_allclose(scaled_major[~batch.is_diacritic], 128, rtol=1e-12)
    assert (batch.target_dim[diacritics] == 64).all()
    majors = np.array([max(ink_box(batch.masks[i])[2:]) for i in diacritics if batch.masks[i].any()])
    # Ink never reaches past 64 px; a thin tip may fall under the 0.5 threshold.
    assert majors.max() == 64 and majors.min() >= 60
    assert np.mean(majors == 64) > 0.9


def test_real_glyphs_touch_the_top_left_corner() -> None:
    samples = sample_glyphs(fonts=18)
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), DEFAULT)
    boxes = np.array([ink_box(m) for m in batch.masks if m.any()])
    # A curve apex or a thin tip at the bbox edge can fall under the threshold: at most 2 px in.
    assert boxes[:, 0].max() <= 2 and boxes[:, 1].max() <= 2
    assert np.mean(boxes[:, 0] == 0) > 0.9 and np.mean(boxes[:, 1] == 0) > 0.9


def test_holes_are_kept() -> None:
    mask = render_one(SQUARE_WITH_HOLE).masks[0]
    assert hole_count(mask) == 1
    # The hole spans 300..700 units = 38.4..89.6 px; its inside is background.
    assert (mask[40:88, 40:88] == 0).all()
    assert (mask[:36] == 255).all() and (mask[92:] == 255).all()


def test_nonzero_fills_overlaps_and_same_direction_insets_evenodd_does_not() -> None:
    evenodd = RasterConfig(fill_rule="evenodd")
    nonzero_overlap = render_one(OVERLAPPING_SQUARES).masks[0]
    evenodd_overlap = render_one(OVERLAPPING_SQUARES, config=evenodd).masks[0]
    # The squares overlap on 400..600 units = 51.2..76.8 px (rows flip: y up, rows down).
    assert (nonzero_overlap[54:74, 54:74] == 255).all()
    assert (evenodd_overlap[54:74, 54:74] == 0).all()
    assert hole_count(nonzero_overlap) == 0 and hole_count(evenodd_overlap) == 1
    assert (render_one(SQUARE_IN_SQUARE).masks[0] == 255).all()
    assert hole_count(render_one(SQUARE_IN_SQUARE, config=evenodd).masks[0]) == 1
    # A hole drawn in the opposite direction is a hole under both rules.
    assert hole_count(render_one(SQUARE_WITH_HOLE, config=evenodd).masks[0]) == 1


def test_real_letters_keep_their_counters() -> None:
    """Every sample letter whose outline has a counter of at least 30 output px^2 shows a hole."""
    samples = [s for path in available_fonts() for s in font_samples(path, LETTERS_WITH_COUNTERS)]
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), DEFAULT)
    checked = 0
    for i, sample in enumerate(samples):
        polygons = reference.flatten(parse_contours(sample.contours), DEFAULT.curve_subdivisions)
        areas = np.array([shoelace(p) for p in polygons]) * batch.scale_factor[i] ** 2
        outer_sign = np.sign(areas[np.argmax(np.abs(areas))])
        if any(np.sign(a) == -outer_sign and abs(a) >= 30 for a in areas):
            checked += 1
            assert hole_count(batch.masks[i]) >= 1, f"{sample.font} U+{sample.codepoint:04X} lost its counter"
    assert checked >= 100


def shoelace(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def test_unknown_em_height_falls_back_to_the_bbox_height() -> None:
    em = np.array([np.nan, 0.0, -5.0, np.inf, 1000.0])
    batch = rasterize_outlines([DOT] * 5, em, DEFAULT)
    np.testing.assert_array_equal(batch.major_dim_ratio, [1.0, 1.0, 1.0, 1.0, 0.15])
    np.testing.assert_array_equal(batch.is_diacritic, [False, False, False, False, True])
    np.testing.assert_array_equal(batch.target_dim, [128, 128, 128, 128, 64])


def test_degenerate_outlines_render_empty_masks() -> None:
    batch = rasterize_outlines([POINT, FLAT], np.array([np.nan, np.nan]), DEFAULT)
    assert not batch.masks.any()
    assert batch.scale_factor[0] == 1.0 and np.isnan(batch.major_dim_ratio[0])  # 0 / 0
    assert batch.bbox[0].tolist() == [5, 5, 5, 5]
    assert batch.scale_factor[1] == 128 / 1000 and batch.major_dim_ratio[1] == np.inf  # 1000 / 0


def test_packed_form_round_trips() -> None:
    samples = sample_glyphs(fonts=5, per_font=20)
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), DEFAULT)
    packed = batch.packed()
    assert packed.shape == (len(samples), 128, 16) and packed.dtype == np.uint8
    np.testing.assert_array_equal(unpack_masks(packed), batch.masks)
