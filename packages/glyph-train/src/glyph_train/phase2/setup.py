"""What the Phase 2 run and the joint fine-tuning share: the grids they read, and how a grid
classifier is compiled (docs/phase2.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from glyph_core.classifier_config import Phase2Config, Phase2Profile
from glyph_core.paths import OutputLayout
from glyph_core.store import open_store

from glyph_train.data.glyphs import GlyphTable, load_glyph_table, load_grids
from glyph_core.rasters import RasterStore, open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.optim import make_optimizer
from glyph_train.phase2.heads import LabelAccuracy, LabelTopK, MarginCrossEntropy
from glyph_train.training import TrainSettings

MONITOR = "val_logits_accuracy"  # early stopping and best.keras follow the label head's val accuracy


@dataclass
class GridData:
    """Everything Phase 2 reads, loaded once."""

    source: RasterStore
    table: GlyphTable
    centroids: np.ndarray
    centroid_hash: str
    true_grids: np.ndarray
    predicted_grids: np.ndarray
    phase1_model_hash: str

    @property
    def vocab(self) -> int:
        return len(self.centroids) + 1


def load_grid_data(layout: OutputLayout) -> GridData:
    source = open_rasters(layout)
    table = load_glyph_table(source, layout)
    centroids, chash = load_centroids(layout.centroids, source.cell_size)
    expect = {"centroid_hash": chash, "label_map_hash": source.label_map_hash}
    true_grids = load_grids(layout.grids_store, "grids", source, expect)
    predicted = load_grids(layout.predicted_grids_store, "predicted_grids", source, expect)
    phase1_hash = str(open_store(layout.predicted_grids_store, "predicted_grids").attrs["model_hash"])
    return GridData(source, table, centroids, chash, true_grids, predicted, phase1_hash)


def compile_phase2(model: keras.Model, config: Phase2Config, profile: Phase2Profile, settings: TrainSettings, classes: int) -> None:
    """AdamW (cosine or plateau), smoothed cross-entropy with the margin in the loss, the auxiliary loss, top-1/top-5."""
    margin = profile.margin
    losses: dict[str, Any] = {
        "logits": MarginCrossEntropy(
            classes, margin.scale, margin.kind, 0.0, config.loss.label_smoothing, name="label_loss", twin_aware=config.loss.twin_aware,
            distill_weight=config.loss.distill.weight, distill_temperature=config.loss.distill.temperature,
        )
    }
    weights = {"logits": 1.0}
    if config.loss.aux_diacritic_weight > 0:
        losses["diacritic"] = keras.losses.BinaryCrossentropy(from_logits=True, name="diacritic_loss")
        weights["diacritic"] = config.loss.aux_diacritic_weight
    model.compile(
        optimizer=make_optimizer(config.schedule, settings.learning_rate, settings.epochs * settings.steps_per_epoch, settings.steps_per_epoch),
        loss=losses,
        loss_weights=weights,
        metrics={"logits": [
            LabelAccuracy(name="accuracy"),
            LabelTopK(k=5, name="top5"),
        ]},
    )  # fmt: skip


def label_loss(model: keras.Model) -> MarginCrossEntropy:
    """The compiled label loss (fresh or restored from a checkpoint), whose margin the warm-up drives."""
    loss = model.loss["logits"] if isinstance(model.loss, dict) or hasattr(model.loss, "keys") else model.loss
    if not isinstance(loss, MarginCrossEntropy):
        raise TypeError(f"expected the label loss to be MarginCrossEntropy, found {type(loss).__name__}")
    return loss
