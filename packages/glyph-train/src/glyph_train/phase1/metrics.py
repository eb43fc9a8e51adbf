"""Phase 1 metrics (docs/phase1.md, docs/evaluation.md) from a confusion matrix of primitive ids: pure functions.

Everything is computed from counts, so clean rasters can be scored over distinct cell patterns
(weighted by how often each occurs) and the numbers still count every cell.
"""

from __future__ import annotations

import numpy as np

from glyph_core.primitives import EMPTY_PRIMITIVE

NEAR_PROTOTYPES = 5  # an error "stays near" when the prediction is one of the true prototype's nearest few


def confusion_matrix(targets: np.ndarray, predictions: np.ndarray, classes: int, counts: np.ndarray | None = None) -> np.ndarray:
    """(classes, classes) int64 counts, rows = true id, columns = predicted id."""
    flat = np.asarray(targets, dtype=np.int64) * classes + np.asarray(predictions, dtype=np.int64)
    weights = None if counts is None else np.asarray(counts, dtype=np.float64)
    return np.bincount(flat, weights=weights, minlength=classes * classes).astype(np.int64).reshape(classes, classes)


def nearest_prototypes(centroids: np.ndarray, count: int = NEAR_PROTOTYPES) -> np.ndarray:
    """(K+1, count) ids of each primitive's nearest other primitives (row 0, the empty cell, is unused)."""
    c = np.asarray(centroids, dtype=np.float64)
    dist = (c * c).sum(1)[:, None] - 2 * c @ c.T + (c * c).sum(1)[None, :]
    np.fill_diagonal(dist, np.inf)
    count = min(count, len(c) - 1)
    near = np.argsort(dist, axis=1, kind="stable")[:, :count] + 1
    return np.vstack([np.zeros((1, count), dtype=near.dtype), near])


def frequency_buckets(train_frequency: np.ndarray, edges: list[float]) -> list[tuple[str, np.ndarray]]:
    """Non-empty primitive ids split by train-frequency rank at ``edges`` (fractions), most frequent first."""
    ids = np.arange(1, len(train_frequency))
    ranked = ids[np.argsort(-train_frequency[1:], kind="stable")]
    cuts = [0, *(round(e * len(ranked)) for e in edges), len(ranked)]
    names = [f"{lo:.0%}-{hi:.0%}" for lo, hi in zip([0.0, *edges], [*edges, 1.0], strict=True)]
    return [(f"most frequent {name}", ranked[a:b]) for name, a, b in zip(names, cuts[:-1], cuts[1:], strict=True)]


def _share(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def cell_metrics(
    confusion: np.ndarray,
    train_frequency: np.ndarray,
    bucket_edges: list[float],
    top: int,
    near: np.ndarray | None = None,
) -> dict[str, object]:
    """Accuracy overall and on non-empty cells, per frequency bucket, empty-class rates and top confusions."""
    total = confusion.sum()
    correct = np.trace(confusion)
    empty_row = confusion[EMPTY_PRIMITIVE]
    empty_cells = empty_row.sum()
    ink = confusion[1:]
    ink_cells = ink.sum()
    ink_correct = correct - confusion[0, 0]
    buckets = []
    for name, ids in frequency_buckets(train_frequency, bucket_edges):
        cells = confusion[ids].sum()
        buckets.append({
            "bucket": name,
            "primitives": len(ids),
            "train_cells": int(train_frequency[ids].sum()),
            "cells": int(cells),
            "accuracy": _share(confusion[ids, ids].sum(), cells),
        })  # fmt: skip
    errors = confusion.copy()
    np.fill_diagonal(errors, 0)
    error_total = errors.sum()
    order = np.argsort(-errors, axis=None, kind="stable")[:top]
    confusions = [
        {"true": int(t), "predicted": int(p), "cells": int(errors[t, p]), "share_of_errors": _share(errors[t, p], error_total)}
        for t, p in zip(*np.unravel_index(order, errors.shape), strict=True)
        if errors[t, p] > 0
    ]
    result: dict[str, object] = {
        "cells": int(total),
        "nonempty_cells": int(ink_cells),
        "empty_cells": int(empty_cells),
        "accuracy": _share(correct, total),
        "primitive_accuracy": _share(ink_correct, ink_cells),
        "empty_false_positive_rate": _share(empty_cells - empty_row[EMPTY_PRIMITIVE], empty_cells),
        "ink_predicted_empty_rate": _share(ink[:, EMPTY_PRIMITIVE].sum(), ink_cells),
        "buckets": buckets,
        "top_confusions": confusions,
    }
    if near is not None:
        ink_errors = errors[1:, 1:]
        rows = np.arange(1, len(confusion))[:, None]
        near_errors = ink_errors[rows - 1, near[1:] - 1].sum()
        result["errors_to_near_prototypes"] = _share(near_errors, ink_errors.sum())
    return result
