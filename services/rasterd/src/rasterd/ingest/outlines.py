"""Glyph outlines as contour JSON: single glyphs as the font draws them, shaped runs composed into one.

Components are decomposed; a run of several glyphs is drawn glyph by glyph at its shaped positions
into one outline, so a letter whose dots (or a lam-alef whose halves) are separate glyphs becomes
one drawing. Overlaps are kept as they are: the rasterizer fills with the nonzero rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import DecomposingRecordingPen, replayRecording
from fontTools.pens.transformPen import TransformPen

from glyph_core.contours import ContourJsonPen
from rasterd.ingest.shaping import PlacedGlyph

Recording = list[tuple[str, tuple[Any, ...]]]
Bounds = tuple[float, float, float, float]

_SEGMENTS = frozenset({"lineTo", "qCurveTo", "curveTo"})


@dataclass(frozen=True)
class GlyphOutline:
    """Contour JSON of a drawing and its horizontal extent (font units, rounded outwards)."""

    contours: str
    x_min: int
    x_max: int


class OutlineRecorder:
    """Draws glyphs of one font face; each glyph is decomposed and measured once, then replayed."""

    def __init__(self, glyph_set: Mapping[str, Any], glyph_order: Sequence[str]) -> None:
        self._glyph_set = glyph_set
        self._glyph_order = glyph_order
        self._glyphs: dict[int, tuple[Recording, Bounds | None]] = {}
        self._outlines: dict[tuple[PlacedGlyph, ...], GlyphOutline | None] = {}

    def _glyph(self, glyph_id: int) -> tuple[Recording, Bounds | None]:
        """The decomposed drawing of a glyph and its exact bounds; None bounds when it draws nothing."""
        found = self._glyphs.get(glyph_id)
        if found is None:
            pen = DecomposingRecordingPen(self._glyph_set)
            self._glyph_set[self._glyph_order[glyph_id]].draw(pen)
            recording = pen.value
            bounds = None
            if any(operator in _SEGMENTS for operator, _ in recording):
                bounds_pen = BoundsPen(None, ignoreSinglePoints=True)
                replayRecording(recording, bounds_pen)
                bounds = bounds_pen.bounds
            found = self._glyphs[glyph_id] = (recording, bounds)
        return found

    def glyph(self, glyph_id: int) -> GlyphOutline | None:
        """One glyph as drawn at the origin; None when it draws no contour (spaces, empty glyphs)."""
        return self.run((PlacedGlyph(glyph_id, 0, 0),))

    def run(self, glyphs: Sequence[PlacedGlyph]) -> GlyphOutline | None:
        """Glyphs drawn at their positions as one outline; None when none of them draws a contour."""
        key = tuple(glyphs)
        if key in self._outlines:
            return self._outlines[key]
        pen = ContourJsonPen()
        x_min = x_max = None
        for placed in key:
            recording, bounds = self._glyph(placed.glyph_id)
            if bounds is None:
                continue
            if placed.x or placed.y:
                replayRecording(recording, TransformPen(pen, (1, 0, 0, 1, placed.x, placed.y)))
            else:
                replayRecording(recording, pen)
            left, right = bounds[0] + placed.x, bounds[2] + placed.x
            x_min = left if x_min is None else min(x_min, left)
            x_max = right if x_max is None else max(x_max, right)
        outline = None
        if x_min is not None and x_max is not None:
            outline = GlyphOutline(pen.to_json(), math.floor(x_min), math.ceil(x_max))
        self._outlines[key] = outline
        return outline
