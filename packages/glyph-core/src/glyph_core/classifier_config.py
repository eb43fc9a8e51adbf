"""Configs of the glyph classifiers and what runs them: Phase 2, the one-stage baseline, evaluation, the pipeline.

Same rules as ``glyph_core.config``: every default lives here and is written out in configs/*.yaml.
Profiles bundle what differs between a CPU sanity run (``quick``, minutes on 2 cores), a CPU run to
convergence (``long``, about an hour) and a GPU run (``full``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from glyph_core.config import DistributeConfig, OutputsConfig, ProfiledConfig, StrictModel, batch_norm_momentum_field

ProfileName = Literal["quick", "long", "full"]


class AugmentDrawConfig(StrictModel):
    """How training draws the outline-augmented variants `rasterd build` writes beside the store
    (docs/training.md "Augmented variants"; how many and how strong: ``augment`` in configs/rasterizer.yaml)."""

    share: float = Field(
        0.5, ge=0, le=1,
        description="Share of training draws that take one of the glyph's variants (picked uniformly) instead of the glyph; 0 turns augmentation off.",
    )  # fmt: skip


class TransformerConfig(StrictModel):
    """docs/phase2.md A: a pre-norm Transformer encoder over cell (or 2x2 patch) tokens."""

    patch: Literal[1, 2] = Field(2, description="1: 256 cell tokens; 2: 64 tokens, each a 2x2 group of cells.")
    layers: int = Field(4, ge=1, le=12)
    d_model: int = Field(256, ge=8)
    heads: int = Field(8, ge=1)
    mlp_dim: int = Field(512, ge=8)
    dropout: float = Field(0.1, ge=0, lt=1)
    pool: Literal["cls", "mean"] = Field("cls", description="CLS token or the mean of the output tokens.")

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerConfig:
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by heads {self.heads}")
        return self


class ResidualCnnConfig(StrictModel):
    """docs/phase2.md B: stages of residual blocks over the (16, 16, embed_dim) embedding map, each after
    the first halving the map and doubling the width, then global average pooling."""

    stage_blocks: list[int] = Field(
        default_factory=lambda: [2, 2, 2], min_length=1, max_length=4,
        description="Residual blocks per stage; a stride-2 convolution starts every stage after the first (16 -> 8 -> 4 cells).",
    )  # fmt: skip
    width: int = Field(64, ge=8, description="Channels of the first stage; each later stage doubles them.")
    dropout: float = Field(0.1, ge=0, lt=1)
    batch_norm_momentum: float = batch_norm_momentum_field()

    @model_validator(mode="after")
    def _blocks_positive(self) -> ResidualCnnConfig:
        if min(self.stage_blocks) < 1:
            raise ValueError(f"every stage needs at least one block, got stage_blocks {self.stage_blocks}")
        return self


class GridModelConfig(StrictModel):
    """The Phase 2 model: embedding + positional encoding (+ size cues), a backbone, a head."""

    backbone: Literal["transformer", "cnn"] = Field("transformer", description="transformer or cnn (docs/phase2.md, \"Backbones\").")
    embed_dim: int = Field(64, ge=4, description="Embedding width of a primitive id (docs/phase2.md).")
    embedding_init: Literal["centroids", "random"] = Field(
        "centroids",
        description="centroids: each primitive's row starts as its centroid's pixels (needs embed_dim = cell size², 64), "
        "so training starts from a picture of the glyph; random: small random vectors.",
    )
    positional: Literal["learned", "sinusoidal"] = Field("learned", description="2D positional encoding.")
    side_input: bool = Field(
        True,
        description="Feed the size cues (major_dim_ratio, aspect, vertical position in the em, is_diacritic) "
        "into every token, so that tight scaling does not erase size and position (docs/phase2.md).",
    )
    transformer: TransformerConfig = TransformerConfig()
    cnn: ResidualCnnConfig = ResidualCnnConfig()
    head_dropout: float = Field(0.1, ge=0, lt=1)


class MarginConfig(StrictModel):
    """ArcFace / CosFace on normalized logits (docs/training.md), warmed up: 0 for `warmup_epochs`, then a linear ramp."""

    kind: Literal["none", "arcface", "cosface"] = Field("none", description="none: a plain dense head.")
    scale: float = Field(30.0, gt=0, description="Logits are scale * cos(angle); validation uses the same logits.")
    target: float = Field(0.15, ge=0, le=1, description="Margin after the ramp (radians for arcface, cosine for cosface).")
    warmup_epochs: int = Field(2, ge=0, description="Epochs trained with margin 0.")
    ramp_epochs: int = Field(3, ge=0, description="Epochs over which the margin grows linearly to `target`.")


class JointConfig(StrictModel):
    """docs/phase2.md: Phase 1 + Phase 2 fine-tuned end to end on rasters (soft primitive embeddings)."""

    enabled: bool = Field(False, description="Run the joint stage after Phase 2 converges.")
    epochs: int = Field(5, ge=1)
    learning_rate: float = Field(1e-4, gt=0)
    batch_size: int = Field(64, ge=1, description="Glyphs per batch (each is 256 Phase 1 cells).")
    train_phase1: Literal["head", "all"] = Field("all", description="head: only Phase 1's final layer; all: the whole cell model.")


class Phase2Profile(StrictModel):
    """The settings a profile may change (`training` in the YAML: the full GPU run's values)."""

    epochs: int = Field(40, ge=1, description="Most epochs (early stopping may end sooner).")
    epoch_glyphs: int | None = Field(None, ge=1, description="Training glyphs per epoch; null = one pass over the train split.")
    batch_size: int = Field(128, ge=1, description="Global batch of glyphs.")
    learning_rate: float = Field(5e-4, gt=0, description="Peak AdamW learning rate.")
    early_stopping_patience: int = Field(6, ge=1, description="Epochs without a better val accuracy before stopping.")
    model: GridModelConfig = GridModelConfig()
    margin: MarginConfig = MarginConfig()
    joint: JointConfig = JointConfig()


# The CPU budgets, shared by Phase 2 and the baseline (same glyphs seen, batch and rate). quick: 4 passes
# of 16K glyphs; 2 passes gave 25.1% alt-aware top-1 end to end on the val designs, 4 give 51.5%, for
# 1.5 more CPU minutes (bench/README.md, "What helps Phase 2 learn"). A peak rate of 4e-3 instead of 2e-3
# helped both ways on the val designs (Phase 2 +5.6 points, the baseline +4.7; "Tuning the quick profiles").
# long: twelve passes over the train split, about 30 minutes per model on 2 cores. Sixteen gave no more on
# the val designs (Phase 2 87.0% alt-aware end to end against 87.3%; "Long CPU profiles, sixteen passes").
CPU_BUDGETS: dict[str, dict[str, Any]] = {
    "quick": {"epochs": 4, "epoch_glyphs": 16_384, "batch_size": 64, "learning_rate": 4e-3, "early_stopping_patience": 4},
    "long": {"epochs": 12, "batch_size": 64, "learning_rate": 4e-3, "early_stopping_patience": 3},
}


def _phase2_profiles() -> dict[str, dict[str, Any]]:
    # CPU profiles: a small residual CNN. At the quick budget (then 2 x 16K glyphs) it reached 25.1% alt-aware
    # top-1 end to end on the val designs against the small Transformer's 8.2%, in 221 s against 188 s
    # (bench/README.md, "Phase 2 backbones"): convolutions over the embedded cell pictures learn per
    # glyph seen far faster than attention over 64 patch tokens. The small Transformer stays configured
    # (backbone: transformer). Both CPU profiles leave the size cues out: added to every cell's embedding
    # they cost Phase 2 4.7 points on val. quick sees under one pass of the train split, so it also drops
    # dropout (+3.7); long, twelve passes, keeps it (not measured at that length).
    small = {"backbone": "cnn", "side_input": False, "cnn": {"stage_blocks": [1, 1, 1], "width": 48},
             "transformer": {"layers": 2, "d_model": 128, "heads": 4, "mlp_dim": 256}}
    no_dropout = {"head_dropout": 0.0, "cnn": {**small["cnn"], "dropout": 0.0}}
    return {
        "quick": {**CPU_BUDGETS["quick"], "model": {**small, **no_dropout}},
        "long": {**CPU_BUDGETS["long"], "model": small},
        "full": {"margin": {"kind": "arcface"}, "joint": {"enabled": True}},
    }  # fmt: skip


class GridInputConfig(StrictModel):
    """What Phase 2 trains on (docs/phase2.md, docs/training.md)."""

    train_grids: Literal["predicted", "true"] = Field(
        "predicted", description="predicted: Phase 1's grids (deployment noise, docs/phase2.md); true: `rasterd tokenize`'s."
    )
    token_noise: list[float] = Field(
        default_factory=lambda: [0.02, 0.05],
        min_length=2,
        max_length=2,
        description="Per glyph, this share of non-empty tokens (drawn from [low, high]) becomes another non-empty primitive; [0, 0] = off.",
    )
    token_noise_from: Literal["confusions", "uniform"] = Field(
        "confusions",
        description="confusions: the replacement is drawn from Phase 1's measured confusions on the train split "
        "(exact grids vs predicted ones); uniform: any non-empty primitive.",
    )
    augment: AugmentDrawConfig = AugmentDrawConfig()
    prefetch_batches: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _noise_range(self) -> GridInputConfig:
        low, high = self.token_noise
        if not 0 <= low <= high < 1:
            raise ValueError(f"token_noise must be [low, high] with 0 <= low <= high < 1, got {self.token_noise}")
        return self


class DistillConfig(StrictModel):
    weight: float = Field(
        0.0, ge=0, le=1,
        description="Share of the label loss given instead to matching the trained pixel baseline's softened predictions "
        "(its checkpoint in the same outputs root, trained first); 0 = off (docs/training.md, \"Distillation\").",
    )
    temperature: float = Field(2.0, gt=0, description="Both models' logits are divided by this before the match (the term is scaled by its square).")
    top_k: int = Field(32, ge=1, description="The teacher's most likely labels kept per glyph (renormalized); the rest of its mass is dropped.")


class LossConfig(StrictModel):
    label_smoothing: float = Field(0.05, ge=0, lt=1)
    twin_aware: bool = Field(
        True,
        description="Train on the label's set: log(p(label) + p(its twins)), twins being labels the same font draws identically; "
        "false: the label alone. Scoring stays strict and alt-aware either way.",
    )
    aux_diacritic_weight: float = Field(
        0.1, ge=0, description="Weight of the auxiliary diacritic-presence loss (is a mark; is drawn at mark size); 0 = off."
    )
    distill: DistillConfig = DistillConfig()


class ScheduleConfig(StrictModel):
    kind: Literal["cosine", "plateau"] = Field("cosine", description="Cosine decay over the run, or ReduceLROnPlateau on val accuracy.")
    weight_decay: float = Field(0.05, ge=0, description="AdamW decoupled weight decay, on kernels only: never biases, normalization, embedding, position or class-token tables (docs/training.md).")
    final_lr_fraction: float = Field(0.01, ge=0, le=1, description="cosine: the rate ends at learning_rate times this.")
    warmup_epochs: float = Field(0.5, ge=0, description="cosine: linear warm-up of the learning rate (Transformers need it).")
    plateau_factor: float = Field(0.5, gt=0, lt=1)
    plateau_patience: int = Field(1, ge=0)


class Phase2Config(ProfiledConfig):
    """`glyph-train phase2`: primitive grids -> glyph labels."""

    env_prefix: ClassVar[str | None] = "PHASE2_"

    outputs: OutputsConfig = OutputsConfig()
    seed: int = 42
    profile: ProfileName = "quick"
    training: Phase2Profile = Phase2Profile()
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=_phase2_profiles, description="Per profile, only what it changes in `training`."
    )
    input: GridInputConfig = GridInputConfig()
    loss: LossConfig = LossConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    distribute: DistributeConfig = DistributeConfig()
    eval_batch_size: int = Field(1024, ge=1, description="Glyphs per inference batch.")
    resume: bool = Field(True, description="Continue from outputs/checkpoints/phase2/ when it belongs to this run.")
    tensorboard: bool = True



