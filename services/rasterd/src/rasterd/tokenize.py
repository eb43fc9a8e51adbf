"""`rasterd tokenize`: rasters store (and its variants) + primitive centroids -> grids stores (docs/raster-policy.md, docs/tokenization.md).

A grids store belongs to exactly one centroid set and one rasters build (both hashes in its attrs):
new centroids rebuild the whole store rather than mixing ids from two vocabularies, and readers
refuse a grids store whose centroid hash differs from the centroids they were given.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import zarr

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
    variants: TokenizeSummary | None = None  # the variants store's grids, when it has one

    def __str__(self) -> str:
        if self.up_to_date:
            line = f"grids store {self.store} is up to date for centroids {self.centroid_hash[:12]}; nothing to do"
        else:
            rate = self.glyphs / self.seconds if self.seconds else 0.0
            line = (
                f"tokenized {self.glyphs} glyphs in {self.seconds:.1f} s ({rate:,.0f} glyphs/s) with centroids "
                f"{self.centroid_hash[:12]} -> {self.store}"
            )
        return line + (f"\nvariants: {self.variants}" if self.variants else "")


def run_tokenize(config: RasterizerConfig, config_path: str | None = None) -> TokenizeSummary:
    """Tokenize the rasters store, and the variants store beside it when `rasterd build` wrote one."""
    layout = OutputLayout.at(config.outputs.root)
    rasters = open_store(layout.rasters_store, "rasters")
    cell = int(rasters.attrs["cell_size"])
    centroids, chash = load_centroids(layout.centroids, cell)
    assigner = CompiledPrimitiveAssigner(centroids, cell)
    summary = _tokenize(rasters, layout.grids_store, assigner, chash, "tokenize")
    if not summary.up_to_date:
        _record(layout, config, summary, rasters, config_path)
    if (layout.variants_store / "zarr.json").is_file():
        variants = open_store(layout.variants_store, "variants")
        summary.variants = _tokenize(variants, layout.variant_grids_store, assigner, chash, "tokenize variants")
        if not summary.variants.up_to_date:
            _record(layout, config, summary.variants, variants, config_path)
    else:
        shutil.rmtree(layout.variant_grids_store, ignore_errors=True)  # its variants store is gone
    return summary


def _tokenize(source: zarr.Group, final: Path, assigner: CompiledPrimitiveAssigner, chash: str, desc: str) -> TokenizeSummary:
    """Grids of every raster of ``source`` (a rasters or variants store) at ``final``, unless current."""
    began = time.perf_counter()
    build = source.attrs["build_id"]
    count = int(source.attrs["count"])
    try:
        open_store(final, "grids", expect={"centroid_hash": chash, "rasters_build_id": build})
        return TokenizeSummary(count, chash, str(final), time.perf_counter() - began, up_to_date=True)
    except StoreError:
        pass
    temp = temporary_path(final)
    shutil.rmtree(temp, ignore_errors=True)
    chunk = int(source.attrs["chunk_size"])
    cell = assigner.cell_size
    grids = create_store(temp, "grids", count, chunk, {
        "centroid_hash": chash,
        "rasters_build_id": build,
        "label_map_hash": source.attrs["label_map_hash"],
        "grid_side": int(source.attrs["canvas_size"]) // cell,
        "cell_size": cell,
        "primitive_count": int(assigner.centroids.shape[0]) + 1,
    })  # fmt: skip
    grids["glyph_id"][:] = source["glyph_id"][:]
    with tqdm(total=count, desc=desc, unit=" glyphs") as bar:
        for start in range(0, count, chunk):
            stop = min(start + chunk, count)
            grids["grid"][start:stop] = assigner.assign(read_masks(source, start, stop))
            bar.update(stop - start)
    finalize(temp, final)
    return TokenizeSummary(count, chash, str(final), time.perf_counter() - began)


def _record(
    layout: OutputLayout, config: RasterizerConfig, summary: TokenizeSummary, source: zarr.Group, config_path: str | None
) -> None:
    record_run(
        layout, "rasterd tokenize", {"rasterizer": config_hash(config)},
        inputs={"rasters_build_id": source.attrs["build_id"], "centroids": str(layout.centroids)},
        outputs={"store": summary.store, "glyphs": summary.glyphs}, centroid_hash=summary.centroid_hash,
        config_path=config_path,
    )  # fmt: skip
