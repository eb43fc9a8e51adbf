"""Pictures of the primitive vocabulary: a prototype sheet and the usage distribution (docs/tokenization.md, docs/evaluation.md)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from glyph_train.figures import pyplot, save_grey, tile_cells


def save_thumbnail_sheet(path: Path, centroids: np.ndarray, usage: np.ndarray, scale: int) -> None:
    """Every centroid as a cell image, most used first, left to right and top to bottom (id 1 top left)."""
    cell = math.isqrt(centroids.shape[1])
    order = np.argsort(-usage, kind="stable")
    columns = math.ceil(math.sqrt(len(centroids)))
    save_grey(path, tile_cells(centroids[order].reshape(-1, cell, cell), columns, scale))


def save_usage_plot(path: Path, usage: np.ndarray, quality: dict[str, float | int]) -> None:
    """Share of sampled cells per primitive id (log scale, with the cumulative share) and the cluster-size histogram."""
    plt = pyplot()
    share = np.sort(usage)[::-1] / usage.sum()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    ranks = np.arange(1, len(share) + 1)
    left.semilogy(ranks, np.where(share > 0, share, np.nan), color="tab:blue", lw=1)
    left.set_xlabel("primitive, most used first")
    left.set_ylabel("share of sampled cells (log)", color="tab:blue")
    cumulative = left.twinx()
    cumulative.plot(ranks, np.cumsum(share), color="tab:orange", lw=1)
    cumulative.set_ylabel("cumulative share", color="tab:orange")
    cumulative.set_ylim(0, 1.02)
    left.set_title(
        f"largest {quality['largest_cluster_share']:.2%}, entropy {quality['entropy_bits']:.2f} of "
        f"{quality['entropy_of_uniform_bits']:.2f} bits, dead {quality['dead_clusters']}"
    )
    used = usage[usage > 0]
    bins = np.logspace(0, math.log10(max(int(used.max()), 10)) + 0.01, 40)
    right.hist(used, bins=bins, color="tab:green")
    right.set_xscale("log")
    right.set_xlabel("cells per primitive (log)")
    right.set_ylabel("primitives")
    right.set_title(f"{len(usage)} primitives over {int(usage.sum()):,} cells")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
