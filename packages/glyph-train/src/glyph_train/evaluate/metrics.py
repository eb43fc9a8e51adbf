"""Glyph classification metrics of one way (a model on one split): pure NumPy, JSON-ready results.

All ids are in the model's label space. "Strict" counts only the true label as correct; "alt-aware"
also accepts a twin: another label that the same font draws with an identical outline, which no
model can tell apart from the true one by looking at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

TOP5 = 5
UNKNOWN_GROUP = "(unknown)"  # the group of rows whose attribute id is -1

# Breakdown and subset names the report reads; the caller builds them under these keys.
CHAR_CLASS, FONT, DESIGN = "char_class", "font", "design"
# Marks (the diacritic char class) and other glyphs drawn at mark size are reported apart: the first
# are a label question, the second a size question.
MARKS, SMALL_GLYPHS, LIGATURES = "marks", "small glyphs", "ligatures"
INTERVAL_LEVEL = 0.95
INTERVAL_METRICS = ("top1_strict", "top1_alt", "top5_strict", "top5_alt")


@dataclass(frozen=True)
class Grouping:
    """Rows grouped by one attribute: ``ids`` (N,) indexes ``names``, -1 where the attribute is unknown."""

    ids: np.ndarray
    names: Sequence[str]


def map_labels(names_from: Sequence[str], names_to: Sequence[str]) -> np.ndarray:
    """Index array taking an id of ``names_from`` to the id of the same name in ``names_to`` (-1: unknown there)."""
    position = {name: i for i, name in enumerate(names_to)}
    return np.array([position.get(name, -1) for name in names_from], dtype=np.int64)


def to_label_space(ids: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Ids (any shape, -1 padding kept) expressed through ``mapping`` from :func:`map_labels`."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.where(ids >= 0, mapping[np.maximum(ids, 0)], -1)


def split_unknown(true_from: np.ndarray, mapping: np.ndarray, names_from: Sequence[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Mask of rows whose true label (source space) the model knows, and a report of the others.

    The unknown rows cannot be scored against the model's classes, so they are counted apart, by
    label name (most frequent first), rather than dropped without a trace.
    """
    true_from = np.asarray(true_from, dtype=np.int64)
    known = mapping[true_from] >= 0
    ids, counts = np.unique(true_from[~known], return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], names_from[ids[i]]))
    labels = {str(names_from[ids[i]]): int(counts[i]) for i in order}
    return known, {"rows": int((~known).sum()), "labels": labels}


def _share(numerator: float, denominator: float) -> float | None:
    return float(numerator / denominator) if denominator else None


def _accepted(true: np.ndarray, twins: np.ndarray) -> np.ndarray:
    """(N, 1 + T) labels that count as correct per row, -1 padded."""
    return np.concatenate([true[:, None], twins], axis=1)


def _hits(predicted: np.ndarray, accepted: np.ndarray) -> np.ndarray:
    """(N, k) True where a prediction is one of the row's accepted labels (padding never matches)."""
    return ((predicted[:, :, None] == accepted[:, None, :]) & (accepted[:, None, :] >= 0)).any(axis=2)


