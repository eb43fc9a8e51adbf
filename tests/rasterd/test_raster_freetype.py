"""Masks agree with FreeType's: the same outline (exact curves, area coverage) rendered by FreeType at
the supersampled size, thresholded at 0.5 and downsampled the same way (DESIGN: IoU >= 0.995)."""

from __future__ import annotations

import ctypes

import freetype
import freetype.raw as ft
import numpy as np
import pytest
from font_samples import LETTERS_WITH_COUNTERS, available_fonts, font_samples, sample_glyphs
from glyph_core.config import RasterConfig
from glyph_core.contours import VERB_CLOSE, VERB_CUBIC, VERB_LINE, VERB_MOVE, VERB_QUAD, Outline, parse_contours
from scipy import ndimage

from rasterd.raster import RasterBatch, downsample_masks, rasterize_contours

CONFIG = RasterConfig()
TAGS = {VERB_MOVE: (freetype.FT_CURVE_TAG_ON,), VERB_LINE: (freetype.FT_CURVE_TAG_ON,),
        VERB_QUAD: (freetype.FT_CURVE_TAG_CONIC, freetype.FT_CURVE_TAG_ON),
        VERB_CUBIC: (freetype.FT_CURVE_TAG_CUBIC, freetype.FT_CURVE_TAG_CUBIC, freetype.FT_CURVE_TAG_ON)}  # fmt: skip


def freetype_render(outline: Outline, batch: RasterBatch, index: int, config: RasterConfig) -> np.ndarray:
    """FreeType's 8-bit coverage of the outline placed exactly as the core places it, at the
    supersampled size (rows down)."""
    size = config.canvas_size * config.supersample
    render_scale = batch.scale_factor[index] * config.supersample
    min_x, _, _, max_y = batch.bbox[index]
    # FreeType's bitmap has y up from its bottom edge: y_ft = size - row coordinate.
    xs = (outline.points[:, 0] - min_x) * render_scale
    ys = size - (max_y - outline.points[:, 1]) * render_scale
    tags, ends, count = [], [], 0
    for verb in outline.verbs.tolist():
        if verb == VERB_CLOSE:
            ends.append(count - 1)
            continue
        tags.extend(TAGS[verb])
        count += len(TAGS[verb])
    n = len(xs)
    points = (ft.FT_Vector * n)(*[ft.FT_Vector(int(round(x * 64)), int(round(y * 64))) for x, y in zip(xs, ys)])
    tag_array = (ctypes.c_ubyte * n)(*tags)
    end_array = (ctypes.c_short * len(ends))(*ends)
    flags = freetype.FT_OUTLINE_EVEN_ODD_FILL if config.fill_rule == "evenodd" else 0
    ft_outline = ft.FT_Outline(len(ends), n, ctypes.cast(points, ctypes.POINTER(ft.FT_Vector)),
                               ctypes.cast(tag_array, ctypes.POINTER(ctypes.c_ubyte)),
                               ctypes.cast(end_array, ctypes.POINTER(ctypes.c_short)), flags)  # fmt: skip
    buffer = (ctypes.c_ubyte * (size * size))()
    bitmap = ft.FT_Bitmap(size, size, size, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ubyte)), 256,
                          freetype.FT_PIXEL_MODE_GRAY, b"\0", None)  # fmt: skip
    error = ft.FT_Outline_Get_Bitmap(freetype.get_handle(), ctypes.byref(ft_outline), ctypes.byref(bitmap))
    assert error == 0, f"FreeType error {error}"
    return np.frombuffer(buffer, dtype=np.uint8).reshape(size, size).copy()


def freetype_masks(outlines: list[Outline], batch: RasterBatch, config: RasterConfig) -> np.ndarray:
    coverage = np.stack([freetype_render(o, batch, i, config) for i, o in enumerate(outlines)])
    return downsample_masks(np.where(coverage >= 128, 255, 0).astype(np.uint8), config.canvas_size)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def hole_count(mask: np.ndarray) -> int:
    _, count = ndimage.label(np.pad(mask == 0, 1, constant_values=True))
    return count - 1


@pytest.mark.slow
def test_masks_agree_with_freetype_on_real_glyphs() -> None:
    samples = sample_glyphs(fonts=18)
    outlines = [parse_contours(s.contours) for s in samples]
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), CONFIG)
    reference = freetype_masks(outlines, batch, CONFIG)
    scores = np.array([iou(batch.masks[i] > 0, reference[i] > 0) for i in range(len(samples))])
    worst = np.argsort(scores)[:5]
    detail = ", ".join(f"{samples[i].font} U+{samples[i].codepoint:04X}: {scores[i]:.3f}" for i in worst)
    assert scores.mean() >= 0.995, f"mean IoU {scores.mean():.4f}; worst {detail}"


@pytest.mark.slow
def test_counters_agree_with_freetype() -> None:
    samples = [s for path in available_fonts() for s in font_samples(path, LETTERS_WITH_COUNTERS)]
    outlines = [parse_contours(s.contours) for s in samples]
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), CONFIG)
    reference = freetype_masks(outlines, batch, CONFIG)
    agree = [hole_count(batch.masks[i]) == hole_count(reference[i]) for i in range(len(samples))]
    disagree = [f"{samples[i].font} U+{samples[i].codepoint:04X}" for i, ok in enumerate(agree) if not ok]
    assert np.mean(agree) >= 0.995, f"hole counts differ for {disagree}"


@pytest.mark.slow
def test_fill_rules_agree_with_freetype() -> None:
    evenodd = RasterConfig(fill_rule="evenodd")
    samples = sample_glyphs(fonts=18)[::5]
    outlines = [parse_contours(s.contours) for s in samples]
    batch = rasterize_contours([s.contours for s in samples], np.array([s.em_height for s in samples]), evenodd)
    reference = freetype_masks(outlines, batch, evenodd)
    scores = [iou(batch.masks[i] > 0, reference[i] > 0) for i in range(len(samples))]
    assert np.mean(scores) >= 0.995
