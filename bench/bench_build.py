"""Whole `rasterd build` of a glyphs.db against the bare raster core over the same glyphs.

Prints the build's glyphs/s and the share of its wall time spent outside the core (scan, label
and split selection, Dask, database reads, zarr writes, meta.jsonl). Usage:

    python bench/bench_build.py [configs/rasterizer.yaml]

The build goes to a temporary outputs folder; the configured database is only read.
"""

from __future__ import annotations

import sys
import tempfile
import time

import numpy as np
from glyph_core.config import RasterizerConfig, load_config
from glyph_core.db import GlyphDatabase

from rasterd.build import run_build
from rasterd.raster import rasterize_contours
from rasterd.render import em_heights


def main() -> None:
    config = load_config(sys.argv[1] if len(sys.argv) > 1 else "configs/rasterizer.yaml", RasterizerConfig)
    with tempfile.TemporaryDirectory() as root:
        cfg = config.model_copy(update={"outputs": config.outputs.model_copy(update={"root": root})})
        began = time.perf_counter()
        summary = run_build(cfg)
        build_seconds = time.perf_counter() - began
    with GlyphDatabase(config.database) as db:
        fonts = db.fonts()
        rows = list(db.iter_rows())
    texts = [r.contours for r in rows]
    heights = em_heights(rows, fonts)
    began = time.perf_counter()
    for start in range(0, len(texts), 1024):
        rasterize_contours(texts[start : start + 1024], heights[start : start + 1024], config.raster)
    core_seconds = time.perf_counter() - began
    workers = config.dask.workers
    print(f"database          {config.database}: {summary.rows_read} rows, {summary.glyphs} glyphs built")
    print(f"rasterd build     {build_seconds:6.2f} s  {summary.glyphs / build_seconds:9,.0f} glyphs/s ({workers} workers)")
    print(f"bare core, 1 core {core_seconds:6.2f} s  {len(texts) / core_seconds:9,.0f} glyphs/s")
    ideal = core_seconds / workers
    print(f"share of build wall time outside the core: {1 - ideal / build_seconds:.0%} "
          f"(core alone would need {ideal:.2f} s on {workers} cores)")
    print(f"ratio build / bare core (same glyphs): {np.float64(build_seconds) / core_seconds:.2f}x")


if __name__ == "__main__":
    main()
