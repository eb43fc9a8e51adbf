"""One Dask task of `rasterd build`: rasterize one chunk of glyphs (or of their variants) and write exactly that chunk.

Runs in a worker process: it opens the database and the store itself (zarr v3's event loop must
not cross a fork) and touches no chunk but its own, so any number of workers write safely.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr
from glyph_core.config import OutlineAugmentConfig, RasterConfig
from glyph_core.db import FontMetrics, GlyphDatabase, GlyphRow
from glyph_core.store import RASTER_METADATA, pack_masks

from rasterd.raster import RasterBatch, pack_contours
from rasterd.render import em_heights, render_rows
from rasterd.variants import draw_transforms, render_variants


@dataclass(frozen=True)
class ChunkResult:
    index: int
    count: int
    empty_glyph_ids: list[int]
    seconds: float


def build_chunk(
    store_path: str,
    database: str,
    index: int,
    start: int,
    glyph_ids: np.ndarray,
    raster: RasterConfig,
    done_dir: str,
) -> ChunkResult:
    """Render glyphs ``glyph_ids`` (sorted) into rows [start, start + len) of the store."""
    began = time.perf_counter()
    rows, fonts = _read_rows(database, index, glyph_ids)
    batch = render_rows(rows, fonts, raster)
    return _write_chunk(store_path, index, start, glyph_ids, batch, done_dir, began)


def build_variant_chunk(
    store_path: str,
    database: str,
    index: int,
    start: int,
    glyph_ids: np.ndarray,
    variants: np.ndarray,
    raster: RasterConfig,
    augment: OutlineAugmentConfig,
    done_dir: str,
) -> ChunkResult:
    """Render variant ``variants[i]`` of glyph ``glyph_ids[i]`` (ids ascending, each repeated per
    variant) into rows [start, start + len) of a variants store (``rasterd.variants``)."""
    began = time.perf_counter()
    unique, inverse = np.unique(glyph_ids, return_inverse=True)
    rows, fonts = _read_rows(database, index, unique)
    outlines = pack_contours([rows[i].contours for i in inverse], raster.max_points)
    matrices, strokes = draw_transforms(glyph_ids, variants, augment, raster.supersample)
    batch = render_variants(outlines, em_heights(rows, fonts)[inverse], matrices, strokes, raster)
    return _write_chunk(store_path, index, start, glyph_ids, batch, done_dir, began)


def _read_rows(database: str, index: int, glyph_ids: np.ndarray) -> tuple[list[GlyphRow], dict[str, FontMetrics]]:
    """The rows of ``glyph_ids`` (ascending) and the fonts' metrics, refusing a database that changed."""
    wanted = set(int(g) for g in glyph_ids)
    with GlyphDatabase(database) as db:
        fonts = db.fonts()
        rows = [r for r in db.iter_rows(id_range=(int(glyph_ids[0]), int(glyph_ids[-1]))) if r.glyph_id in wanted]
    if [r.glyph_id for r in rows] != [int(g) for g in glyph_ids]:
        raise RuntimeError(f"chunk {index}: the database changed while building (rows differ from the plan)")
    return rows, fonts


def _write_chunk(
    store_path: str, index: int, start: int, glyph_ids: np.ndarray, batch: RasterBatch, done_dir: str, began: float
) -> ChunkResult:
    stop = start + len(batch)
    group = zarr.open_group(store_path, mode="r+")
    group["raster"][start:stop] = pack_masks(batch.masks)
    for name in RASTER_METADATA:
        group[name][start:stop] = getattr(batch, name)
    empty = [int(g) for g, m in zip(glyph_ids, batch.masks, strict=True) if not m.any()]
    # The marker is written last: a chunk without one is redone after a crash.
    Path(done_dir, f"{index}.done").write_text(str(len(batch)))
    return ChunkResult(index, len(batch), empty, time.perf_counter() - began)