def twin_counts(true: np.ndarray, twins: np.ndarray) -> np.ndarray:
    """(N,) number of distinct twins per row, ignoring padding and a twin equal to the true label."""
    ordered = np.sort(np.where(twins == true[:, None], -1, twins), axis=1)
    first = np.ones(ordered.shape, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    return ((ordered >= 0) & first).sum(axis=1)


def f1_scores(true: np.ndarray, predicted: np.ndarray, num_classes: int) -> dict[str, float | None]:
    """Macro F1 (unweighted mean over the labels present in ``true``) and support-weighted F1.

    A label predicted but never true has no support, so it adds false positives to the others' scores
    without a score of its own (sklearn's ``f1_score(labels=unique(true))``).
    """
    support = np.bincount(true, minlength=num_classes)
    predicted_count = np.bincount(predicted, minlength=num_classes)
    right = np.bincount(true[true == predicted], minlength=num_classes)
    present = support > 0
    if not present.any():
        return {"macro": None, "weighted": None}
    f1 = 2 * right[present] / (support[present] + predicted_count[present])
    return {"macro": float(f1.mean()), "weighted": float((f1 * support[present]).sum() / support[present].sum())}


def _group_table(grouping: Grouping, strict: np.ndarray, alt: np.ndarray, min_group_size: int) -> dict[str, Any]:
    """Per-group counts and top-1 accuracies, and the spread of top-1 alt-aware accuracy over groups.

    The summary leaves out the unknown group and groups under ``min_group_size`` rows, whose
    accuracy is too noisy to say anything about the spread. The std is the population std.
    """
    ids = np.asarray(grouping.ids, dtype=np.int64)
    unknown = len(grouping.names)  # the last slot holds the unknown group
    slots = np.where(ids < 0, unknown, ids)
    size = unknown + 1
    count = np.bincount(slots, minlength=size)
    strict_right = np.bincount(slots, weights=strict, minlength=size)
    alt_right = np.bincount(slots, weights=alt, minlength=size)
    groups, summarized = [], []
    for slot in np.flatnonzero(count):
        name = UNKNOWN_GROUP if slot == unknown else str(grouping.names[slot])
        accuracy = float(alt_right[slot] / count[slot])
        groups.append({"name": name, "count": int(count[slot]), "top1_strict": float(strict_right[slot] / count[slot]), "top1_alt": accuracy})
        if slot != unknown and count[slot] >= min_group_size:
            summarized.append(accuracy)
    values = np.array(summarized)
    summary: dict[str, Any] = {"groups": len(summarized), "min_group_size": min_group_size}
    for key, reduce in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max)):
        summary[key] = float(reduce(values)) if len(values) else None
    return {"groups": groups, "summary": summary}


def _subset(mask: np.ndarray, strict_top1: np.ndarray, alt_top1: np.ndarray, alt_top5: np.ndarray) -> dict[str, Any]:
    count = int(mask.sum())
    return {
        "count": count,
        "top1_strict": _share(strict_top1[mask].sum(), count),
        "top1_alt": _share(alt_top1[mask].sum(), count),
        "top5_alt": _share(alt_top5[mask].sum(), count),
    }


