"""Phase 1's measured confusions between primitives, as the distribution token noise draws from.

The noise imitates deployment: where Phase 1 gets a non-empty cell wrong, it mostly swaps a stroke
piece for a similar one, not for any of a thousand primitives at random. Counting, on the train
split, which id Phase 1 predicts for each id of the exact grid gives that distribution
(docs/training.md, "Token noise").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TokenConfusions:
    """Per primitive id, the cumulative distribution of the other non-empty ids Phase 1 gives it instead."""

    cumulative: np.ndarray  # (vocab, vocab - 1) float32; row a over ids 1..vocab-1, the id a itself at zero weight
    observed: np.ndarray  # (vocab,) bool: the id was confused at least once (else the draw is uniform)
    confused_share: float  # share of non-empty exact cells Phase 1 turns into another non-empty id

    @property
    def vocab(self) -> int:
        return int(self.cumulative.shape[0])

    def draw(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A replacement for each non-empty id in ``ids``: another non-empty id, as Phase 1 would confuse it."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 1 or ids.max() >= self.vocab):
            raise ValueError(f"token ids must lie in 1..{self.vocab - 1}")
        u = rng.random(len(ids))
        picked = (self.cumulative[ids] < u[:, None]).sum(axis=1) + 1  # the first id whose cumulative share reaches u
        # Ids never confused on the train split: any other non-empty id, uniformly.
        blind = ~self.observed[ids]
        if blind.any():
            other = rng.integers(1, self.vocab - 1, size=int(blind.sum()))
            picked[blind] = other + (other >= ids[blind])
        return np.minimum(picked, self.vocab - 1).astype(np.int32)


def measure_confusions(true_grids: np.ndarray, predicted_grids: np.ndarray, vocab: int) -> TokenConfusions:
    """Count (exact id -> Phase 1's id) over cells that are non-empty in both and differ."""
    exact = np.asarray(true_grids, dtype=np.int64).ravel()
    predicted = np.asarray(predicted_grids, dtype=np.int64).ravel()
    if exact.shape != predicted.shape:
        raise ValueError(f"exact and predicted grids differ in shape: {true_grids.shape} vs {predicted_grids.shape}")
    ink = exact != 0
    swapped = ink & (predicted != 0) & (predicted != exact)
    counts = np.bincount(exact[swapped] * vocab + predicted[swapped], minlength=vocab * vocab).reshape(vocab, vocab)
    counts = counts[:, 1:].astype(np.float64)  # replacements are never the empty id
    totals = counts.sum(axis=1, keepdims=True)
    observed = totals[:, 0] > 0
    cumulative = np.cumsum(counts / np.where(totals > 0, totals, 1.0), axis=1)
    cumulative[observed, -1] = 1.0  # no rounding gap at the top
    share = float(swapped.sum() / ink.sum()) if ink.any() else 0.0
    return TokenConfusions(cumulative.astype(np.float32), observed, share)
