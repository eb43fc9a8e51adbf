"""What `glyph-train export` measures about a bundle (docs/export.md): accuracy per split and precision
with intervals over design groups, agreement with glyph-train's own end-to-end model, latency per
glyph, and retrieval by the bundle's features."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from glyph_core.bundle import SplitScore
from glyph_core.rasters import RasterStore
from glyph_core.retrieval import label_belief, ranking_scores

from glyph_train.data.glyphs import GlyphTable
from glyph_train.evaluate.metrics import DESIGN, Grouping, glyph_metrics
from glyph_train.predict import top_k


def read_masks(source: RasterStore, rows: np.ndarray) -> np.ndarray:
    """(n, S, S) uint8 masks of ``rows`` (ascending), read chunk by chunk."""
    parts = [masks for _, masks in source.iter_rows(np.asarray(rows))]
    return np.concatenate(parts) if parts else np.zeros((0, source.canvas_size, source.canvas_size), np.uint8)


def masks_of(source: RasterStore, rows: np.ndarray) -> np.ndarray:
    """(n, S, S) uint8 masks of ``rows`` in any order, repeats allowed (read once each, in store order)."""
    unique, inverse = np.unique(np.asarray(rows, dtype=np.int64), return_inverse=True)
    return read_masks(source, unique)[inverse]


def ranked_rows(
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray], source: RasterStore, table: GlyphTable, rows: np.ndarray, k: int
) -> np.ndarray:
    """(n, k) best label ids of ``predict`` (masks, side -> scores) on ``rows``, chunk by chunk."""
    parts = [top_k(predict(masks, table.side[chunk_rows]), k) for chunk_rows, masks in source.iter_rows(np.asarray(rows))]
    return np.concatenate(parts) if parts else np.zeros((0, k), np.int64)


def split_score(ranked: np.ndarray, table: GlyphTable, rows: np.ndarray, resamples: int) -> SplitScore:
    """Strict and alt-aware top-1/top-5 of ``ranked`` on ``rows`` with the 95% interval of alt-aware top-1."""
    grouping = {DESIGN: Grouping(table.design[rows], table.design_names)}
    m = glyph_metrics(ranked, table.label[rows], table.twin_labels[rows], len(table.labels), grouping, {}, 1, 1, resamples)
    intervals = m.get("intervals", {})
    return SplitScore(
        glyphs=int(m["count"]), designs=int(intervals.get("designs", 0)), top1_strict=m["top1_strict"], top1_alt=m["top1_alt"],
        top5_strict=m["top5_strict"], top5_alt=m["top5_alt"], top1_alt_interval=intervals.get("top1_alt"),
    )  # fmt: skip


def agreement(a: np.ndarray, b: np.ndarray) -> float | None:
    """Share of rows whose top-1 is the same in both rankings."""
    return float((a[:, 0] == b[:, 0]).mean()) if len(a) else None


def latency(fresh: Callable[[], Callable[[np.ndarray, np.ndarray], Any]], masks: np.ndarray, side: np.ndarray) -> dict[str, float]:
    """Milliseconds per glyph in one batch and one glyph at a time (median, p99), each on a runtime made
    by ``fresh`` that has not seen these glyphs, so Phase 1's remembered cell patterns do not flatter it."""
    if not len(masks):
        return {}
    blank = np.zeros((1, *masks.shape[1:]), masks.dtype)  # warms the runtime (tracing, buffers); only the empty cell is remembered
    classify = fresh()
    classify(blank, side[:1])
    began = time.perf_counter()
    classify(masks, side)
    batched = (time.perf_counter() - began) * 1000 / len(masks)
    classify, times = fresh(), []
    classify(blank, side[:1])
    for i in range(len(masks)):
        began = time.perf_counter()
        classify(masks[i : i + 1], side[i : i + 1])
        times.append((time.perf_counter() - began) * 1000)
    return {"batched_ms_per_glyph": batched, "single_ms_median": float(np.median(times)), "single_ms_p99": float(np.percentile(times, 99))}


def retrieval(
    features: np.ndarray, table: GlyphTable, queries: np.ndarray, pool: np.ndarray, k: int, block: int = 512,
    top: np.ndarray | None = None, top_probability: np.ndarray | None = None, label_weight: float = 0.0,
) -> dict[str, Any]:
    """Mean share of the ``k`` best-ranked ``pool`` glyphs (exact search) of each ``queries`` glyph whose label
    is the query's or one of its twins, and the search time per query. Ranked by cosine alone, or, given
    every row's ``top`` labels and ``top_probability`` and a ``label_weight``, the way the server ranks
    similar glyphs (:func:`glyph_core.retrieval.ranking_scores`)."""
    if not len(queries) or not len(pool):
        return {"queries": int(len(queries)), "pool": int(len(pool)), "k": k, "label_weight": label_weight, "same_label_share": None, "ms_per_query": None}
    pool_features = features[pool]
    pool_labels = table.label[pool]
    accepted = np.concatenate([table.label[queries, None], table.twin_labels[queries]], axis=1)
    believe = top is not None and top_probability is not None and label_weight > 0
    shares = []
    began = time.perf_counter()
    k = min(k, len(pool))
    for start in range(0, len(queries), block):
        q = queries[start : start + block]
        belief = label_belief(top[q], top_probability[q], pool_labels) if believe else None  # type: ignore[index]
        scores = ranking_scores(features[q] @ pool_features.T, belief, label_weight)
        nearest = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        labels = pool_labels[nearest]  # (b, k)
        ok = (labels[:, :, None] == accepted[start : start + block, None, :]).any(axis=2)
        shares.append(ok.mean(axis=1))
    seconds = time.perf_counter() - began
    return {
        "queries": int(len(queries)), "pool": int(len(pool)), "k": k, "label_weight": label_weight if believe else 0.0,
        "same_label_share": float(np.concatenate(shares).mean()), "ms_per_query": seconds * 1000 / len(queries),
    }  # fmt: skip
