"""`rasterd tokenize`: rasters store + primitive centroids -> grids store (docs/raster-policy.md, docs/tokenization.md).

A grids store belongs to exactly one centroid set and one rasters build (both hashes in its attrs):
new centroids rebuild the whole store rather than mixing ids from two vocabularies, and readers
refuse a grids store whose centroid hash differs from the centroids they were given.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass

from glyph_core.config import RasterizerConfig, config_hash
from glyph_core.paths import OutputLayout
from glyph_core.primitives import load_centroids
from glyph_core.runs import record_run
from glyph_core.store import StoreError, create_store, finalize, open_store, read_masks, temporary_path
from tqdm import tqdm

from rasterd.raster import CompiledPrimitiveAssigner


@dataclass
class TokenizeSummary:
    glyphs: int
    centroid_hash: str
    store: str
    seconds: float
    up_to_date: bool = False

    def __str__(self) -> str:
        if self.up_to_date:
            return f"grids store {self.store} is up to date for centroids {self.centroid_hash[:12]}; nothing to do"
        rate = self.glyphs / self.seconds if self.seconds else 0.0
        return (
            f"tokenized {self.glyphs} glyphs in {self.seconds:.1f} s ({rate:,.0f} glyphs/s) with centroids "
            f"{self.centroid_hash[:12]} -> {self.store}"
        )


def run_tokenize(config: RasterizerConfig, config_path: str | None = None) -> TokenizeSummary:
    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    rasters = open_store(layout.rasters_store, "rasters")
    cell = int(rasters.attrs["cell_size"])
    centroids, chash = load_centroids(layout.centroids, cell)
    build = rasters.attrs["build_id"]
    count = int(rasters.attrs["count"])
    final = layout.grids_store
    try:
        open_store(final, "grids", expect={"centroid_hash": chash, "rasters_build_id": build})
        return TokenizeSummary(count, chash, str(final), time.perf_counter() - began, up_to_date=True)
    except StoreError:
        pass
    temp = temporary_path(final)
    shutil.rmtree(temp, ignore_errors=True)
    chunk = int(rasters.attrs["chunk_size"])
    side = int(rasters.attrs["canvas_size"]) // cell
    grids = create_store(temp, "grids", count, chunk, {
        "centroid_hash": chash,
        "rasters_build_id": build,
        "label_map_hash": rasters.attrs["label_map_hash"],
        "grid_side": side,
        "cell_size": cell,
        "primitive_count": int(centroids.shape[0]) + 1,
    })  # fmt: skip
    assigner = CompiledPrimitiveAssigner(centroids, cell)
    grids["glyph_id"][:] = rasters["glyph_id"][:]
    with tqdm(total=count, desc="tokenize", unit=" glyphs") as bar:
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            grids["grid"][start:stop] = assigner.assign(read_masks(rasters, start, stop))
            bar.update(stop - start)
    finalize(temp, final)
    seconds = time.perf_counter() - began
    record_run(
        layout, "rasterd tokenize", {"rasterizer": config_hash(config)},
        inputs={"rasters_build_id": build, "centroids": str(layout.centroids)},
        outputs={"store": str(final), "glyphs": count}, centroid_hash=chash, config_path=config_path,
    )  # fmt: skip
    return TokenizeSummary(count, chash, str(final), seconds)
