"""Figures shared by the training commands: cell thumbnails and the matplotlib setup (no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def pyplot():  # type: ignore[no-untyped-def]
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tile_cells(cells: np.ndarray, columns: int, scale: int, gap: int = 2) -> np.ndarray:
    """(n, c, c) intensities in [0, 1] -> one grey image, ink dark on white, cells separated by grey gaps."""
    n, c = len(cells), cells.shape[1]
    rows = -(-n // columns)
    size = c * scale
    sheet = np.full((rows * (size + gap) + gap, columns * (size + gap) + gap), 0.75, dtype=np.float32)
    big = np.kron(np.clip(cells, 0, 1), np.ones((scale, scale), dtype=np.float32))
    for i, image in enumerate(big):
        y, x = gap + (i // columns) * (size + gap), gap + (i % columns) * (size + gap)
        sheet[y : y + size, x : x + size] = 1.0 - image
    return sheet


def save_grey(path: Path, image: np.ndarray) -> None:
    """Write a [0, 1] grey image as PNG, pixel for pixel."""
    plt = pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, image, cmap="gray", vmin=0.0, vmax=1.0)
