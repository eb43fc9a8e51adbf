"""Glyph outlines -> binary masks -> primitive ids (docs/raster-policy.md, docs/tokenization.md): the Python face of the Cython core.

Each batch call packs many glyphs into flat arrays and renders them in one call that runs without
the GIL. Rendering, per glyph:

1. flatten quadratic and cubic segments into ``curve_subdivisions`` straight pieces (uniform t);
2. bounding box of the flattened outline, ``major_dim = max(w, h)``, ``ratio = major_dim / em_height``
   (em_height unknown, i.e. not a finite positive number: the bbox height, so a glyph of zero
   height gets ratio inf, or NaN when it is a single point), diacritic when ``ratio < diacritic_ratio``;
3. ``scale = target / major_dim`` (1.0 and an empty mask when major_dim is 0); pixel x is
   ``(x - min_x) * scale``, pixel y is ``(max_y - y) * scale`` (rows go down), so the bbox's top-left
   corner lands on (0, 0); ``center`` anchoring centres the scaled bbox instead;
4. fill at ``canvas_size * supersample``: a pixel is ink when the winding number at its centre is
   nonzero (odd for ``evenodd``), so overlaps merge and holes stay open;
5. downsample exactly like Pillow's ``Image.resize(..., Image.BICUBIC)`` and keep values >= 128 (255).

Primitive ids follow ``glyph_core.primitives.assign_primitives`` exactly; :class:`CompiledPrimitiveAssigner`
remembers the id of every cell pattern it has seen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from glyph_core.config import RasterConfig
from glyph_core.contours import Outline, parse_contours
from glyph_core.cells import PrimitiveAssigner
from glyph_core.store import pack_masks

from rasterd._core import cell_memo, contour_json, raster_kernel, resample

OnError = Literal["raise", "reject"]

_PROBLEMS = {
    "bad_verb": "verbs must be 0..4 (MOVE, LINE, QUAD, CUBIC, CLOSE)",
    "bad_structure": "every contour must be MOVE, then segments, then CLOSE",
    "point_count": "the number of points does not match what the verbs consume",
    "not_finite": "coordinates must be finite (found NaN or infinity)",
    "extent_overflow": "bounding box extent overflows float64 (coordinates too large)",
    "extent_too_small": "bounding box is too small to scale to the canvas",
    "no_contours": "outline has no contours",
}


class RasterError(ValueError):
    """A glyph that cannot be rasterized; ``glyph_index`` is its position in the batch."""

    def __init__(self, glyph_index: int, problem: str) -> None:
        super().__init__(f"glyph {glyph_index}: {problem}")
        self.glyph_index = glyph_index
        self.problem = problem


@dataclass(frozen=True, eq=False)
class RasterBatch:
    """Masks and docs/raster-policy.md metadata for N glyphs, in input order.

    ``rejected`` lists ``(glyph_index, problem)`` for glyphs skipped with ``on_error="reject"``;
    their mask is empty, bbox/scale/ratio are NaN and target_dim is 0.
    """

    masks: np.ndarray  # uint8 (N, S, S), 0 or 255
    is_diacritic: np.ndarray  # bool (N,)
    bbox: np.ndarray  # float64 (N, 4): min_x, min_y, max_x, max_y of the flattened outline, font units
    scale_factor: np.ndarray  # float64 (N,): output pixels per font unit
    major_dim_ratio: np.ndarray  # float64 (N,): major_dim / em_height
    target_dim: np.ndarray  # int16 (N,): diacritic_target or canvas_size
    rejected: tuple[tuple[int, str], ...] = ()

    def __len__(self) -> int:
        return len(self.masks)

    def packed(self) -> np.ndarray:
        """The masks bit-packed along rows, the store's form: ``glyph_core.store.pack_masks``
        (inverse: ``glyph_core.store.unpack_masks``)."""
        return pack_masks(self.masks)


def curve_coefficients(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """Bernstein weights of the inner sample points t = k / n, k = 1 .. n - 1 (the end point is
    taken as is): quadratic (n - 1, 3) and cubic (n - 1, 4)."""
    quad, cubic = [], []
    for k in range(1, subdivisions):
        t = k / subdivisions
        mt = 1.0 - t
        quad.append((mt * mt, 2.0 * mt * t, t * t))
        cubic.append((mt * mt * mt, 3.0 * mt * mt * t, 3.0 * mt * t * t, t * t * t))
    return np.array(quad, dtype=np.float64).reshape(-1, 3), np.array(cubic, dtype=np.float64).reshape(-1, 4)


def rasterize_outlines(
    outlines: Sequence[Outline], em_heights: np.ndarray, config: RasterConfig, on_error: OnError = "raise"
) -> RasterBatch:
    """Render parsed outlines (font units, y up) into masks plus metadata.

    Raises :class:`RasterError` naming the first bad glyph, unless ``on_error="reject"``, which
    returns the other glyphs and lists the bad ones in ``RasterBatch.rejected``.
    """
    problems: dict[int, str] = {}
    points_parts, verb_parts = [], []
    for index, outline in enumerate(outlines):
        points, verbs, problem = _outline_arrays(outline)
        if problem:
            problems[index] = problem
        points_parts.append(points)
        verb_parts.append(verbs)
    point_offsets = _offsets([len(p) for p in points_parts])
    verb_offsets = _offsets([len(v) for v in verb_parts])
    points = np.concatenate(points_parts) if points_parts else _NO_POINTS
    verbs = np.concatenate(verb_parts) if verb_parts else _NO_VERBS
    return _render(points, verbs, point_offsets, verb_offsets, em_heights, config, problems, on_error)


@dataclass(frozen=True, eq=False)
class PackedOutlines:
    """N outlines as the core takes them: concatenated (P, 2) float64 points (font units, y up) and
    uint8 verbs with (N + 1) offsets each, and the glyphs that could not be read (index -> problem)."""

    points: np.ndarray
    verbs: np.ndarray
    point_offsets: np.ndarray
    verb_offsets: np.ndarray
    problems: dict[int, str]

    def __len__(self) -> int:
        return len(self.point_offsets) - 1


def pack_contours(texts: Sequence[str | bytes], max_points: int) -> PackedOutlines:
    """Contour JSON strings -> :class:`PackedOutlines`: the common form is read in C, anything else
    goes through ``glyph_core.contours.parse_contours`` (whose errors are reported)."""
    points, verbs, point_offsets, verb_offsets, fallback = contour_json.parse_batch(texts, max_points)
    problems: dict[int, str] = {}
    replaced: dict[int, Outline] = {}
    for index in np.flatnonzero(fallback).tolist():
        try:
            replaced[index] = parse_contours(texts[index], max_points)
        except (ValueError, OverflowError, RecursionError) as exc:
            problems[index] = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
    if replaced:
        point_parts = np.split(points, point_offsets[1:-1])
        verb_parts = np.split(verbs, verb_offsets[1:-1])
        for index, outline in replaced.items():
            point_parts[index], verb_parts[index] = outline.points, outline.verbs
        point_offsets = _offsets([len(p) for p in point_parts])
        verb_offsets = _offsets([len(v) for v in verb_parts])
        points, verbs = np.concatenate(point_parts), np.concatenate(verb_parts)
    return PackedOutlines(points, verbs, point_offsets, verb_offsets, problems)


def rasterize_contours(
    texts: Sequence[str | bytes], em_heights: np.ndarray, config: RasterConfig, on_error: OnError = "raise"
) -> RasterBatch:
    """Like :func:`rasterize_outlines`, from contour JSON strings (read by :func:`pack_contours`)."""
    return rasterize_packed(pack_contours(texts, config.max_points), em_heights, config, on_error)


def rasterize_packed(
    outlines: PackedOutlines, em_heights: np.ndarray, config: RasterConfig, on_error: OnError = "raise"
) -> RasterBatch:
    """Render :class:`PackedOutlines` (see :func:`rasterize_outlines` for ``on_error``)."""
    o = outlines
    return _render(o.points, o.verbs, o.point_offsets, o.verb_offsets, em_heights, config, dict(o.problems), on_error)


def downsample_masks(images: np.ndarray, size: int | tuple[int, int], threshold: bool = True) -> np.ndarray:
    """Binary images (N, H, W) (nonzero = 255) resized like Pillow's BICUBIC ``resize`` to ``size``
    (``(height, width)`` or a square side); with ``threshold``, values >= 128 become 255, others 0."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    out_h, out_w = (size, size) if np.ndim(size) == 0 else size
    return resample.downsample_binary(images.view(np.uint8) if images.dtype == bool else images, out_h, out_w, threshold)


