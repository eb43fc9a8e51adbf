"""The rasters store as the service reads it: identity arrays held in memory, packed rasters read
by whole chunk (cached), and the raster metadata of a stored glyph."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.api_models import RasterMetadata
from glyph_core.rasters import RasterStore, open_raster_store
from glyph_core.store import RASTER_METADATA, metadata_record

from rasterd.app.readers.cache import LruCache


@dataclass(eq=False)
class StoreView:
    """The service's handle on a rasters store: glyph-core's reader plus an LRU of raster chunks."""

    store: RasterStore
    key: Hashable
    chunks: LruCache

    @classmethod
    def open(cls, path: Path, key: Hashable, cached_chunks: int) -> StoreView:
        return cls(open_raster_store(path), key, LruCache(cached_chunks))

    @property
    def path(self) -> Path:
        return self.store.path

    @property
    def attrs(self) -> dict[str, Any]:
        return self.store.attrs

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return self.store.arrays

    @property
    def chunk_size(self) -> int:
        return self.store.chunk_size

    @property
    def build_id(self) -> str:
        return self.store.build_id

    @property
    def count(self) -> int:
        return self.store.count

    def cached_packed(self, row: int) -> np.ndarray | None:
        chunk = self.chunks.get(row // self.chunk_size)
        return None if chunk is None else chunk[row % self.chunk_size]

    def packed(self, row: int) -> np.ndarray:
        """The bit-packed raster of store row ``row``, reading (and caching) its whole chunk."""
        index = row // self.chunk_size
        chunk = self.chunks.get(index)
        if chunk is None:
            chunk = self.store.read_packed_chunk(index)
            self.chunks.put(index, chunk)
        return chunk[row % self.chunk_size]


def raster_metadata(batch: Any, i: int) -> RasterMetadata:
    """The metadata of glyph ``i`` of a freshly rasterized batch."""
    return RasterMetadata(**metadata_record({name: getattr(batch, name) for name in RASTER_METADATA}, i))


def store_metadata(store: StoreView, row: int) -> RasterMetadata:
    """The metadata of a stored glyph."""
    return RasterMetadata(**metadata_record(store.arrays, row))