class BaselineModelConfig(StrictModel):
    """The one-stage model of docs/evaluation.md over the 128x128 raster: MobileNetV3Small (no pretrained
    weights), or Phase 2's residual CNN behind a learned convolution over each cell's pixels."""

    alpha: float = Field(1.0, gt=0, description="mobilenet: width multiplier of MobileNetV3Small.")
    minimalistic: bool = Field(False, description="mobilenet: Keras' minimalistic variant (no squeeze-excite, no hard-swish).")
    batch_norm_momentum: float = batch_norm_momentum_field()
    cnn: ResidualCnnConfig = Field(
        default_factory=lambda: ResidualCnnConfig(stage_blocks=[1, 1, 1], width=48),
        description="cnn: the stages over the cell map (its own batch_norm_momentum); the default is Phase 2's CPU CNN.",
    )
    cell_pixels: int = Field(
        8, ge=1, description="cnn: side of the pixel square the first convolution reads, with the same stride (the cells Phase 1 sees)."
    )
    side_input: bool = Field(
        True,
        description="Append the size cues Phase 2 gets (major_dim_ratio, aspect, vertical position in the em, is_diacritic), "
        "projected, to the pooled features, so the comparison is of the models, not of their inputs.",
    )
    dropout: float = Field(0.2, ge=0, lt=1)


