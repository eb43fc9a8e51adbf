"""The raster spec of ``rasterd.raster`` written plainly in NumPy (and Pillow for the resize), one glyph
at a time: the oracle the Cython core is tested against. Slow, and meant to be read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from glyph_core.config import RasterConfig
from glyph_core.contours import VERB_CLOSE, VERB_CUBIC, VERB_LINE, VERB_MOVE, VERB_QUAD, Outline
from PIL import Image


@dataclass(frozen=True)
class ReferenceRaster:
    mask: np.ndarray  # uint8 (S, S), 0/255
    bbox: tuple[float, float, float, float]
    scale_factor: float
    major_dim_ratio: float
    is_diacritic: bool
    target_dim: int


def flatten(outline: Outline, subdivisions: int) -> list[np.ndarray]:
    """Each contour as an (M, 2) polyline: curves sampled at t = k / n (k = 1 .. n - 1) plus their end point."""
    contours: list[list[tuple[float, float]]] = []
    points = outline.points.tolist()
    cursor = 0
    for verb in outline.verbs.tolist():
        if verb == VERB_MOVE:
            contours.append([tuple(points[cursor])])
            cursor += 1
        elif verb == VERB_LINE:
            contours[-1].append(tuple(points[cursor]))
            cursor += 1
        elif verb in (VERB_QUAD, VERB_CUBIC):
            start = contours[-1][-1]
            controls = points[cursor : cursor + (2 if verb == VERB_QUAD else 3)]
            cursor += len(controls)
            for k in range(1, subdivisions):
                t = k / subdivisions
                mt = 1.0 - t
                if verb == VERB_QUAD:
                    weights = (mt * mt, 2.0 * mt * t, t * t)
                else:
                    weights = (mt * mt * mt, 3.0 * mt * mt * t, 3.0 * mt * t * t, t * t * t)
                pts = [start, *controls]
                x = weights[0] * pts[0][0]
                y = weights[0] * pts[0][1]
                for w, p in zip(weights[1:], pts[1:]):
                    x = x + w * p[0]
                    y = y + w * p[1]
                contours[-1].append((x, y))
            contours[-1].append(tuple(controls[-1]))
        else:
            assert verb == VERB_CLOSE
    return [np.array(c, dtype=np.float64) for c in contours]


def fill(polygons: list[np.ndarray], size: int, evenodd: bool) -> np.ndarray:
    """Pixel (row j, column i) is ink when the crossings of the row's centre line y = j + 0.5 at
    x <= i + 0.5 (a crossing at x counts from column ceil(x - 0.5)) have nonzero winding (odd)."""
    winding_steps = np.zeros((size, size + 1), dtype=np.int64)
    for poly in polygons:
        start, end = poly, np.roll(poly, -1, axis=0)
        for (x0, y0), (x1, y1) in zip(start.tolist(), end.tolist()):
            if y0 == y1:
                continue
            lo, hi = min(y0, y1), max(y0, y1)
            first = int(np.clip(np.ceil(lo - 0.5), 0, size))
            last = int(np.clip(np.ceil(hi - 0.5), 0, size))
            if first >= last:
                continue
            rows = np.arange(first, last)
            slope = (x1 - x0) / (y1 - y0)
            xs = x0 + (rows + 0.5 - y0) * slope
            cols = np.clip(np.ceil(xs - 0.5), 0, size).astype(np.int64)
            np.add.at(winding_steps, (rows, cols), 1 if y1 > y0 else -1)
    winding = np.cumsum(winding_steps, axis=1)[:, :size]
    inside = (winding & 1) == 1 if evenodd else winding != 0
    return np.where(inside, 255, 0).astype(np.uint8)


def pillow_downsample(image: np.ndarray, size: int) -> np.ndarray:
    """Pillow's BICUBIC resize of a 0/255 image, then values >= 128 -> 255."""
    resized = np.asarray(Image.fromarray(image, "L").resize((size, size), Image.BICUBIC))
    return np.where(resized >= 128, 255, 0).astype(np.uint8)


def render(outline: Outline, em_height: float, config: RasterConfig) -> ReferenceRaster:
    polygons = flatten(outline, config.curve_subdivisions)
    allpts = np.concatenate(polygons)
    min_x, min_y = allpts.min(axis=0).tolist()
    max_x, max_y = allpts.max(axis=0).tolist()
    width, height = max_x - min_x, max_y - min_y
    major = max(width, height)
    if not (em_height > 0 and np.isfinite(em_height)):
        em_height = height
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(major) / np.float64(em_height))
    diacritic = bool(ratio < config.diacritic_ratio)
    target = config.diacritic_target if diacritic else config.canvas_size
    scale = target / major if major > 0 else 1.0
    size = config.canvas_size
    meta = dict(bbox=(min_x, min_y, max_x, max_y), scale_factor=scale, major_dim_ratio=ratio,
                is_diacritic=diacritic, target_dim=target)  # fmt: skip
    if major == 0:
        return ReferenceRaster(mask=np.zeros((size, size), np.uint8), **meta)
    render_size = size * config.supersample
    render_scale = scale * config.supersample
    center = config.anchoring == "center"
    off_x = (render_size - width * render_scale) * 0.5 if center else 0.0
    off_y = (render_size - height * render_scale) * 0.5 if center else 0.0
    pixel_polygons = [
        np.stack([(p[:, 0] - min_x) * render_scale + off_x, (max_y - p[:, 1]) * render_scale + off_y], axis=1)
        for p in polygons
    ]
    canvas = fill(pixel_polygons, render_size, config.fill_rule == "evenodd")
    mask = canvas if config.supersample == 1 else pillow_downsample(canvas, size)
    return ReferenceRaster(mask=mask, **meta)