class CompiledPrimitiveAssigner(PrimitiveAssigner):
    """glyph-core's :class:`~glyph_core.cells.PrimitiveAssigner` with ``assign`` done by the Cython core.

    Same ids (``glyph_core.primitives.assign_primitives``), same interface; every distinct cell
    pattern is classified once in C and remembered for the assigner's lifetime.
    """

    def __init__(self, centroids: np.ndarray, cell_size: int) -> None:
        super().__init__(centroids, cell_size)
        self._memo = cell_memo.CellMemo(np.ascontiguousarray(centroids, dtype=np.float64), cell_size)
        self._lock = threading.Lock()

    @property
    def known_patterns(self) -> int:
        """Distinct non-empty cell patterns classified so far."""
        return self._memo.size

    def assign(self, masks: np.ndarray) -> np.ndarray:
        """(N, S, S) or (S, S) masks (nonzero = ink) -> (N, S/c, S/c) uint16 ids (0 = empty cell)."""
        masks = np.asarray(masks)
        if masks.ndim == 2:
            masks = masks[None]
        if masks.ndim != 3:
            raise ValueError(f"expected masks of shape (N, S, S), got {masks.shape}")
        if masks.shape[1] % self.cell_size or masks.shape[2] % self.cell_size:
            raise ValueError(f"raster {masks.shape[1]}x{masks.shape[2]} is not a multiple of cell_size {self.cell_size}")
        if masks.dtype == bool:
            masks = masks.view(np.uint8)
        elif masks.dtype != np.uint8:
            masks = (masks != 0).view(np.uint8)
        with self._lock:
            return self._memo.assign(np.ascontiguousarray(masks))