class BaselineProfile(StrictModel):
    backbone: Literal["mobilenet", "cnn"] = Field(
        "mobilenet", description="mobilenet: MobileNetV3Small; cnn: Phase 2's residual CNN on pixels (docs/evaluation.md)."
    )
    epochs: int = Field(40, ge=1)
    epoch_glyphs: int | None = Field(None, ge=1, description="Training glyphs per epoch; null = one pass over the train split.")
    batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(2e-3, gt=0)
    early_stopping_patience: int = Field(6, ge=1)
    dropout: float | None = Field(
        None, ge=0, lt=1,
        description="Replaces the dropout before the head and in the CNN's blocks (model.dropout, model.cnn.dropout); null keeps them.",
    )  # fmt: skip


def _baseline_profiles() -> dict[str, dict[str, Any]]:
    # The CPU profiles give the baseline Phase 2's budget (same glyphs seen, batch and rate) and its CNN: MobileNetV3Small
    # costs this CPU about 8 ms per training glyph against 3, and at the quick budget its 50 steps stayed at chance.
    # full (GPU): MobileNetV3Small, the published one-stage reference. quick drops dropout as Phase 2's does
    # (+2.5 points on val at lr 4e-3, bench/README.md "Tuning the quick profiles"); long keeps it.
    return {
        "quick": {"backbone": "cnn", **CPU_BUDGETS["quick"], "dropout": 0.0},
        "long": {"backbone": "cnn", **CPU_BUDGETS["long"]},
        "full": {},
    }


