"""A bundle's retrieval index (docs/export.md): every store glyph's features and the bundle's own
float32 prediction for it, written once by `glyph-train export`, read by `rasterd serve` for similar
glyphs and the review queue. Exact cosine search (a matrix product over unit rows): on the built-in
store it answers in milliseconds, so no approximate library is needed (docs/serve.md).

Ranking can also weigh what the model believes (docs/export.md, "Similar glyphs"): a candidate's
score is its cosine similarity plus ``label_weight`` times the probability the query's prediction
gives the candidate's label (read from the query's top-k, 0 outside it). At weight 0 it is the plain
cosine order; the export measures both and the bundle names its weight."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from glyph_core.bundle import BundleError

ReviewOrder = Literal["confident_wrong", "uncertain"]
# name -> (dtype kind, dimensions) of every array the file holds.
FIELDS = {
    "glyph_id": ("i", 1), "font": ("i", 1), "split": ("i", 1), "label": ("i", 1), "twin_labels": ("i", 2),
    "features": ("f", 2), "top": ("i", 2), "top_probability": ("f", 2), "font_hashes": ("U", 1),
}  # fmt: skip


def label_belief(top: np.ndarray, top_probability: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(q, n) float32: for each query (its top-k labels and their probabilities) the probability it gives
    each of ``labels`` (n candidates' labels), 0 for a label outside its top-k."""
    top, labels = np.atleast_2d(top), np.asarray(labels)
    probability = np.atleast_2d(np.asarray(top_probability, dtype=np.float32))
    belief = np.zeros((len(top), len(labels)), np.float32)
    for j in range(top.shape[1]):
        belief += (labels[None, :] == top[:, j, None]) * probability[:, j, None]
    return belief


def ranking_scores(similarity: np.ndarray, belief: np.ndarray | None, label_weight: float) -> np.ndarray:
    """What similar glyphs are ordered by: cosine similarity, plus ``label_weight`` times the label belief."""
    return similarity if belief is None or label_weight == 0 else similarity + label_weight * belief


@dataclass(frozen=True, eq=False)
class RetrievalIndex:
    glyph_id: np.ndarray  # (n,) int64, ascending
    font: np.ndarray  # (n,) codes into font_hashes
    split: np.ndarray  # (n,) split codes (glyph_core.splits)
    label: np.ndarray  # (n,) label ids of the bundle's label map
    twin_labels: np.ndarray  # (n, T) twin label ids, -1 padded
    features: np.ndarray  # (n, d) float32, unit rows
    top: np.ndarray  # (n, k) the bundle's best labels, best first
    top_probability: np.ndarray  # (n, k) their probabilities
    font_hashes: np.ndarray  # (fonts,) str

    def __len__(self) -> int:
        return len(self.glyph_id)

    def save(self, path: str | Path) -> None:
        np.savez(path, **{name: getattr(self, name) for name in FIELDS})

    @classmethod
    def load(cls, path: str | Path) -> RetrievalIndex:
        """The index at ``path``; BundleError naming what is missing or malformed."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in FIELDS if name in data}
        except (OSError, ValueError) as exc:
            raise BundleError(f"retrieval index {path}: unreadable ({exc})") from None
        missing = sorted(set(FIELDS) - set(arrays))
        if missing:
            raise BundleError(f"retrieval index {path}: no {', '.join(missing)} (re-export the bundle)")
        for name, (kind, ndim) in FIELDS.items():
            array = arrays[name]
            if array.dtype.kind not in (kind, "u" if kind == "i" else kind) or array.ndim != ndim:
                raise BundleError(f"retrieval index {path}: {name} is {array.dtype} with {array.ndim} dimensions")
            if name != "font_hashes" and len(array) != len(arrays["glyph_id"]):
                raise BundleError(f"retrieval index {path}: {name} has {len(array)} rows, glyph_id {len(arrays['glyph_id'])}")
        if np.any(np.diff(arrays["glyph_id"]) <= 0):
            raise BundleError(f"retrieval index {path}: glyph ids are not ascending")
        arrays["features"] = np.ascontiguousarray(arrays["features"], dtype=np.float32)
        return cls(**arrays)

    def row_of(self, glyph_id: int) -> int | None:
        row = int(np.searchsorted(self.glyph_id, glyph_id))
        return row if row < len(self.glyph_id) and int(self.glyph_id[row]) == glyph_id else None

    def nearest(
        self, query: np.ndarray, k: int, exclude_font: int | None = None, splits: list[int] | None = None,
        query_top: tuple[np.ndarray, np.ndarray] | None = None, label_weight: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of the ``k`` best-ranked glyphs for the unit vector ``query`` (exact, best first), their
        cosine similarities and their ranking scores; glyphs of ``exclude_font`` left out, only ``splits``
        when given. ``query_top`` (the query's top-k labels and probabilities) with ``label_weight`` > 0
        ranks by :func:`ranking_scores`; otherwise score = similarity."""
        similarity = self.features @ np.asarray(query, dtype=np.float32)
        belief = label_belief(*query_top, self.label)[0] if query_top is not None and label_weight else None
        score = ranking_scores(similarity, belief, label_weight)
        allowed = np.ones(len(self), bool)
        if exclude_font is not None:
            allowed &= self.font != exclude_font
        if splits is not None:
            allowed &= np.isin(self.split, splits)
        score = np.where(allowed, score, -np.inf)
        k = min(k, int(allowed.sum()))
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.float32)
        best = np.argpartition(-score, k - 1)[:k]
        best = best[np.argsort(-score[best], kind="stable")]
        return best, similarity[best].astype(np.float32), score[best].astype(np.float32)

    def is_right(self) -> np.ndarray:
        """Per row: the bundle's top-1 is the label or one of its twins (alt-aware)."""
        top1 = self.top[:, :1]
        return (top1 == self.label[:, None]).any(axis=1) | (top1 == self.twin_labels).any(axis=1)

    def margin(self) -> np.ndarray:
        """Top-1 minus top-2 probability: small when the model hesitates between two labels."""
        second = self.top_probability[:, 1] if self.top_probability.shape[1] > 1 else 0.0
        return self.top_probability[:, 0] - second

    def review(self, order: ReviewOrder, splits: list[int] | None = None) -> np.ndarray:
        """Rows for the review queue: ``confident_wrong`` (top-1 is neither the label nor a twin, most
        confident first: label-noise candidates) or ``uncertain`` (smallest top-1/top-2 margin first:
        what to label or look at next)."""
        chosen = np.ones(len(self), bool) if splits is None else np.isin(self.split, splits)
        if order == "confident_wrong":
            rows = np.flatnonzero(chosen & ~self.is_right())
            return rows[np.argsort(-self.top_probability[rows, 0], kind="stable")]
        rows = np.flatnonzero(chosen)
        return rows[np.argsort(self.margin()[rows], kind="stable")]
