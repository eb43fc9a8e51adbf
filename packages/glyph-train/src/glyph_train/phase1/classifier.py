"""The Phase 1 task model: backbone + classification head over primitive ids (0 = empty)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
from glyph_train.classifier_head import ClassifierWithHead
from glyph_train.phase1.backbone import CellBackbone


@keras.saving.register_keras_serializable(package="glyph_train")
class CellClassifier(ClassifierWithHead):
    """Backbone features -> dropout -> one logit per primitive id (train with from_logits=True)."""

    def __init__(self, backbone: CellBackbone, num_primitives: int, dropout: float = 0.2, **kwargs: Any) -> None:
        cells = keras.Input(backbone.input_shape[1:], name="cells")
        super().__init__(cells, backbone(cells), num_primitives, dropout, **kwargs)
        self.backbone = backbone
        self.num_primitives = num_primitives
        self.dropout = dropout

    def get_config(self) -> dict[str, Any]:
        return {**self.parts_config(), "num_primitives": self.num_primitives, "dropout": self.dropout}


def load_classifier(path: str | Path, compile: bool = True) -> keras.Model:
    """A saved Phase 1 model (.keras); importing this module registers the classes Keras needs."""
    return keras.saving.load_model(path, compile=compile)
