"""Figures shared by the training commands: training curves, cell thumbnails and the matplotlib setup (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def save_figure(fig: Any, path: Path) -> Path:
    """Write a matplotlib figure as PNG (its folder made) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
    return path


def draw_glyph(ax: Any, mask: np.ndarray | None, title: str) -> None:
    """A 0/1 mask, ink dark on white, without ticks; a missing one is an empty framed box."""
    image = np.ones((1, 1)) if mask is None else 1.0 - np.asarray(mask, dtype=np.float64)
    ax.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=7)


def curve_groups(keys: Sequence[str]) -> dict[str, list[str]]:
    """Keras log keys per panel: ``loss`` and ``accuracy`` (top-k included), each a sorted list of
    training keys (``val_`` stripped); anything else (the learning rate) is left out."""
    names = sorted({k.removeprefix("val_") for k in keys if k != "epoch"})
    return {
        "loss": [k for k in names if k.endswith("loss")],
        "accuracy": [k for k in names if k.endswith(("accuracy", "top5"))],
    }


def plot_training_curves(path: Path, history: Sequence[dict[str, float]], title: str) -> Path | None:
    """Loss and accuracy per epoch, training dashed and validation solid in one colour per metric.

    ``history`` is the checkpointed one (resumed epochs included); nothing is written for an empty one.
    """
    if not history:
        return None
    plt = pyplot()
    groups = curve_groups([k for h in history for k in h])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    epochs = [h["epoch"] for h in history]
    for ax, (panel, names) in zip(axes, groups.items(), strict=True):
        for i, name in enumerate(names):
            colour = f"C{i % 10}"
            for key, style, label in ((name, "--", f"{name} (train)"), (f"val_{name}", "-", f"{name} (val)")):
                points = [(e, h[key]) for e, h in zip(epochs, history, strict=True) if key in h]
                if points:
                    ax.plot(*zip(*points, strict=True), style, color=colour, marker=".", label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(panel)
        ax.grid(alpha=0.3)
        if names:
            ax.legend(fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
