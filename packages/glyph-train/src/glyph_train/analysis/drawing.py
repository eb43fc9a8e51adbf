"""The error report's pictures (docs/analysis.md): glyphs with the cells the model looked at, glyph
strips of a confusion family, Phase 1's wrong cells, counters, per-design accuracy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glyph_train.figures import draw_glyph, pyplot, save_figure


def _panel_grid(count: int, columns: int, size: float = 1.7) -> tuple[Any, np.ndarray]:
    plt = pyplot()
    rows = max(1, math.ceil(count / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * (size + 0.3)), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def plot_looks(path: Path, masks: np.ndarray, maps: np.ndarray, titles: Sequence[str], columns: int = 6) -> Path:
    """Each glyph in grey under its (G, G) cell weights in red, cell lines faint."""
    fig, axes = _panel_grid(len(masks), columns, 2.0)
    for ax, mask, weights, title in zip(axes.flat, masks, maps, titles, strict=False):
        ax.set_axis_on()
        draw_glyph(ax, mask, title)
        side = mask.shape[0]
        overlay = np.zeros((side, side, 4))
        overlay[..., 0] = 0.85  # red, as opaque as the cell mattered: an unimportant cell leaves the glyph as it is
        overlay[..., 3] = 0.65 * np.kron(weights, np.ones((side // weights.shape[0],) * 2))
        ax.imshow(overlay)
        for line in range(0, side + 1, side // weights.shape[0]):
            ax.axhline(line - 0.5, color="0.85", lw=0.2)
            ax.axvline(line - 0.5, color="0.85", lw=0.2)
    if not len(masks):
        fig.text(0.5, 0.5, "no glyphs", ha="center", va="center")
    fig.tight_layout()
    return save_figure(fig, path)


def plot_strip(path: Path, masks: np.ndarray, titles: Sequence[str], columns: int = 8) -> Path:
    """Glyphs side by side with their captions."""
    fig, axes = _panel_grid(len(masks), columns, 1.5)
    for ax, mask, title in zip(axes.flat, masks, titles, strict=False):
        ax.set_axis_on()
        draw_glyph(ax, mask, title)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_cell_differences(path: Path, masks: np.ndarray, exact: np.ndarray, predicted: np.ndarray, titles: Sequence[str]) -> Path:
    """Each glyph with the cells whose Phase 1 primitive differs from the exact one framed in blue."""
    fig, axes = _panel_grid(len(masks), 6, 2.0)
    for ax, mask, true_grid, grid, title in zip(axes.flat, masks, exact, predicted, titles, strict=False):
        ax.set_axis_on()
        draw_glyph(ax, mask, title)
        cell = mask.shape[0] // grid.shape[0]
        for y, x in zip(*np.nonzero(true_grid != grid), strict=True):
            ax.add_patch(pyplot().Rectangle((x * cell - 0.5, y * cell - 0.5), cell, cell, fill=False, edgecolor="tab:blue", lw=0.9))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_design_accuracy(path: Path, designs: Sequence[Mapping[str, Any]]) -> Path:
    """Alt-aware top-1 of each design group with its 95% interval, worst at the top."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(designs) + 1.2))
    y = np.arange(len(designs))[::-1]
    share = np.array([d["top1_alt"] for d in designs])
    low = np.array([d["interval"][0] if d["interval"] else s for d, s in zip(designs, share, strict=True)])
    high = np.array([d["interval"][1] if d["interval"] else s for d, s in zip(designs, share, strict=True)])
    ax.errorbar(share, y, xerr=[share - low, high - share], fmt="o", color="tab:blue", capsize=3)
    ax.set_yticks(y, [f"{d['design']} ({d['glyphs']})" for d in designs], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("alt-aware top-1 (95% Wilson interval over the design's glyphs)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
