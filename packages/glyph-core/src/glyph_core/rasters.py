"""The one reader of a rasters store (docs/outputs.md), for rasterd's service and glyph-train alike.

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
from glyph_core.store import SPLIT_CODES, StoreError, open_store, raster_arrays, unpack_masks


@dataclass(frozen=True)
class RasterStore:
    """A validated rasters store: the packed rasters stay on disk, read by whole chunk (zarr crawls on
    random single rows); every other per-glyph array of the contract is held in memory (``arrays``)."""

    path: Path
    group: zarr.Group
    count: int
    chunk_size: int
    canvas_size: int
    cell_size: int
    build_id: str
    label_map_hash: str
    attrs: dict[str, Any]
    arrays: dict[str, np.ndarray]  # every per-glyph array but the masks, by name

    @property
    def split(self) -> np.ndarray:
        """(count,) uint8 split codes."""
        return self.arrays["split"]

    @property
    def is_diacritic(self) -> np.ndarray:
        return self.arrays["is_diacritic"]

    @property
    def grid_side(self) -> int:
        return self.canvas_size // self.cell_size

    @property
    def chunk_count(self) -> int:
        return -(-self.count // self.chunk_size)

    def chunk_rows(self, chunk: int) -> range:
        start = chunk * self.chunk_size
        return range(start, min(start + self.chunk_size, self.count))

    def read_packed_chunk(self, chunk: int) -> np.ndarray:
        """The bit-packed rasters of one stored chunk, (n, S, S / 8) uint8 (one whole-chunk read)."""
        rows = self.chunk_rows(chunk)
        return self.group["raster"][rows.start : rows.stop]

    def read_chunk(self, chunk: int) -> np.ndarray:
        """All rasters of one stored chunk as (n, S, S) uint8 0/1 masks (one whole-chunk read)."""
        return unpack_masks(self.read_packed_chunk(chunk), value=1)

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


def open_raster_store(path: Path, expect: Mapping[str, Any] | None = None) -> RasterStore:
    """Open a rasters store and check it against the contract (``expect``: attrs it must have)."""
    group = open_store(path, "rasters", expect=expect)
    attrs = dict(group.attrs)
    labels_hash = LabelMap(tuple(attrs["labels"])).hash
    if labels_hash != attrs["label_map_hash"]:
        raise StoreError(
            f"rasters store {path}: its labels hash to {labels_hash[:12]} but label_map_hash is "
            f"{attrs['label_map_hash'][:12]}; rebuild it with `rasterd build`"
        )
    return RasterStore(
        path=path,
        group=group,
        count=int(attrs["count"]),
        chunk_size=int(attrs["chunk_size"]),
        canvas_size=int(attrs["canvas_size"]),
        cell_size=int(attrs["cell_size"]),
        build_id=str(attrs["build_id"]),
        label_map_hash=str(attrs["label_map_hash"]),
        attrs=attrs,
        arrays={name: group[name][:] for name in raster_arrays(int(attrs["canvas_size"])) if name != "raster"},
    )


def open_rasters(layout: OutputLayout, expect: Mapping[str, Any] | None = None) -> RasterStore:
    """The rasters store under ``layout``, also checked against the build's label map beside it."""
    store = open_raster_store(layout.rasters_store, expect)
    labels_hash = store.label_map_hash
    if layout.label_map.is_file():
        meta_hash = LabelMap.from_json(layout.label_map.read_text(encoding="utf-8")).hash
        if meta_hash != labels_hash:
            raise StoreError(
                f"{layout.label_map} (label map {meta_hash[:12]}) differs from the rasters store's "
                f"({labels_hash[:12]}): they come from different builds; rerun `rasterd build`"
            )
    return store
