"""The one shape of Glyphgrid's Keras classifiers (Phase 1's cell model, Phase 2's grid model, the
one-stage baseline): features of the inputs -> dropout -> one logit per class, from a dense layer or
from cosine logits for a margin loss, and optionally an auxiliary output on the features.

A subclass builds its inputs and features and names the Keras objects it is made of in ``parts``;
this base adds the head, and serializes and restores those parts.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
from keras import layers

from glyph_train.phase2.heads import CosineLogits


class ClassifierWithHead(keras.Model):
    parts: ClassVar[tuple[str, ...]] = ("backbone",)

    def __init__(
        self,
        inputs: Any,
        features: Any,
        classes: int,
        dropout: float,
        dropout_name: str = "dropout",
        cosine_scale: float | None = None,
        aux_outputs: int = 0,
        named_outputs: bool = False,
        **kwargs: Any,
    ) -> None:
        hidden = layers.Dropout(dropout, name=dropout_name)(features)
        logits = (CosineLogits(classes, cosine_scale, name="logits") if cosine_scale else layers.Dense(classes, name="logits"))(hidden)
        outputs: Any = logits
        if named_outputs:
            outputs = {"logits": logits}
            if aux_outputs:
                outputs["diacritic"] = layers.Dense(aux_outputs, name="diacritic")(features)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

    def parts_config(self) -> dict[str, Any]:
        """name, trainable and the serialized parts: what every subclass's ``get_config`` starts from."""
        parts = {part: keras.saving.serialize_keras_object(getattr(self, part)) for part in self.parts}
        return {"name": self.name, "trainable": self.trainable, **parts}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        config = dict(config)
        for part in cls.parts:
            config[part] = keras.saving.deserialize_keras_object(config[part])
        return cls(**config)
