"""The trained pixel baseline as Phase 2's teacher (docs/training.md, "Distillation").

Its softened predictions on every train glyph and on every outline-augmented variant are worked out
once per run, before training, and held sparse (the ``top_k`` most likely labels of each, renormalized):
a training batch then costs a scatter into a dense (batch, classes) target and no teacher forward pass.
The teacher sees the raster of exactly the input Phase 2 trains on, the glyph or the variant drawn
in its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from glyph_core.classifier_config import DistillConfig
from glyph_core.paths import OutputLayout
from glyph_core.rasters import RasterStore

from glyph_train.data.glyphs import GlyphTable, PackedRasters, raster_inputs
from glyph_train.data.variants import Variants
from glyph_train.errors import TrainingInputError
from glyph_train.training import BEST, TrainingState

TEACHER_STAGE = "baseline"


@dataclass(frozen=True)
class TeacherTargets:
    """The teacher's kept labels and probabilities per input: the train rows first, then every variant."""

    ids: np.ndarray  # (R + V, K) int32 label ids
    probs: np.ndarray  # (R + V, K) float32, each row summing to 1
    entry: np.ndarray  # (store rows,) int64: a train row's entry above, -1 for rows that have none
    variants_at: int  # variant v's entry is variants_at + v
    classes: int
    model_hash: str

    def dense(self, rows: np.ndarray, chosen: np.ndarray, picks: np.ndarray) -> np.ndarray:
        """(n, classes) float32 teacher distributions of ``rows``, where positions ``chosen`` were swapped
        for variants ``picks``."""
        entries = self.entry[np.asarray(rows)].copy()
        entries[chosen] = self.variants_at + np.asarray(picks)
        if (entries < 0).any():
            raise KeyError("the teacher has no targets for some of these rows (only train rows have them)")
        out = np.zeros((len(entries), self.classes), dtype=np.float32)
        np.put_along_axis(out, self.ids[entries], self.probs[entries], axis=1)
        return out


def soften(logits: np.ndarray, temperature: float, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """softmax(logits / temperature) cut to its ``top_k`` largest entries and renormalized: (ids, probs)."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    k = min(top_k, scaled.shape[1])
    ids = np.argpartition(-scaled, k - 1, axis=1)[:, :k]
    kept = np.take_along_axis(scaled, ids, axis=1)
    order = np.argsort(-kept, axis=1, kind="stable")
    ids, kept = np.take_along_axis(ids, order, axis=1), np.take_along_axis(kept, order, axis=1)
    # Renormalizing the kept logits' softmax equals cutting the full softmax and renormalizing it.
    probs = np.exp(kept - kept[:, :1])
    probs /= probs.sum(axis=1, keepdims=True)
    return ids.astype(np.int32), probs.astype(np.float32)


def teacher_checkpoint(layout: OutputLayout, source: RasterStore) -> Path:
    """The finished baseline checkpoint of ``layout`` trained on ``source``; refused, naming what to run, otherwise."""
    folder = layout.checkpoints(TEACHER_STAGE)
    state = TrainingState.load(folder)
    run = "run `glyph-train baseline` first (`glyph-train pipeline` does, when loss.distill.weight > 0)"
    if state is None or not (folder / BEST).is_file():
        raise TrainingInputError(f"loss.distill.weight > 0 needs the trained baseline as its teacher, and {folder} holds none: {run}")
    if not state.finished:
        raise TrainingInputError(f"the baseline at {folder} has not finished training (epoch {state.epoch}): {run}")
    for key, ours in (("rasters_build_id", source.build_id), ("label_map_hash", source.label_map_hash)):
        theirs = state.identity.get(key)
        if theirs != ours:
            raise TrainingInputError(f"the baseline at {folder} was trained with {key} {theirs}, these rasters have {ours}: {run}")
    return folder / BEST


def teacher_targets(
    layout: OutputLayout,
    source: RasterStore,
    table: GlyphTable,
    train_rows: np.ndarray,
    variants: Variants | None,
    config: DistillConfig,
    batch_size: int,
) -> TeacherTargets:
    """The baseline's softened predictions on ``train_rows`` and on every variant (which must hold its rasters)."""
    from tqdm import tqdm

    from glyph_train.baseline.model import load_baseline
    from glyph_train.phase1.evaluate import model_hash
    from glyph_train.predict import predict_logits

    model = load_baseline(teacher_checkpoint(layout, source), compile=False)
    rasters = PackedRasters(source, train_rows)
    count = len(variants.side) if variants is not None else 0
    if count and variants.packed is None:  # type: ignore[union-attr]
        raise ValueError("the teacher needs the variants' rasters (load_variants(..., rasters=True))")
    parts: list[tuple[np.ndarray, np.ndarray]] = []

    def keep(inputs: dict[str, np.ndarray]) -> None:
        parts.append(soften(predict_logits(model, inputs, batch_size), config.temperature, config.top_k))
        bar.update(len(inputs["side"]))

    with tqdm(total=len(train_rows) + count, desc="teacher (baseline) predictions", unit="glyph", leave=False) as bar:
        for start in range(0, len(train_rows), batch_size):
            keep(raster_inputs(rasters, table, train_rows[start : start + batch_size]))
        for start in range(0, count, batch_size):
            picks = np.arange(start, min(start + batch_size, count))
            keep(raster_inputs(rasters, table, picks, variants.masks(picks), variants.side[picks]))  # type: ignore[union-attr]
    entry = np.full(source.count, -1, dtype=np.int64)
    entry[train_rows] = np.arange(len(train_rows))
    ids, probs = (np.concatenate(column) for column in zip(*parts))
    return TeacherTargets(ids, probs, entry, len(train_rows), len(table.labels), model_hash(model))
