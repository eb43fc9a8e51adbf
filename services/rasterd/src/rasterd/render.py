"""Glyph rows -> rasters: the one path both `rasterd build` and the HTTP service use, so a glyph
rendered on the fly is byte-identical to the same glyph read from the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from glyph_core.catalog import contour_problems as reference_contour_problems
from glyph_core.config import RasterConfig
from glyph_core.db import FontMetrics, GlyphRow

from rasterd._core import contour_json
from rasterd.raster import RasterBatch, rasterize_contours


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
    """Rasterize rows from their contour JSON (RasterError for a row the catalog scan would reject)."""
    return rasterize_contours([row.contours for row in rows], em_heights(rows, fonts), config)


def contour_problems(texts: Sequence[str], max_points: int) -> list[str | None]:
    """The catalog's contour validator, in C for the common form: whatever the C reader does not
    take (every string the reference rejects among them) is judged by the reference parser."""
    *_, fallback = contour_json.parse_batch(texts, max_points)
    problems: list[str | None] = [None] * len(texts)
    for index in np.flatnonzero(fallback).tolist():
        problems[index] = reference_contour_problems([texts[index]], max_points)[0]
    return problems


# The policy the design-shape rule draws its letters with: the default one, whatever the build draws,
# so a build of another anchoring, fill rule or canvas (an ablation) holds out the same designs
# (docs/data.md); the shape threshold was chosen on rasters of this policy.
GROUPING_POLICY = RasterConfig()


def grouped_by_own_policy(raster: RasterConfig) -> bool:
    """Whether a build of ``raster`` once judged shapes under a policy other than ``GROUPING_POLICY``
    (the cell size never entered the rasters)."""
    return raster.model_copy(update={"cell_size": GROUPING_POLICY.cell_size}) != GROUPING_POLICY


def shape_masks(contours: Mapping[str, Mapping[str, str]], config: RasterConfig) -> dict[str, dict[str, np.ndarray]]:
    """font -> label -> boolean raster of the design-shape rule's letters (``glyph_core.shapes``).

    Rendered with ``config`` (the build passes ``GROUPING_POLICY``) but without the font's EM height, so every letter is
    tight-fitted to the full canvas and two fonts compare by shape alone; unrenderable ones are left out.
    """
    keys = [(font, label) for font in sorted(contours) for label in sorted(contours[font])]
    if not keys:
        return {}
    batch = rasterize_contours(
        [contours[font][label] for font, label in keys], np.full(len(keys), np.nan), config, on_error="reject"
    )
    bad = {index for index, _ in batch.rejected}
    masks: dict[str, dict[str, np.ndarray]] = {}
    for index, (font, label) in enumerate(keys):
        if index not in bad:
            masks.setdefault(font, {})[label] = batch.masks[index] > 0
    return masks
