"""The rasters store as the service reads it: identity arrays held in memory, packed rasters read
by whole chunk (cached), and the raster metadata of a stored glyph."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from glyph_core.api_models import RasterMetadata
from glyph_core.store import open_store

from rasterd.app.readers.cache import LruCache

META_ARRAYS = ("glyph_id", "label", "font", "split", "char_class", "twin_labels", "is_diacritic", "bbox",
                "scale_factor", "major_dim_ratio", "target_dim")  # fmt: skip


@dataclass(eq=False)
class StoreView:
    """An open, complete rasters store: metadata arrays in memory, raster chunks through an LRU."""

    path: Path
    key: Hashable
    group: zarr.Group
    attrs: dict[str, Any]
    arrays: dict[str, np.ndarray]
    chunk_size: int
    chunks: LruCache

    @classmethod
    def open(cls, path: Path, key: Hashable, cached_chunks: int) -> StoreView:
        group = open_store(path, "rasters")
        attrs = dict(group.attrs)
        arrays = {name: group[name][:] for name in META_ARRAYS}
        chunk_size = int(group["raster"].chunks[0])
        return cls(path, key, group, attrs, arrays, chunk_size, LruCache(cached_chunks))

    @property
    def build_id(self) -> str:
        return str(self.attrs["build_id"])

    @property
    def count(self) -> int:
        return int(self.attrs["count"])

    def cached_packed(self, row: int) -> np.ndarray | None:
        chunk = self.chunks.get(row // self.chunk_size)
        return None if chunk is None else chunk[row % self.chunk_size]

    def packed(self, row: int) -> np.ndarray:
        """The bit-packed raster of store row ``row``, reading (and caching) its whole chunk."""
        index = row // self.chunk_size
        chunk = self.chunks.get(index)
        if chunk is None:
            start = index * self.chunk_size
            chunk = self.group["raster"][start : start + self.chunk_size]
            self.chunks.put(index, chunk)
        return chunk[row % self.chunk_size]




def raster_metadata(batch: Any, i: int) -> RasterMetadata:
    return RasterMetadata(
        is_diacritic=bool(batch.is_diacritic[i]),
        original_bbox=[float(v) for v in batch.bbox[i]],
        scale_factor=float(batch.scale_factor[i]),
        major_dim_ratio=float(batch.major_dim_ratio[i]),
        target_dim=int(batch.target_dim[i]),
    )


def store_metadata(store: StoreView, row: int) -> RasterMetadata:
    a = store.arrays
    return RasterMetadata(
        is_diacritic=bool(a["is_diacritic"][row]),
        original_bbox=[float(v) for v in a["bbox"][row]],
        scale_factor=float(a["scale_factor"][row]),
        major_dim_ratio=float(a["major_dim_ratio"][row]),
        target_dim=int(a["target_dim"][row]),
    )