def _outline_arrays(outline: Outline) -> tuple[np.ndarray, np.ndarray, str | None]:
    """An outline's points as float64 (P, 2) and verbs as uint8, or a problem description."""
    points, verbs = getattr(outline, "points", None), getattr(outline, "verbs", None)
    if not (isinstance(points, np.ndarray) and points.dtype == np.float64 and points.ndim == 2 and points.shape[1] == 2):
        try:
            points = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            return _NO_POINTS, _NO_VERBS, "points are not numbers"
        if points.ndim != 2 or points.shape[1] != 2:
            return _NO_POINTS, _NO_VERBS, f"points must have shape (P, 2), got {points.shape}"
    if not (isinstance(verbs, np.ndarray) and verbs.dtype == np.uint8 and verbs.ndim == 1):
        verbs = np.asarray(verbs)
        if verbs.ndim != 1 or not (verbs.dtype.kind in "iu" or verbs.size == 0):
            return _NO_POINTS, _NO_VERBS, "verbs must be a 1-D integer array"
        if verbs.size and (verbs.min() < 0 or verbs.max() > 4):
            return _NO_POINTS, _NO_VERBS, _PROBLEMS["bad_verb"]
        verbs = verbs.astype(np.uint8)
    return points, verbs, None


_NO_POINTS = np.empty((0, 2), np.float64)
_NO_VERBS = np.empty(0, np.uint8)


def _offsets(lengths: list[int]) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def _render(
    points: np.ndarray,
    verbs: np.ndarray,
    point_offsets: np.ndarray,
    verb_offsets: np.ndarray,
    em_heights: np.ndarray,
    config: RasterConfig,
    problems: dict[int, str],
    on_error: OnError,
) -> RasterBatch:
    if on_error not in ("raise", "reject"):
        raise ValueError(f"on_error must be 'raise' or 'reject', got {on_error!r}")
    n = len(point_offsets) - 1
    em = np.ascontiguousarray(em_heights, dtype=np.float64).reshape(-1)
    if len(em) != n:
        raise ValueError(f"em_heights has {len(em)} values for {n} glyphs")
    size = config.canvas_size
    quad, cubic = curve_coefficients(config.curve_subdivisions)
    masks = np.zeros((n, size, size), dtype=np.uint8)
    meta = np.full((n, 6), np.nan, dtype=np.float64)
    diacritic = np.zeros(n, dtype=bool)
    target = np.zeros(n, dtype=np.int16)
    status = np.zeros(n, dtype=np.int32)
    raster_kernel.rasterize_packed(
        points, verbs, point_offsets, verb_offsets, em, quad, cubic,
        size, config.supersample, config.diacritic_ratio, config.diacritic_target,
        config.fill_rule == "evenodd", config.anchoring == "center", config.max_points,
        masks, meta, diacritic.view(np.uint8), target, status,
    )  # fmt: skip
    for index in np.flatnonzero(status).tolist():
        if index in problems:
            continue
        name = raster_kernel.STATUS_NAMES[int(status[index])]
        if name == "no_memory":
            raise MemoryError(f"glyph {index}: out of memory while rasterizing")
        if name == "too_many_points":
            count = int(point_offsets[index + 1] - point_offsets[index])
            problems[index] = f"outline has {count} points, more than max_points={config.max_points}"
        else:
            problems[index] = _PROBLEMS[name]
    if problems:
        if on_error == "raise":
            first = min(problems)
            raise RasterError(first, problems[first])
        bad = np.fromiter(problems, dtype=np.int64)
        masks[bad] = 0
        meta[bad] = np.nan
        diacritic[bad] = False
        target[bad] = 0
    return RasterBatch(
        masks=masks,
        is_diacritic=diacritic,
        bbox=meta[:, :4].copy(),
        scale_factor=meta[:, 4].copy(),
        major_dim_ratio=meta[:, 5].copy(),
        target_dim=target,
        rejected=tuple(sorted(problems.items())),
    )
