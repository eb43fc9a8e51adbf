"""A seeded input pipeline from a rasters store: whole-chunk reads, threads, a cross-chunk shuffle, tf.data.

zarr reads are fast for whole chunks and slow for scattered rows, so each pass visits the chunks
holding the wanted rows in a seeded random order, prepares every chunk in a thread pool (threads, not
processes: zarr v3 must not be forked once a store is open), mixes the examples of several chunks in
a shuffle buffer and cuts fixed-size batches. The same seed gives the same batches in the same order,
whatever the thread timing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from glyph_core.rasters import RasterStore

Arrays = tuple[np.ndarray, ...]
# prepare(rows, masks, rng) -> arrays with one leading example axis (e.g. inputs, targets, weights)
Prepare = Callable[[np.ndarray, np.ndarray, np.random.Generator], Arrays]
SHUFFLE_STREAM = 2**31 - 1  # seed word of the shuffle generator (pass indices never reach it)


class ChunkStream:
    """An endless, seeded stream of batches prepared from the rasters of ``rows``."""

    def __init__(
        self,
        source: RasterStore,
        rows: np.ndarray,
        prepare: Prepare,
        batch_size: int,
        *,
        seed: Sequence[int],
        shuffle_chunks: int = 8,
        workers: int = 2,
        shard: tuple[int, int] = (0, 1),
    ) -> None:
        self.source = source
        self.rows = np.asarray(rows)
        self.prepare = prepare
        self.batch_size = batch_size
        self.seed = [int(s) for s in seed]
        self.shuffle_chunks = shuffle_chunks
        self.workers = workers
        self.shard = shard
        self.chunks = source.chunks_of(self.rows)
        if len(self.chunks) < shard[1]:
            raise ValueError(f"{len(self.chunks)} chunks cannot feed {shard[1]} input pipelines")

    def _pass_chunks(self, pass_index: int) -> list[int]:
        order = np.random.default_rng([*self.seed, pass_index]).permutation(self.chunks)
        index, count = self.shard
        return [int(c) for c in order[index::count]]

    def _prepare_chunk(self, pass_index: int, chunk: int) -> Arrays:
        span = self.source.chunk_rows(chunk)
        wanted = self.rows[(self.rows >= span.start) & (self.rows < span.stop)]
        masks = self.source.read_chunk(chunk)[wanted - span.start]
        return self.prepare(wanted, masks, np.random.default_rng([*self.seed, pass_index, chunk]))

    def _prepared(self, pool: ThreadPoolExecutor) -> Iterator[Arrays]:
        """Prepared chunks in a fixed order, computed up to ``2 * workers`` ahead."""
        pending: deque[Future[Arrays]] = deque()
        pass_index = 0
        while True:
            for chunk in self._pass_chunks(pass_index):
                pending.append(pool.submit(self._prepare_chunk, pass_index, chunk))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().result()
            pass_index += 1

    def batches(self) -> Iterator[Arrays]:
        """Endless batches of exactly ``batch_size`` examples."""
        shuffle_rng = np.random.default_rng([*self.seed, SHUFFLE_STREAM])
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="cells") as pool:
            buffer: list[Arrays] = []
            for prepared in self._prepared(pool):
                buffer.append(prepared)
                if len(buffer) < self.shuffle_chunks:
                    continue
                mixed = tuple(np.concatenate(parts) for parts in zip(*buffer, strict=True))
                order = shuffle_rng.permutation(len(mixed[0]))
                usable = len(order) // self.batch_size * self.batch_size
                for start in range(0, usable, self.batch_size):
                    take = order[start : start + self.batch_size]
                    yield tuple(a[take] for a in mixed)
                rest = order[usable:]
                buffer = [tuple(a[rest] for a in mixed)]

    def dataset(self, signature: Sequence[object], prefetch: int) -> object:
        """The stream as an endless ``tf.data.Dataset`` of batches (``signature``: one TensorSpec per array)."""
        import tensorflow as tf

        spec = tuple(
            tf.TensorSpec((self.batch_size, *s.shape[1:]), s.dtype)  # type: ignore[attr-defined]
            for s in signature
        )
        return tf.data.Dataset.from_generator(self.batches, output_signature=spec).prefetch(prefetch)
