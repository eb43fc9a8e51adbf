"""The stores rasterd writes, read through glyph-core's contract, and the centroids they pair with.

Every check refuses a mismatch with a message that names what differs and what to run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from glyph_core.labels import LabelMap
from glyph_core.paths import OutputLayout
from glyph_core.primitives import centroid_hash
from glyph_core.store import SPLIT_CODES, StoreError, open_store, unpack_masks


@dataclass(frozen=True)
class RasterSource:
    """A validated rasters store: the packed rasters stay on disk; the small per-glyph arrays are in memory."""

    path: Path
    group: zarr.Group
    count: int
    chunk_size: int
    canvas_size: int
    cell_size: int
    build_id: str
    label_map_hash: str
    split: np.ndarray  # (count,) uint8 split codes
    is_diacritic: np.ndarray  # (count,) bool

    @property
    def grid_side(self) -> int:
        return self.canvas_size // self.cell_size

    @property
    def chunk_count(self) -> int:
        return -(-self.count // self.chunk_size)

    def chunk_rows(self, chunk: int) -> range:
        start = chunk * self.chunk_size
        return range(start, min(start + self.chunk_size, self.count))

    def read_chunk(self, chunk: int) -> np.ndarray:
        """All rasters of one stored chunk as (n, S, S) uint8 0/1 masks (one whole-chunk read)."""
        rows = self.chunk_rows(chunk)
        return unpack_masks(self.group["raster"][rows.start : rows.stop], value=1)

    def rows_of(self, split: str) -> np.ndarray:
        """Row indices of a split ('train', 'val', 'test'), ascending."""
        return np.flatnonzero(self.split == SPLIT_CODES[split])

    def chunks_of(self, rows: np.ndarray) -> np.ndarray:
        """Chunks holding any of ``rows``, ascending."""
        return np.unique(np.asarray(rows) // self.chunk_size)

    def iter_rows(self, rows: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(row indices, masks) for ``rows``, chunk by chunk in store order."""
        rows = np.asarray(rows)
        for chunk in self.chunks_of(rows):
            span = self.chunk_rows(int(chunk))
            wanted = rows[(rows >= span.start) & (rows < span.stop)]
            yield wanted, self.read_chunk(int(chunk))[wanted - span.start]


def open_rasters(layout: OutputLayout, expect: Mapping[str, Any] | None = None) -> RasterSource:
    """Open the rasters store under ``layout`` and check it against the contract and its label map."""
    group = open_store(layout.rasters_store, "rasters", expect=expect)
    attrs = dict(group.attrs)
    labels_hash = LabelMap(tuple(attrs["labels"])).hash
    if labels_hash != attrs["label_map_hash"]:
        raise StoreError(
            f"rasters store {layout.rasters_store}: its labels hash to {labels_hash[:12]} but label_map_hash is "
            f"{attrs['label_map_hash'][:12]}; rebuild it with `rasterd build`"
        )
    if layout.label_map.is_file():
        meta_hash = LabelMap.from_json(layout.label_map.read_text(encoding="utf-8")).hash
        if meta_hash != labels_hash:
            raise StoreError(
                f"{layout.label_map} (label map {meta_hash[:12]}) differs from the rasters store's "
                f"({labels_hash[:12]}): they come from different builds; rerun `rasterd build`"
            )
    return RasterSource(
        path=layout.rasters_store,
        group=group,
        count=int(attrs["count"]),
        chunk_size=int(attrs["chunk_size"]),
        canvas_size=int(attrs["canvas_size"]),
        cell_size=int(attrs["cell_size"]),
        build_id=str(attrs["build_id"]),
        label_map_hash=str(attrs["label_map_hash"]),
        split=group["split"][:],
        is_diacritic=group["is_diacritic"][:],
    )


def load_centroids(layout: OutputLayout, cell_size: int) -> tuple[np.ndarray, str]:
    """The primitive centroids (K, cell²) float32 and their hash; refuses ones made for another cell size."""
    path = layout.centroids
    if not path.is_file():
        raise FileNotFoundError(f"no primitive centroids at {path}: run `glyph-train primitives` first")
    centroids = np.load(path)
    if centroids.ndim != 2 or centroids.shape[1] != cell_size * cell_size:
        raise StoreError(
            f"{path}: centroids of shape {centroids.shape} do not fit the rasters store's {cell_size}x{cell_size} "
            "cells; rerun `glyph-train primitives`"
        )
    return centroids.astype(np.float32, copy=False), centroid_hash(centroids)


def check_identity(what: str, found: Mapping[str, Any], expected: Mapping[str, Any], remedy: str) -> None:
    """Refuse when recorded identity values (hashes, build ids) differ from the current ones, naming each."""
    problems = [
        f"{key} is {str(found.get(key))[:12]}, expected {str(value)[:12]}"
        for key, value in expected.items()
        if found.get(key) != value
    ]
    if problems:
        raise StoreError(f"{what} does not match: " + "; ".join(problems) + f"; {remedy}")
