"""One Dask task of `rasterd build`: rasterize one chunk of glyphs and write exactly that chunk.

Runs in a worker process: it opens the database and the store itself (zarr v3's event loop must
not cross a fork) and touches no chunk but its own, so any number of workers write safely.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zarr
from glyph_core.config import RasterConfig
from glyph_core.db import GlyphDatabase
from glyph_core.store import RASTER_METADATA, pack_masks

from rasterd.render import render_rows


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
    wanted = set(int(g) for g in glyph_ids)
    with GlyphDatabase(database) as db:
        fonts = db.fonts()
        rows = [r for r in db.iter_rows(id_range=(int(glyph_ids[0]), int(glyph_ids[-1]))) if r.glyph_id in wanted]
    if [r.glyph_id for r in rows] != [int(g) for g in glyph_ids]:
        raise RuntimeError(f"chunk {index}: the database changed while building (rows differ from the plan)")
    batch = render_rows(rows, fonts, raster)
    stop = start + len(rows)
    group = zarr.open_group(store_path, mode="r+")
    group["raster"][start:stop] = pack_masks(batch.masks)
    for name in RASTER_METADATA:
        group[name][start:stop] = getattr(batch, name)
    empty = [int(g) for g, m in zip(glyph_ids, batch.masks, strict=True) if not m.any()]
    # The marker is written last: a chunk without one is redone after a crash.
    Path(done_dir, f"{index}.done").write_text(str(len(rows)))
    return ChunkResult(index, len(rows), empty, time.perf_counter() - began)
