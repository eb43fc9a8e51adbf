"""Cell grids and primitive assignment (docs/raster-policy.md, docs/tokenization.md): the definition both sides share.

A raster is cut into square cells in row-major order. An empty cell is primitive 0; a non-empty cell
is 1 + the index of its nearest centroid by squared Euclidean distance on the 0/1 cell, accumulated
sequentially over the cell's pixels in float64, ties going to the lowest index. rasterd's Cython
tokenizer is tested to give exactly these ids; this NumPy version is the specification.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from glyph_core.store import StoreError

EMPTY_PRIMITIVE = 0


def split_cells(masks: np.ndarray, cell_size: int) -> np.ndarray:
    """(N, S, S) masks (any nonzero = ink) -> (N, S/c, S/c, c*c) uint8 0/1 cells, row-major."""
    masks = np.asarray(masks)
    if masks.ndim == 2:
        masks = masks[None]
    n, h, w = masks.shape
    if h % cell_size or w % cell_size:
        raise ValueError(f"raster {h}x{w} is not a multiple of cell_size {cell_size}")
    g_h, g_w = h // cell_size, w // cell_size
    cells = (masks != 0).astype(np.uint8).reshape(n, g_h, cell_size, g_w, cell_size)
    return cells.transpose(0, 1, 3, 2, 4).reshape(n, g_h, g_w, cell_size * cell_size)


def nearest_centroid(patterns: np.ndarray, centroids: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Index of the nearest centroid for each 0/1 pattern row (float64, sequential sum, lowest index on ties)."""
    patterns = np.asarray(patterns, dtype=np.float64)
    centroids = np.asarray(centroids, dtype=np.float64)
    if patterns.shape[1] != centroids.shape[1]:
        raise ValueError(f"cells have {patterns.shape[1]} pixels but centroids have {centroids.shape[1]}")
    out = np.empty(len(patterns), dtype=np.int64)
    for start in range(0, len(patterns), batch):
        block = patterns[start : start + batch]
        dist = np.zeros((len(block), len(centroids)), dtype=np.float64)
        for j in range(centroids.shape[1]):
            diff = centroids[None, :, j] - block[:, j, None]
            dist += diff * diff
        out[start : start + batch] = np.argmin(dist, axis=1)
    return out


def assign_primitives(masks: np.ndarray, centroids: np.ndarray, cell_size: int = 8) -> np.ndarray:
    """(N, S, S) masks -> (N, S/c, S/c) uint16 primitive ids (0 = empty, 1..K = centroid + 1)."""
    if len(centroids) + 1 > np.iinfo(np.uint16).max:
        raise ValueError(f"{len(centroids)} centroids do not fit uint16 ids")
    cells = split_cells(masks, cell_size)
    flat = cells.reshape(-1, cells.shape[-1])
    ids = np.zeros(len(flat), dtype=np.uint16)
    nonempty = flat.any(axis=1)
    if nonempty.any():
        # Binary cells repeat a lot: classify each distinct pattern once.
        patterns, inverse = np.unique(flat[nonempty], axis=0, return_inverse=True)
        ids[nonempty] = (nearest_centroid(patterns, centroids) + 1).astype(np.uint16)[inverse.ravel()]
    return ids.reshape(cells.shape[:3])


def centroid_hash(centroids: np.ndarray) -> str:
    """sha256 of the centroids' float32 bytes plus their shape: the grids' reproducibility tag."""
    arr = np.ascontiguousarray(np.asarray(centroids, dtype=np.float32))
    digest = hashlib.sha256(repr(arr.shape).encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()


def load_centroids(path: Path, cell_size: int) -> tuple[np.ndarray, str]:
    """The primitive centroids at ``path`` as float32 (K, cell_size²), and their hash.

    Raises FileNotFoundError naming the command that makes them, or StoreError when they were made
    for another cell size (or are not a 2-D array).
    """
    if not path.is_file():
        raise FileNotFoundError(f"no primitive centroids at {path}: run `glyph-train primitives` first")
    centroids = np.load(path)
    if centroids.ndim != 2 or centroids.shape[1] != cell_size * cell_size:
        raise StoreError(
            f"{path}: centroids of shape {centroids.shape} do not fit the rasters' {cell_size}x{cell_size} cells; "
            "rerun `glyph-train primitives`"
        )
    return centroids.astype(np.float32, copy=False), centroid_hash(centroids)
