"""Binary cells as compact keys, and the primitive assigner both sides share (docs/tokenization.md).

An 8x8 binary cell fits one uint64, and cells repeat a lot (a few hundred thousand distinct patterns
in millions of cells), so every per-cell computation here (primitive id, model prediction) runs on
distinct patterns and is remembered. Ids are exactly ``glyph_core.primitives.assign_primitives``;
rasterd's compiled assigner (``rasterd.raster.CompiledPrimitiveAssigner``) is this class with the
assignment done in C.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from glyph_core.primitives import EMPTY_PRIMITIVE, centroid_hash, nearest_centroid, split_cells

# A candidate from the BLAS distance is re-checked with the specification's exact sum when the two
# nearest centroids are closer than this (float64 rounding of either sum is far below it).
TIE_MARGIN = 1e-6


class CellCodec:
    """Cells of ``cell_size``² pixels <-> keys: uint64 up to 8x8 cells, fixed-size bytes above."""

    def __init__(self, cell_size: int) -> None:
        self.cell_size = cell_size
        self.pixels = cell_size * cell_size
        self.nbytes = (self.pixels + 7) // 8
        self.dtype = np.dtype(np.uint64) if self.nbytes <= 8 else np.dtype((np.void, self.nbytes))

    def encode(self, cells: np.ndarray) -> np.ndarray:
        """(..., pixels) 0/1 cells -> (...) keys; the all-empty cell encodes to ``empty_key``."""
        shape = cells.shape[:-1]
        packed = np.packbits(cells.reshape(-1, self.pixels).astype(bool), axis=1)
        if self.dtype == np.uint64 and self.nbytes < 8:
            packed = np.pad(packed, ((0, 0), (0, 8 - self.nbytes)))
        return np.ascontiguousarray(packed).view(self.dtype).reshape(shape)

    def decode(self, keys: np.ndarray) -> np.ndarray:
        """(n,) keys -> (n, pixels) uint8 0/1 patterns."""
        raw = np.ascontiguousarray(keys).view(np.uint8).reshape(len(keys), -1)
        return np.unpackbits(raw, axis=1)[:, : self.pixels]

    @property
    def empty_key(self) -> np.ndarray:
        return self.encode(np.zeros((1, self.pixels), dtype=np.uint8))[0]

    def masks_to_keys(self, masks: np.ndarray) -> np.ndarray:
        """(N, S, S) masks -> (N, G, G) keys, cells in row-major order (glyph_core.primitives.split_cells)."""
        return self.encode(split_cells(masks, self.cell_size))


def nearest_primitive(patterns: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """1 + nearest centroid of each non-empty 0/1 pattern, equal to the specification's choice.

    The distance is computed with one matrix product; rows whose best and second-best distances are
    nearly tied are recomputed with ``glyph_core.primitives.nearest_centroid`` (the exact rule).
    """
    x = np.asarray(patterns, dtype=np.float64)
    c = np.asarray(centroids, dtype=np.float64)
    if len(x) == 0:
        return np.zeros(0, dtype=np.uint16)
    dist = (c * c).sum(axis=1)[None, :] - 2.0 * (x @ c.T) + (x * x).sum(axis=1)[:, None]
    if len(c) > 1:
        two = np.partition(dist, 1, axis=1)[:, :2]
        close = np.abs(two[:, 1] - two[:, 0]) < TIE_MARGIN
    else:
        close = np.zeros(len(x), dtype=bool)
    best = np.argmin(dist, axis=1)
    if close.any():
        best[close] = nearest_centroid(x[close], c)
    return (best + 1).astype(np.uint16)


class PatternTable:
    """A remembered function of distinct cell patterns (primitive id, model prediction, ...).

    ``lookup`` computes the function only for patterns it has not seen; the empty cell maps to
    ``empty_value`` without a call (None: the function decides for it too). Safe to share between threads.
    """

    def __init__(self, codec: CellCodec, compute: Callable[[np.ndarray], np.ndarray], empty_value: int | None) -> None:
        self.codec = codec
        self.compute = compute
        self.empty_value = empty_value
        self._keys = np.zeros(0, dtype=codec.dtype)
        self._values = np.zeros(0, dtype=np.int32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Values for an array of keys (any shape), as int32 of the same shape."""
        flat = keys.reshape(-1)
        unique, inverse = np.unique(flat, return_inverse=True)
        values = self._find(unique)
        missing = values < 0
        if missing.any():
            with self._lock:
                values = self._find(unique)
                missing = values < 0
                new_keys = unique[missing]
                new_values = np.zeros(len(new_keys), dtype=np.int32)
                computed = new_keys != self.codec.empty_key
                if self.empty_value is None:
                    computed[:] = True
                else:
                    new_values[~computed] = self.empty_value
                if computed.any():
                    new_values[computed] = self.compute(self.codec.decode(new_keys[computed]))
                values[missing] = new_values
                merged = np.concatenate([self._keys, new_keys])
                order = np.argsort(merged, kind="stable")
                self._values = np.concatenate([self._values, new_values])[order]
                self._keys = merged[order]
        return values[inverse.reshape(-1)].reshape(keys.shape)

    def _find(self, unique: np.ndarray) -> np.ndarray:
        keys, values = self._keys, self._values
        out = np.full(len(unique), -1, dtype=np.int32)
        if len(keys):
            pos = np.minimum(np.searchsorted(keys, unique), len(keys) - 1)
            hit = keys[pos] == unique
            out[hit] = values[pos[hit]]
        return out


class PrimitiveAssigner:
    """Primitive ids of cells (0 = empty, 1..K), exactly ``glyph_core.primitives.assign_primitives``."""

    def __init__(self, centroids: np.ndarray, cell_size: int) -> None:
        self.centroids = np.asarray(centroids, dtype=np.float32)
        if self.centroids.ndim != 2 or self.centroids.shape[1] != cell_size * cell_size:
            raise ValueError(f"centroids must have shape (K, {cell_size * cell_size}), got {self.centroids.shape}")
        if len(self.centroids) + 1 > np.iinfo(np.uint16).max:
            raise ValueError(f"{len(self.centroids)} centroids do not fit uint16 ids")
        self.cell_size = cell_size
        self.centroid_hash = centroid_hash(self.centroids)
        self.codec = CellCodec(cell_size)
        self.table = PatternTable(self.codec, lambda p: nearest_primitive(p, self.centroids), EMPTY_PRIMITIVE)

    @property
    def primitive_count(self) -> int:
        """Classes including the empty one."""
        return len(self.centroids) + 1

    @property
    def known_patterns(self) -> int:
        """Distinct cell patterns classified so far."""
        return len(self.table)

    def assign_keys(self, keys: np.ndarray) -> np.ndarray:
        return self.table.lookup(keys)

    def assign(self, masks: np.ndarray) -> np.ndarray:
        """(N, S, S) masks -> (N, G, G) uint16 ids."""
        return self.assign_keys(self.codec.masks_to_keys(masks)).astype(np.uint16)
