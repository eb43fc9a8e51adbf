"""The Phase 2 task model: grid (+ size cues) -> label logits (+ auxiliary diacritic-presence logits).

Pieces as in keras-hub: ``GridEmbedding`` (input preprocessing into the model's space), a backbone
from ``backbones``, and this head. Outputs are a dict: ``logits`` always, ``diacritic`` when the
auxiliary loss is on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
from glyph_core.classifier_config import GridModelConfig, MarginConfig

from glyph_train.classifier_head import ClassifierWithHead
from glyph_train.data.glyphs import AUX_TARGETS, SIDE_FEATURES
from glyph_train.phase2.backbones import ResidualCnnBackbone, TransformerBackbone
from glyph_train.phase2.embedding import GridEmbedding, centroid_table


@keras.saving.register_keras_serializable(package="glyph_train")
class GridClassifier(ClassifierWithHead):
    """{"grid": (B, G, G) ids, "side": (B, F) cues} -> {"logits": (B, classes), "diacritic": (B, 2)}."""

    parts = ("embedding", "backbone")

    def __init__(
        self,
        embedding: GridEmbedding,
        backbone: keras.Model,
        classes: int,
        head_dropout: float = 0.1,
        cosine_scale: float | None = None,
        aux_outputs: int = 0,
        **kwargs: Any,
    ) -> None:
        side = embedding.grid_side
        grid = keras.Input((side, side), dtype="int32", name="grid")
        # The cues are always an input, so every Phase 2 model is fed alike; the embedding ignores them when off.
        cues = keras.Input((len(SIDE_FEATURES),), name="side")
        features = backbone(embedding([grid, cues]))
        super().__init__(
            {"grid": grid, "side": cues}, features, classes, head_dropout, dropout_name="head_dropout",
            cosine_scale=cosine_scale, aux_outputs=aux_outputs, named_outputs=True, **kwargs,
        )  # fmt: skip
        self.embedding, self.backbone = embedding, backbone
        self.classes, self.head_dropout = classes, head_dropout
        self.cosine_scale, self.aux_outputs = cosine_scale, aux_outputs

    def head(self, features: Any) -> dict[str, Any]:
        """This model's own head layers (same weights) applied to backbone features; the joint model reuses them."""
        outputs = {"logits": self.get_layer("logits")(self.get_layer("head_dropout")(features))}
        if self.aux_outputs:
            outputs["diacritic"] = self.get_layer("diacritic")(features)
        return outputs

    def get_config(self) -> dict[str, Any]:
        return {
            **self.parts_config(), "classes": self.classes, "head_dropout": self.head_dropout,
            "cosine_scale": self.cosine_scale, "aux_outputs": self.aux_outputs,
        }  # fmt: skip


def build_backbone(model: GridModelConfig, grid_side: int) -> keras.Model:
    if model.backbone == "transformer":
        t = model.transformer
        return TransformerBackbone(
            grid_side=grid_side, embed_dim=model.embed_dim, patch=t.patch, layers_count=t.layers, d_model=t.d_model,
            heads=t.heads, mlp_dim=t.mlp_dim, dropout=t.dropout, pool=t.pool, name="transformer",
        )  # fmt: skip
    c = model.cnn
    return ResidualCnnBackbone(
        grid_side=grid_side, embed_dim=model.embed_dim, stage_blocks=c.stage_blocks, width=c.width, dropout=c.dropout,
        batch_norm_momentum=c.batch_norm_momentum, name="cnn",
    )


def build_grid_classifier(
    model: GridModelConfig,
    margin: MarginConfig,
    vocab: int,
    grid_side: int,
    classes: int,
    aux: bool,
    centroids: np.ndarray | None = None,
) -> GridClassifier:
    """A fresh Phase 2 model; ``centroids`` (K, cell²) are needed for ``embedding_init: centroids``."""
    initial = None
    if model.embedding_init == "centroids":
        if centroids is None or centroids.shape != (vocab - 1, model.embed_dim):
            shape = None if centroids is None else centroids.shape
            raise ValueError(
                f"embedding_init centroids needs {vocab - 1} centroids of embed_dim={model.embed_dim} pixels, got {shape}; "
                "set embed_dim to the cell size squared or embedding_init: random"
            )
        initial = centroid_table(centroids)
    embedding = GridEmbedding(
        vocab, model.embed_dim, grid_side, model.positional, len(SIDE_FEATURES) if model.side_input else 0,
        initial_table=initial, name="embedding",
    )  # fmt: skip
    return GridClassifier(
        embedding,
        build_backbone(model, grid_side),
        classes,
        head_dropout=model.head_dropout,
        cosine_scale=margin.scale if margin.kind != "none" else None,
        aux_outputs=len(AUX_TARGETS) if aux else 0,
    )


def load_grid_classifier(path: str | Path, compile: bool = True) -> keras.Model:
    """A saved Phase 2 (or joint) model; importing this module registers the classes Keras needs."""
    import glyph_train.phase2.heads  # noqa: F401  (registers the margin loss for compiled models)

    return keras.saving.load_model(path, compile=compile)