def _top_confusions(true: np.ndarray, predicted: np.ndarray, errors: np.ndarray, num_classes: int, top: int) -> list[dict[str, int]]:
    """The most frequent (true, predicted) pairs among the rows in ``errors``: count desc, then ids."""
    pairs, counts = np.unique(true[errors] * num_classes + predicted[errors], return_counts=True)
    order = np.lexsort((pairs, -counts))[:top]  # np.unique sorts pairs by (true, predicted) already
    return [{"true": int(pairs[i] // num_classes), "predicted": int(pairs[i] % num_classes), "count": int(counts[i])} for i in order]


def resample_weights(groups: int, resamples: int, seed: int = 0) -> np.ndarray:
    """(resamples, groups): how often each group is drawn in each bootstrap resample (with replacement)."""
    drawn = np.random.default_rng(seed).integers(0, groups, size=(resamples, groups))
    return np.stack([np.bincount(row, minlength=groups) for row in drawn]).astype(np.float64)


def design_intervals(
    design: np.ndarray, hits: Mapping[str, np.ndarray], resamples: int, seed: int = 0, level: float = INTERVAL_LEVEL
) -> dict[str, Any]:
    """Percentile bootstrap intervals of per-glyph shares, resampling design groups (not glyphs) with replacement.

    Glyphs of one design succeed or fail together, so a glyph-level interval would be far too narrow
    when a split holds a dozen designs. ``design`` (N,) ids, -1 (unknown) counted as one more group;
    ``hits`` maps a metric name to an (N,) 0/1 array. Intervals are None with fewer than two designs.
    """
    design = np.asarray(design, dtype=np.int64)
    _, slots = np.unique(design, return_inverse=True)
    groups = int(slots.max()) + 1 if len(slots) else 0
    out: dict[str, Any] = {"designs": groups, "resamples": resamples, "level": level}
    if groups < 2 or resamples < 1:
        return out | {name: None for name in hits}
    count = np.bincount(slots, minlength=groups).astype(np.float64)
    weights = resample_weights(groups, resamples, seed)
    tail = 100 * (1 - level) / 2
    for name, hit in hits.items():
        right = np.bincount(slots, weights=np.asarray(hit, dtype=np.float64), minlength=groups)
        shares = (weights @ right) / (weights @ count)
        out[name] = [float(np.percentile(shares, tail)), float(np.percentile(shares, 100 - tail))]
    return out


def glyph_metrics(
    topk: np.ndarray,
    true: np.ndarray,
    twins: np.ndarray,
    num_classes: int,
    breakdowns: Mapping[str, Grouping],
    subsets: Mapping[str, np.ndarray],
    min_group_size: int,
    top_confusions: int,
    bootstrap_resamples: int = 1000,
) -> dict[str, Any]:
    """Accuracy, F1, ceilings, per-group and per-subset accuracy, per-class accuracy and top confusions.

    ``topk`` (N, k) predicted ids best first; ``true`` (N,); ``twins`` (N, T) -1 padded; ``subsets``
    maps a name to an (N,) bool mask. Shares are None where no row counts (never NaN), so the
    result can be written as strict JSON.

    - ``twin_free_share``: share of rows with no twin (not a ceiling: a model can earn strict top-1 on a
      twin row by luck).
    - ``expected_strict_ceiling``: mean of 1 / (1 + twins) over rows, the strict top-1 of a model that
      is always alt-aware right and picks uniformly among the indistinguishable labels.
    - ``intervals``: 95% bootstrap intervals over design groups (``design_intervals``) of the four
      top-k shares, when a ``DESIGN`` breakdown is given.
    """
    topk = np.asarray(topk, dtype=np.int64)
    true = np.asarray(true, dtype=np.int64)
    twins = np.asarray(twins, dtype=np.int64)
    top1 = topk[:, 0]
    top5 = topk[:, : min(topk.shape[1], TOP5)]
    alt_hits = _hits(top5, _accepted(true, twins))
    strict_top1, alt_top1 = top1 == true, alt_hits[:, 0]
    strict_top5, alt_top5 = (top5 == true[:, None]).any(axis=1), alt_hits.any(axis=1)
    n = len(true)
    twin_count = twin_counts(true, twins)
    strict_f1 = f1_scores(true, top1, num_classes)
    forgiven = np.where(alt_top1, true, top1)  # a twin prediction becomes the true label
    support = np.bincount(true, minlength=num_classes)
    alt_right = np.bincount(true, weights=alt_top1, minlength=num_classes)
    present = np.flatnonzero(support)
    return {
        "count": n,
        "top1_strict": _share(strict_top1.sum(), n),
        "top5_strict": _share(strict_top5.sum(), n),
        "top1_alt": _share(alt_top1.sum(), n),
        "top5_alt": _share(alt_top5.sum(), n),
        "twin_free_share": _share((twin_count == 0).sum(), n),
        "expected_strict_ceiling": _share((1.0 / (1 + twin_count)).sum(), n),
        "macro_f1": strict_f1["macro"],
        "weighted_f1": strict_f1["weighted"],
        "macro_f1_alt": f1_scores(true, forgiven, num_classes)["macro"],
        "breakdowns": {name: _group_table(g, strict_top1, alt_top1, min_group_size) for name, g in breakdowns.items()},
        "subsets": {name: _subset(np.asarray(mask, dtype=bool), strict_top1, alt_top1, alt_top5) for name, mask in subsets.items()},
        "per_class": {
            "label": present.tolist(),
            "count": support[present].tolist(),
            "top1_alt": (alt_right[present] / support[present]).tolist(),
        },
        "top_confusions": _top_confusions(true, top1, ~alt_top1, num_classes, top_confusions),
        **({"intervals": design_intervals(
            breakdowns[DESIGN].ids,
            {"top1_strict": strict_top1, "top1_alt": alt_top1, "top5_strict": strict_top5, "top5_alt": alt_top5},
            bootstrap_resamples,
        )} if DESIGN in breakdowns else {}),
    }  # fmt: skip