class BaselineConfig(ProfiledConfig):
    """`glyph-train baseline`: rasters -> glyph labels in one stage, same splits and label map as Phase 2."""

    env_prefix: ClassVar[str | None] = "BASELINE_"

    outputs: OutputsConfig = OutputsConfig()
    seed: int = 42
    profile: ProfileName = "quick"
    training: BaselineProfile = BaselineProfile()
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=_baseline_profiles, description="Per profile, only what it changes in `training`."
    )
    model: BaselineModelConfig = BaselineModelConfig()
    augment: AugmentDrawConfig = AugmentDrawConfig()
    label_smoothing: float = Field(0.05, ge=0, lt=1)
    twin_aware: bool = Field(True, description="Train on the label's set with its twins, as Phase 2 does (its loss.twin_aware).")
    schedule: ScheduleConfig = ScheduleConfig(weight_decay=1e-4, warmup_epochs=0.0)
    distribute: DistributeConfig = DistributeConfig()
    eval_batch_size: int = Field(256, ge=1)
    prefetch_batches: int = Field(4, ge=1)
    resume: bool = True
    tensorboard: bool = True

    @property
    def active_model(self) -> BaselineModelConfig:
        """``model`` with the active profile's dropout, when it sets one."""
        dropout = self.active.dropout
        if dropout is None:
            return self.model
        return self.model.model_copy(update={"dropout": dropout, "cnn": self.model.cnn.model_copy(update={"dropout": dropout})})



class ExternalSource(StrictModel):
    """Another outputs root (e.g. a user's fonts run through `rasterd ingest` and `rasterd build`)."""

    name: str = Field(description="Name of this source in the report.")
    outputs_root: str = Field(description="Outputs root holding rasters/rasters.zarr (grids are made from the centroids if absent).")
    splits: list[Literal["train", "val", "test"]] = Field(
        default_factory=lambda: ["train", "val", "test"], description="Rows of these splits are evaluated (new fonts: all)."
    )


class EvaluateConfig(StrictModel):
    """`glyph-train evaluate`: docs/evaluation.md metrics for Phase 2 (true grids), end to end and the baseline."""

    env_prefix: ClassVar[str | None] = "EVALUATE_"

    outputs: OutputsConfig = OutputsConfig()
    splits: list[Literal["train", "val", "test"]] = Field(default_factory=lambda: ["val", "test"])
    models: list[Literal["phase2_true_grids", "end_to_end", "joint", "baseline"]] = Field(
        default_factory=lambda: ["phase2_true_grids", "end_to_end", "baseline"],
        description="Ways compared (joint: the docs/phase2.md fine-tuned model, when a profile trained it); a missing model is an error.",
    )
    external: list[ExternalSource] = Field(default_factory=list, description="Other stores to evaluate the same models on.")
    batch_size: int = Field(512, ge=1)
    top_k: int = Field(5, ge=2)
    top_confusions: int = Field(12, ge=1, description="Confusion pairs drawn side by side in the report.")
    min_font_glyphs: int = Field(20, ge=1, description="Fonts with fewer evaluated glyphs are left out of the per-font spread.")
    bootstrap_resamples: int = Field(
        1000, ge=0, description="Resamples of design groups behind the 95% intervals of the top-k shares; 0 = no intervals."
    )
