"""The error report's numbers (docs/analysis.md), pure NumPy: which stage each error comes from,
confusion families, per-design accuracy with intervals and the worst labels.

An end-to-end error is a glyph whose top-1 on Phase 1's grid is neither its label nor a twin. It is
**Phase 1 noise** when Phase 2 gets it right (alt-aware) on the exact grid (nearest primitive per
cell), and **composition** when Phase 2 is wrong on both: then the grid itself did not suffice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

PHASE1_NOISE, COMPOSITION = "phase1_noise", "composition"


def alt_right(top1: np.ndarray, label_sets: np.ndarray) -> np.ndarray:
    """(n,) True where ``top1`` is the row's label or one of its twins (``label_sets`` -1 padded)."""
    return ((label_sets == np.asarray(top1)[:, None]) & (label_sets >= 0)).any(axis=1)


@dataclass(frozen=True)
class Attribution:
    """Rows (indices into the analyzed rows) of each kind of outcome."""

    errors: np.ndarray  # wrong end to end
    phase1_noise: np.ndarray  # errors right on the exact grid
    composition: np.ndarray  # errors wrong on both grids
    rescued: np.ndarray  # wrong on the exact grid, right end to end (Phase 1's grid helped)


def attribute(end_to_end_right: np.ndarray, exact_right: np.ndarray) -> Attribution:
    wrong = ~np.asarray(end_to_end_right, bool)
    exact = np.asarray(exact_right, bool)
    return Attribution(
        errors=np.flatnonzero(wrong), phase1_noise=np.flatnonzero(wrong & exact), composition=np.flatnonzero(wrong & ~exact),
        rescued=np.flatnonzero(~wrong & ~exact),
    )  # fmt: skip


def per_class_counts(attribution: Attribution, char_class: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
    """Per char class: errors, Phase 1 noise and composition counts (rows of an unknown class as "(unknown)")."""
    labels = [*names, "(unknown)"]
    slots = np.where(np.asarray(char_class) < 0, len(names), char_class)
    rows = []
    for slot in range(len(labels)):
        counts = {kind: int((slots[getattr(attribution, kind)] == slot).sum()) for kind in ("errors", PHASE1_NOISE, COMPOSITION)}
        if counts["errors"]:
            rows.append({"char_class": labels[slot], **counts})
    return sorted(rows, key=lambda r: (-r["errors"], r["char_class"]))


def spherical_kmeans(features: np.ndarray, clusters: int, seed: int, iterations: int = 30) -> np.ndarray:
    """(n,) cluster of each row of ``features`` by cosine k-means (k-means++ seeding); at most n clusters."""
    x = np.asarray(features, np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = len(x)
    k = min(clusters, n)
    if k == 0:
        return np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(n)]]
    for _ in range(1, k):
        distance = np.maximum(1.0 - np.max(x @ np.array(centres).T, axis=1), 0.0)
        total = distance.sum()
        centres.append(x[rng.choice(n, p=distance / total)] if total > 0 else x[rng.integers(n)])
    centre = np.array(centres)
    assign = np.full(n, -1)
    for _ in range(iterations):
        new = np.argmax(x @ centre.T, axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
        for c in range(k):
            members = x[assign == c]
            if len(members):
                mean = members.sum(axis=0)
                centre[c] = mean / max(np.linalg.norm(mean), 1e-12)
    return assign


def families(assign: np.ndarray, true: np.ndarray, predicted: np.ndarray, labels: Sequence[str], pairs: int = 5) -> list[dict[str, Any]]:
    """Per cluster of errors, largest first: its id in ``assign``, its size and its most frequent label pairs."""
    out = []
    for c in np.unique(assign):
        members = np.flatnonzero(assign == c)
        pair_ids, counts = np.unique(np.stack([true[members], predicted[members]], axis=1), axis=0, return_counts=True)
        order = np.lexsort((pair_ids[:, 1], pair_ids[:, 0], -counts))[:pairs]
        out.append({
            "cluster": int(c), "size": int(len(members)),
            "pairs": [{"true": labels[pair_ids[i, 0]], "predicted": labels[pair_ids[i, 1]], "count": int(counts[i])} for i in order],
        })  # fmt: skip
    return sorted(out, key=lambda f: (-f["size"], f["cluster"]))


def wilson(right: int, count: int, z: float = 1.96) -> list[float] | None:
    """95% Wilson score interval of a share of ``right`` out of ``count`` glyphs (None without glyphs)."""
    if count <= 0:
        return None
    p = right / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return [float(max(0.0, centre - half)), float(min(1.0, centre + half))]


def per_design(right: np.ndarray, design: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
    """Alt-aware top-1 of each design group with its glyph-level Wilson interval, worst first."""
    rows = []
    for d in np.unique(design):
        mask = design == d
        count, hits = int(mask.sum()), int(right[mask].sum())
        rows.append({"design": names[d] if d >= 0 else "(unknown)", "glyphs": count, "top1_alt": hits / count, "interval": wilson(hits, count)})
    return sorted(rows, key=lambda r: (r["top1_alt"], r["design"]))


def worst_labels(right: np.ndarray, true: np.ndarray, predicted: np.ndarray, labels: Sequence[str], top: int, min_glyphs: int) -> list[dict[str, Any]]:
    """Labels with the lowest alt-aware top-1 (at least ``min_glyphs`` glyphs), with their most frequent wrong answer."""
    rows = []
    for label in np.unique(true):
        mask = true == label
        if mask.sum() < min_glyphs:
            continue
        wrong = predicted[mask & ~right]
        answer = None
        if len(wrong):
            ids, counts = np.unique(wrong, return_counts=True)
            answer = {"label": labels[ids[np.argmax(counts)]], "count": int(counts.max())}
        rows.append({"label": labels[label], "glyphs": int(mask.sum()), "top1_alt": float(right[mask].mean()), "most_often_read_as": answer})
    return sorted(rows, key=lambda r: (r["top1_alt"], -r["glyphs"], r["label"]))[:top]
