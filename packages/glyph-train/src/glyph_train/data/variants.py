"""The outline-augmented variants `rasterd build` writes (docs/training.md "Augmented variants"), held in memory.

Training draws, for a share of each batch, one of a glyph's variants instead of the glyph: its
raster (the raster models), its true primitive grid from `rasterd tokenize` (Phase 2) and its size
cues, all made by the build's own raster policy. Nothing is warped or re-tokenized per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from glyph_core.paths import OutputLayout
from glyph_core.rasters import RasterStore
from glyph_core.store import StoreError, open_store, unpack_masks

from glyph_train.data.glyphs import GlyphTable, PackedRasters, raster_inputs, size_cues

_REBUILD = "run `rasterd build` and `rasterd tokenize` (or set the training config's augment.share to 0)"


@dataclass(frozen=True)
class Variants:
    """Variants of the train rows: which store row each belongs to, and its inputs."""

    per_glyph: int
    build_id: str
    first: np.ndarray  # (store rows,) int64: a row's variant 0 in the arrays below, -1 when it has none
    side: np.ndarray  # (V, len(SIDE_FEATURES)) float32 size cues
    packed: np.ndarray | None  # (V, S, S / 8) bit-packed rasters, when asked for
    grids: np.ndarray | None  # (V, G, G) int32 true grids, when asked for

    def draw(self, rows: np.ndarray, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Positions in ``rows`` that take a variant this time (each with probability ``share``, if it
        has variants) and the variant picked for each, uniformly among the glyph's."""
        rows = np.asarray(rows)
        chosen = np.flatnonzero((self.first[rows] >= 0) & (rng.random(len(rows)) < share))
        return chosen, self.first[rows[chosen]] + rng.integers(0, self.per_glyph, len(chosen))

    def masks(self, picks: np.ndarray) -> np.ndarray:
        """(n, S, S) uint8 0/1 rasters of variants ``picks``."""
        if self.packed is None:
            raise ValueError("these variants were loaded without their rasters")
        return unpack_masks(self.packed[picks], value=1)


def load_variants(
    layout: OutputLayout, source: RasterStore, *, rasters: bool = False, grids_centroid_hash: str | None = None
) -> Variants:
    """The variants of ``source``'s train rows, with their rasters and/or their grids tokenized with
    the centroids of ``grids_centroid_hash``; refused, naming what to run, when missing or stale."""
    path = layout.variants_store
    if not (path / "zarr.json").is_file():
        raise FileNotFoundError(f"no variants store at {path}: {_REBUILD}; its size is augment.variants in configs/rasterizer.yaml")
    try:
        group = open_store(path, "variants", expect={"rasters_build_id": source.build_id})
    except StoreError as exc:
        raise StoreError(f"{exc}; {_REBUILD}") from None
    source_row = group["source_row"][:]
    per_glyph = int(group.attrs["variants"])
    first = np.full(source.count, -1, dtype=np.int64)
    first[source_row[::per_glyph]] = np.arange(0, len(source_row), per_glyph)
    is_diacritic = group["is_diacritic"][:].astype(bool)
    grids = None
    if grids_centroid_hash is not None:
        grids_path = layout.variant_grids_store
        if not (grids_path / "zarr.json").is_file():
            raise FileNotFoundError(f"no variant grids store at {grids_path}: run `rasterd tokenize`")
        expect = {"rasters_build_id": str(group.attrs["build_id"]), "centroid_hash": grids_centroid_hash}
        try:
            tokens = open_store(grids_path, "grids", expect=expect)
        except StoreError as exc:
            raise StoreError(f"{exc}; run `rasterd tokenize`") from None
        grids = tokens["grid"][:].astype(np.int32)
    return Variants(
        per_glyph=per_glyph,
        build_id=str(group.attrs["build_id"]),
        first=first,
        side=size_cues(group["bbox"][:], group["major_dim_ratio"][:], is_diacritic),
        packed=group["raster"][:] if rasters else None,
        grids=grids,
    )


def augmented_raster_inputs(
    rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, variants: Variants | None, share: float, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """:func:`~glyph_train.data.glyphs.raster_inputs` of ``rows`` with a ``share`` of them swapped for
    one of their variants (raster and size cues), for the raster models' training batches."""
    masks, side = rasters.masks(rows), table.side[rows].copy()
    if variants is not None and share > 0:
        chosen, picks = variants.draw(rows, share, rng)
        masks[chosen], side[chosen] = variants.masks(picks), variants.side[picks]
    return raster_inputs(rasters, table, rows, masks, side)
