"""Seeded, endless batches of training glyphs held in memory, fed to Keras through tf.data.

Batch ``b`` of the stream comes from pass ``b // batches_per_pass`` (a seeded permutation of the
rows) and gets its own generator for augmentation, so a resumed run sees exactly the batches an
uninterrupted one would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from glyph_train.data.token_confusion import TokenConfusions

# prepare(rows, rng) -> (inputs, targets) for one batch; structures of NumPy arrays.
Prepare = Callable[[np.ndarray, np.random.Generator], tuple[Any, Any]]


class GlyphBatches:
    """Fixed-size batches of ``rows`` in a seeded order, prepared by ``prepare``; the last partial batch of a pass is dropped."""

    def __init__(self, rows: np.ndarray, batch_size: int, seed: int, prepare: Prepare, start_batch: int = 0) -> None:
        self.rows = np.asarray(rows)
        if len(self.rows) < batch_size:
            raise ValueError(f"{len(self.rows)} training glyphs cannot fill one batch of {batch_size}")
        self.batch_size = batch_size
        self.seed = seed
        self.prepare = prepare
        self.start_batch = start_batch
        self.batches_per_pass = len(self.rows) // batch_size

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        batch = self.start_batch
        order, order_pass = None, -1
        while True:
            pass_index, within = divmod(batch, self.batches_per_pass)
            if pass_index != order_pass:
                order = np.random.default_rng([self.seed, pass_index]).permutation(self.rows)
                order_pass = pass_index
            rows = order[within * self.batch_size : (within + 1) * self.batch_size]
            yield self.prepare(rows, np.random.default_rng([self.seed, pass_index, within, 1]))
            batch += 1

    def dataset(self, signature: Any, prefetch: int) -> Any:
        """The stream as a prefetching tf.data.Dataset with the given element signature."""
        import tensorflow as tf

        data = tf.data.Dataset.from_generator(lambda: iter(self), output_signature=signature)
        return data.prefetch(prefetch)


def add_token_noise(
    grids: np.ndarray, low: float, high: float, primitives: int, rng: np.random.Generator, confusions: TokenConfusions | None = None
) -> np.ndarray:
    """Replace a share of each grid's non-empty tokens, drawn from [low, high] per grid, by other non-empty ids:
    as Phase 1 confuses them (``confusions``), or uniformly when none are given.

    Only non-empty cells are touched: Phase 1 confuses one stroke piece with another, while it
    practically never calls a blank cell ink (empty false-positive rate ~0), which is the error this
    noise imitates (docs/training.md).
    """
    if high <= 0:
        return grids
    out = np.array(grids, copy=True)
    rates = rng.uniform(low, high, size=(len(out), 1, 1))
    hit = (out != 0) & (rng.random(out.shape) < rates)
    if confusions is None:
        out[hit] = rng.integers(1, primitives, size=int(hit.sum()))
    else:
        out[hit] = confusions.draw(out[hit], rng)
    return out
