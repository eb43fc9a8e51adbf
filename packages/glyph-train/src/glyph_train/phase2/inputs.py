"""Phase 2 inputs: grids (some drawn from the outline-augmented variants, + token noise) and targets, per batch.

Pure NumPy on arrays held in memory; ``GlyphBatches`` turns ``prepare`` into a resumable tf.data stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from glyph_core.classifier_config import GridInputConfig
from glyph_core.store import MAX_TWINS

from glyph_train.data.glyph_stream import add_token_noise
from glyph_train.data.glyphs import AUX_TARGETS, SIDE_FEATURES, GlyphTable
from glyph_train.data.token_confusion import TokenConfusions
from glyph_train.data.variants import Variants
from glyph_train.phase2.teacher import TeacherTargets


def model_inputs(grids: np.ndarray, table: GlyphTable, rows: np.ndarray, side: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """What a GridClassifier eats for ``rows``: their (n, G, G) grids and size cues (the rows' own by default)."""
    return {"grid": np.asarray(grids, dtype=np.int32), "side": table.side[rows] if side is None else side}


def model_targets(table: GlyphTable, rows: np.ndarray, aux: bool) -> dict[str, np.ndarray]:
    """The label with its twins (``GlyphTable.label_sets``; the loss decides whether twins count) and the auxiliary targets."""
    targets = {"logits": table.label_sets(rows)}
    if aux:
        targets["diacritic"] = table.aux_targets(rows)
    return targets


@dataclass
class GridPreparer:
    """Training batches: the chosen grids of ``rows``, a share swapped for a variant's grid and size
    cues (``config.augment``), then token noise; with a teacher, its distribution on each glyph (or the
    variant drawn in its place) follows the label set in the label target."""

    table: GlyphTable
    grids: np.ndarray  # (N, G, G) grids training reads (Phase 1's or the true ones), all rows
    config: GridInputConfig
    vocab: int
    aux: bool
    variants: Variants | None = None  # with grids; needed when config.augment.share > 0
    confusions: TokenConfusions | None = None  # where token noise draws from; None: uniformly
    teacher: TeacherTargets | None = None  # loss.distill: the baseline's softened predictions

    def __post_init__(self) -> None:
        if self.config.augment.share > 0 and (self.variants is None or self.variants.grids is None):
            raise ValueError("input.augment.share > 0 needs the variants with their grids")

    def __call__(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        grids, side = self.grids[rows].copy(), self.table.side[rows].copy()
        chosen = picks = np.zeros(0, dtype=np.int64)
        if self.variants is not None and self.config.augment.share > 0:
            chosen, picks = self.variants.draw(rows, self.config.augment.share, rng)
            grids[chosen], side[chosen] = self.variants.grids[picks], self.variants.side[picks]
        low, high = self.config.token_noise
        grids = add_token_noise(grids, low, high, self.vocab, rng, self.confusions)
        targets = model_targets(self.table, rows, self.aux)
        if self.teacher is not None:
            targets["logits"] = np.concatenate([targets["logits"].astype(np.float32), self.teacher.dense(rows, chosen, picks)], axis=1)
        return model_inputs(grids, self.table, rows, side), targets


def signature(grid_side: int, aux: bool, teacher_classes: int = 0) -> tuple[Any, Any]:
    """The training stream's element spec; ``teacher_classes`` > 0 when label targets carry a teacher's distribution."""
    import tensorflow as tf

    inputs = {
        "grid": tf.TensorSpec((None, grid_side, grid_side), tf.int32),
        "side": tf.TensorSpec((None, len(SIDE_FEATURES)), tf.float32),
    }
    targets = {"logits": tf.TensorSpec((None, 1 + MAX_TWINS + teacher_classes), tf.float32 if teacher_classes else tf.int32)}
    if aux:
        targets["diacritic"] = tf.TensorSpec((None, len(AUX_TARGETS)), tf.float32)
    return inputs, targets
