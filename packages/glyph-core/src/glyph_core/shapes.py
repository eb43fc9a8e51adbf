"""How alike two fonts draw the same letters: mean IoU of their rasters over a fixed set of core letters.

Derived fonts redraw a design with other bytes (UKIJ Tuz copies Arabeyes' Nazli, Ruwudu is
Alkalami's design), so neither family names nor outline bytes tie them together; their rasters do.
Rasters come tight-fitted and top-left anchored from the build's own raster policy, so the score
ignores units per em and placement and compares shape only (docs/data.md, "Design groups").
Pure computation: the caller rasterizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# The 28 letters of the Arabic alphabet, isolated: every Arabic-capable font draws most of them.
CORE_LETTERS = tuple(
    f"{name}_isol"
    for name in (
        "alef", "beh", "teh", "theh", "jeem", "hah", "khah", "dal", "thal", "reh", "zain", "seen", "sheen", "sad",
        "dad", "tah", "zah", "ain", "ghain", "feh", "qaf", "kaf", "lam", "meem", "noon", "heh", "waw", "yeh",
    )
)  # fmt: skip


@dataclass(frozen=True)
class ShapeScores:
    """Mean IoU over the core letters both fonts draw, for every pair of fonts.

    ``score[i, j]`` is 0 where the fonts share fewer than the required letters (``shared[i, j]`` says
    how many they share), and on the diagonal.
    """

    fonts: tuple[str, ...]
    score: np.ndarray  # float64 (F, F), symmetric
    shared: np.ndarray  # int32 (F, F)

    def pairs_at_least(self, threshold: float) -> list[tuple[str, str, float, int]]:
        """(font a, font b, score, letters) for every pair at or above ``threshold``, best first."""
        rows, cols = np.nonzero(np.triu(self.score >= threshold, k=1))
        pairs = [(self.fonts[i], self.fonts[j], float(self.score[i, j]), int(self.shared[i, j])) for i, j in zip(rows, cols)]
        return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))

    def nearest_other_group(self, groups: Mapping[str, str]) -> dict[str, tuple[float, str]]:
        """Per design group: the best score of any of its fonts to a font of another group, and that group."""
        names = np.array([groups[f] for f in self.fonts])
        best: dict[str, tuple[float, str]] = {}
        for i, group in enumerate(names):
            other = np.where(names != group, self.score[i], -1.0)
            j = int(other.argmax()) if len(other) else 0
            candidate = (float(max(other[j], 0.0)), str(names[j]) if other[j] >= 0 else "")
            if group not in best or candidate[0] > best[group][0]:
                best[str(group)] = candidate
        return best


def shape_scores(masks: Mapping[str, Mapping[str, np.ndarray]], min_letters: int, letters: Sequence[str] = CORE_LETTERS) -> ShapeScores:
    """Pairwise mean IoU of ``masks`` (font -> label -> binary raster) over ``letters``.

    Pairs that share fewer than ``min_letters`` of the letters score 0: a font that draws only a few
    of them (a Uyghur-only subset) is compared on what it draws, but never on too little.
    """
    fonts = tuple(sorted(masks))
    count = len(fonts)
    total = np.zeros((count, count))
    shared = np.zeros((count, count), dtype=np.int32)
    for label in letters:
        drawn = [i for i, font in enumerate(fonts) if label in masks[font]]
        if len(drawn) < 2:
            continue
        pixels = np.stack([np.asarray(masks[fonts[i]][label], dtype=bool).reshape(-1) for i in drawn]).astype(np.float32)
        inter = pixels @ pixels.T
        area = pixels.sum(axis=1)
        union = area[:, None] + area[None, :] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        index = np.ix_(drawn, drawn)
        total[index] += iou
        shared[index] += 1
    score = np.divide(total, shared, out=np.zeros_like(total), where=shared >= max(min_letters, 1))
    np.fill_diagonal(score, 0.0)
    return ShapeScores(fonts, score, shared)
