"""Glyph rows -> rasters: the one path both `rasterd build` and the HTTP service use, so a glyph
rendered on the fly is byte-identical to the same glyph read from the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from glyph_core.config import RasterConfig
from glyph_core.contours import parse_contours
from glyph_core.db import FontMetrics, GlyphRow

from rasterd.raster import RasterBatch, rasterize_outlines


def em_heights(rows: Sequence[GlyphRow], fonts: Mapping[str, FontMetrics]) -> np.ndarray:
    """Per-row EM height (NaN when the font has no usable metrics: the core then uses the bbox)."""
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        font = fonts.get(row.f_id or "")
        height = font.em_height if font is not None else None
        if height is not None:
            out[i] = height
    return out


def render_rows(rows: Sequence[GlyphRow], fonts: Mapping[str, FontMetrics], config: RasterConfig) -> RasterBatch:
    """Parse and rasterize rows (raises ContourError for a row the catalog scan would have rejected)."""
    outlines = [parse_contours(row.contours, max_points=config.max_points) for row in rows]
    return rasterize_outlines(outlines, em_heights(rows, fonts), config)
