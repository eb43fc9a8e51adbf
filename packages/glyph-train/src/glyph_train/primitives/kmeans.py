"""The primitive vocabulary (docs/tokenization.md): weighted k-means over distinct binary cell patterns.

Binary cells repeat a lot, so k-means runs on the distinct patterns with their counts as sample
weights, which gives the same clustering as running on every sampled cell. Seeding with k-means++
over every distinct pattern costs minutes, so it seeds from a count-weighted sample of them; Lloyd
iterations then use all patterns. scikit-learn centres dense data on its mean before the Lloyd
iterations, so the centroid sums are no longer exact and the order in which OpenMP threads add their
partial sums shows in the last bits of the centroids (and so in the centroid hash every later stage
keys on): the fit runs on one thread, which keeps the vocabulary byte-identical from run to run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans, kmeans_plusplus
from threadpoolctl import threadpool_limits

from glyph_core.cells import nearest_primitive
from glyph_train.errors import TrainingInputError


@dataclass(frozen=True)
class Clustering:
    centroids: np.ndarray  # (k, pixels) float32, ordered by usage (id 1 = most used)
    usage: np.ndarray  # (k,) cells of the sample assigned to each id 1..k by the specification's rule
    iterations: int
    inertia_per_cell: float


def sample_without_replacement(keys: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` keys drawn without replacement (all of them, in order, when there are fewer)."""
    if len(keys) <= count:
        return keys
    return keys[np.sort(rng.choice(len(keys), size=count, replace=False))]


def fit_primitives(
    patterns: np.ndarray,
    counts: np.ndarray,
    clusters: int,
    *,
    init_patterns: int,
    max_iter: int,
    tolerance: float,
    seed: int,
) -> Clustering:
    """k-means of distinct 0/1 ``patterns`` weighted by ``counts``; centroids ordered by how many cells they take."""
    if len(patterns) < clusters:
        raise TrainingInputError(
            f"only {len(patterns)} distinct non-empty cell patterns for {clusters} clusters: lower `clusters` "
            "or build the rasters store from more fonts"
        )
    x = np.asarray(patterns, dtype=np.float32)
    w = np.asarray(counts, dtype=np.float32)
    rng = np.random.default_rng(seed)
    seeding = rng.choice(len(x), size=min(init_patterns, len(x)), replace=False, p=w / w.sum())
    if len(seeding) < clusters:
        seeding = np.arange(len(x))
    # k-means++ makes a thousand small matrix products: threaded BLAS only adds hand-offs (and, on a
    # busy machine, spinning threads that make seeding 5-10x slower), so it runs on one BLAS thread.
    with threadpool_limits(limits=1, user_api="blas"):
        init, _ = kmeans_plusplus(x[seeding], clusters, sample_weight=w[seeding], random_state=seed)
    kmeans = KMeans(clusters, init=init, n_init=1, max_iter=max_iter, tol=tolerance, random_state=seed)
    with threadpool_limits(limits=1, user_api="openmp"):
        kmeans.fit(x, sample_weight=w)
    centroids = kmeans.cluster_centers_.astype(np.float32)
    ids = nearest_primitive(patterns, centroids)
    usage = np.bincount(ids - 1, weights=counts, minlength=clusters)
    order = np.argsort(-usage, kind="stable")
    centroids = np.ascontiguousarray(centroids[order])
    # Reassign with the final order: the specification breaks exact ties by the lower id.
    usage = np.bincount(nearest_primitive(patterns, centroids) - 1, weights=counts, minlength=clusters)
    return Clustering(centroids, usage.astype(np.int64), int(kmeans.n_iter_), float(kmeans.inertia_) / float(w.sum()))


def usage_quality(usage: np.ndarray) -> dict[str, float | int]:
    """docs/evaluation.md distribution checks: largest cluster share, entropy, effective clusters, dead clusters."""
    total = float(usage.sum())
    share = usage / total
    used = share[share > 0]
    entropy = float(-(used * np.log2(used)).sum())
    return {
        "clusters": len(usage),
        "largest_cluster_share": float(share.max()),
        "smallest_used_cluster_share": float(used.min()),
        "entropy_bits": entropy,
        "entropy_of_uniform_bits": math.log2(len(usage)),
        "normalized_entropy": entropy / math.log2(len(usage)),
        "effective_clusters": 2.0**entropy,
        "dead_clusters": int((usage == 0).sum()),
        "clusters_under_10_cells": int((usage < 10).sum()),
    }
