"""Configs of the cell side of training: the primitive vocabulary and Phase 1 (docs/tokenization.md,
docs/phase1.md). Same rules as ``glyph_core.config``: every default lives here and is written out in
configs/*.yaml."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from glyph_core.config import DistributeConfig, OutputsConfig, ProfiledConfig, StrictModel, batch_norm_momentum_field


class PrimitivesConfig(StrictModel):
    """`glyph-train primitives`: non-empty train-split cells -> k-means primitive centroids (docs/tokenization.md)."""

    env_prefix: ClassVar[str | None] = "PRIMITIVES_"

    outputs: OutputsConfig = OutputsConfig()
    seed: int = Field(42, description="Seeds the cell sample, the k-means++ seeding sample and k-means++ itself.")
    clusters: int = Field(
        1023, ge=2, le=65534, description="k: primitive ids 1..k, 0 = empty (511 / 1023 / 2047 for the docs/evaluation.md ablation)."
    )
    sample_cells: int = Field(
        1_000_000,
        ge=1,
        le=16_000_000,
        description="Non-empty train-split cells sampled without replacement (all when fewer); below 2**24 the "
        "pattern counts sum exactly in float32, which keeps k-means deterministic.",
    )
    init_patterns: int = Field(
        16_000, ge=1, description="Distinct patterns, drawn by count, that k-means++ seeds from (seeding from all costs minutes)."
    )
    max_iter: int = Field(100, ge=1, description="Most Lloyd iterations.")
    tolerance: float = Field(1e-4, ge=0, description="Lloyd stops when centroids move less than this (scikit-learn's relative tol).")
    thumbnail_scale: int = Field(4, ge=1, le=32, description="Screen pixels per cell pixel in the thumbnail sheet.")


class CellAugmentConfig(StrictModel):
    """Augmentation of the whole raster before it is cut into cells (docs/phase1.md, docs/training.md)."""

    translate_px: int = Field(2, ge=0, le=8, description="Shift drawn uniformly from [-t, t] per axis; ink pushed off the canvas is lost.")
    blur_sigma_max: float = Field(0.6, ge=0, le=2, description="Gaussian blur with sigma drawn uniformly from [0, max] per raster.")
    gamma_jitter: float = Field(0.2, ge=0, le=1, description="Gamma drawn log-uniformly from [exp(-j), exp(j)], applied after blur.")
    shift_diacritics: bool = Field(False, description="False keeps diacritics at their top-left anchor (docs/training.md).")


class CellStreamConfig(StrictModel):
    """How training cells are read from the rasters store and batched."""

    workers: int = Field(2, ge=1, description="Threads preparing chunks (threads, not processes: zarr v3 must not be forked).")
    shuffle_chunks: int = Field(8, ge=1, description="Chunks whose cells are mixed in the shuffle buffer.")
    prefetch_batches: int = Field(8, ge=1, description="Batches tf.data keeps ready ahead of the model.")
    empty_share: float = Field(
        0.1, ge=0, lt=1, description="Empty cells kept per chunk so that they make at most this share of the training cells."
    )
    empty_weight: float = Field(1.0, gt=0, description="Loss weight of a cell whose target is empty (0).")


class CellModelConfig(StrictModel):
    """The Phase 1 CNN (docs/phase1.md): conv blocks (conv, ReLU, BN, 2x2 max-pool), a hidden layer, dropout, logits."""

    conv_filters: list[int] = Field(default_factory=lambda: [32, 64], min_length=1, description="Filters per conv block.")
    hidden_units: int = Field(128, ge=1)
    dropout: float = Field(0.2, ge=0, lt=1)
    batch_norm_momentum: float = batch_norm_momentum_field()


class Phase1Profile(StrictModel):
    """The settings a profile may change (`training` in the YAML: the full GPU run's values)."""

    epochs: int = Field(60, ge=1, description="Most epochs (early stopping may end sooner).")
    epoch_cells: int | None = Field(None, ge=1, description="Training cells per epoch; null = one pass over the train split.")
    batch_size: int = Field(1024, ge=1, description="Global batch, split evenly across replicas.")
    learning_rate: float = Field(1e-3, gt=0, description="Peak learning rate for the global batch (never rescaled implicitly).")
    early_stopping_patience: int = Field(8, ge=1, description="Epochs without a better val accuracy before stopping.")
    val_cells: int | None = Field(None, ge=1, description="Cells of the early-stopping val set; null = every kept val cell.")
    augmented_eval_rasters: int = Field(2000, ge=1, description="Rasters per split scored under augmentation.")


def _phase1_profiles() -> dict[str, dict[str, Any]]:
    return {
        "quick": {"epochs": 3, "epoch_cells": 400_000, "early_stopping_patience": 2, "val_cells": 100_000,
                  "augmented_eval_rasters": 500},
        "full": {},
    }  # fmt: skip


class Phase1EvaluateConfig(StrictModel):
    """Phase 1 metrics (docs/phase1.md) on the val and test designs."""

    batch_size: int = Field(8192, ge=1, description="Cells per inference batch.")
    frequency_buckets: list[float] = Field(
        default_factory=lambda: [0.1, 0.5, 0.9],
        description="Rank fractions splitting primitives, most frequent in train first, into accuracy buckets.",
    )
    top_confusions: int = Field(20, ge=1, description="Most frequent (true, predicted) primitive pairs reported.")

    @model_validator(mode="after")
    def _buckets_increase(self) -> Phase1EvaluateConfig:
        edges = self.frequency_buckets
        if any(not 0 < e < 1 for e in edges) or edges != sorted(set(edges)):
            raise ValueError(f"frequency_buckets must increase strictly inside (0, 1), got {edges}")
        return self


class Phase1Config(ProfiledConfig):
    """`glyph-train phase1`: rasters store + centroids -> cell classifier, metrics, predicted-grids store."""

    env_prefix: ClassVar[str | None] = "PHASE1_"

    outputs: OutputsConfig = OutputsConfig()
    seed: int = Field(42, description="Seeds weights, cell sampling, augmentation and shuffling.")
    profile: Literal["quick", "full"] = Field("quick", description="Which entry of `profiles` applies.")
    training: Phase1Profile = Phase1Profile()
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=_phase1_profiles, description="Per profile, only what it changes in `training`."
    )
    weight_decay: float = Field(1e-4, ge=0, description="AdamW decoupled weight decay, on kernels only (docs/training.md).")
    final_lr_fraction: float = Field(0.01, ge=0, le=1, description="Cosine decay ends at learning_rate times this.")
    model: CellModelConfig = CellModelConfig()
    augment: CellAugmentConfig = CellAugmentConfig()
    data: CellStreamConfig = CellStreamConfig()
    distribute: DistributeConfig = DistributeConfig()
    evaluate: Phase1EvaluateConfig = Phase1EvaluateConfig()
    resume: bool = Field(True, description="Continue from outputs/checkpoints/phase1/ when it belongs to this run; false starts over.")
    tensorboard: bool = Field(True, description="Also write TensorBoard logs under outputs/logs/phase1/.")

