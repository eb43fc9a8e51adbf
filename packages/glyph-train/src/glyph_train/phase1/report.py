"""Phase 1 pictures: where the confusions fall and what the most frequent ones look like (docs/phase1.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from glyph_train.figures import pyplot, tile_cells

HEATMAP_BINS = 128


def binned_errors(confusion: np.ndarray, bins: int = HEATMAP_BINS) -> np.ndarray:
    """Off-diagonal counts summed into at most ``bins`` x ``bins`` blocks of consecutive ids."""
    errors = confusion.astype(np.float64).copy()
    np.fill_diagonal(errors, 0)
    size = len(errors)
    step = max(1, math.ceil(size / bins))
    padded = np.zeros((math.ceil(size / step) * step,) * 2)
    padded[:size, :size] = errors
    n = len(padded) // step
    return padded.reshape(n, step, n, step).sum(axis=(1, 3))


def save_confusion_plot(path: Path, confusion: np.ndarray, centroids: np.ndarray, top: list[dict], title: str) -> None:
    """Left: error counts by (true, predicted) id, log scale (ids are ordered by frequency, so the
    top-left is the common primitives). Right: the most frequent confusions as prototype pairs."""
    plt = pyplot()
    cell = math.isqrt(centroids.shape[1])
    fig = plt.figure(figsize=(13, 6.5))
    heat = fig.add_axes((0.06, 0.1, 0.5, 0.8))
    binned = binned_errors(confusion)
    step = math.ceil(len(confusion) / len(binned))
    shown = heat.imshow(np.log10(1 + binned), cmap="magma_r", origin="upper", extent=(0, len(binned) * step, len(binned) * step, 0))
    heat.set_xlabel("predicted primitive id (0 = empty)")
    heat.set_ylabel("true primitive id")
    heat.set_title(f"{title}: errors, log10(1 + cells) per {step}x{step} block of ids")
    fig.colorbar(shown, ax=heat, fraction=0.04)
    pairs = fig.add_axes((0.66, 0.1, 0.3, 0.8))
    prototypes = np.vstack([np.zeros((1, cell * cell), dtype=np.float32), centroids])
    shown_pairs = top[: min(len(top), 12)]
    if shown_pairs:
        cells = np.stack([prototypes[[c["true"], c["predicted"]]] for c in shown_pairs]).reshape(-1, cell, cell)
        pairs.imshow(tile_cells(cells, columns=2, scale=4), cmap="gray", vmin=0, vmax=1)
        row_height = cell * 4 + 2
        for i, c in enumerate(shown_pairs):
            pairs.text(
                2 * row_height + 6, 2 + i * row_height + row_height / 2,
                f"{c['true']} -> {c['predicted']}: {c['cells']:,}", va="center", fontsize=8,
            )  # fmt: skip
        pairs.set_xlim(0, 2 * row_height + 120)
    pairs.set_axis_off()
    pairs.set_title("most frequent confusions (true | predicted prototype)", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
