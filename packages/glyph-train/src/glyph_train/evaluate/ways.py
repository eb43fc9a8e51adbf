"""The ways a glyph is recognized, compared side by side (docs/evaluation.md), each from the raster up.

- ``phase2_true_grids``: the raster tokenized exactly (nearest primitive), then Phase 2: Phase 2 alone.
- ``end_to_end``: Phase 1 names every cell's primitive, then Phase 2: what deployment runs.
- ``joint``: the jointly fine-tuned model (docs/phase2.md), raster in.
- ``baseline``: the one-stage model on the raster (pixel CNN or MobileNetV3Small).

Every way starts from rasters, so a store from other fonts (no grids, other centroids) is scored
exactly like the home store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.paths import OutputLayout

from glyph_core.cells import PrimitiveAssigner
from glyph_train.evaluate.flops import count_flops
from glyph_train.training import BEST

# predict(masks (n, S, S) 0/1, side cues (n, F)) -> label logits (n, classes)
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]
WAY_COMMANDS = {
    "phase1": "glyph-train phase1",
    "phase2": "glyph-train phase2",
    "phase2_joint": "glyph-train phase2 with a profile whose joint.enabled is true",
    "baseline": "glyph-train baseline",
}


@dataclass
class Way:
    name: str
    predict: Predict
    parameters: int
    flops: int | None
    classes: int
    # FLOPs per glyph once ``n`` glyphs were scored, for ways that remember work between glyphs; else None.
    amortized_flops: Callable[[int], int | None] | None = None

    def flops_after(self, glyphs: int) -> int | None:
        """Average cost per glyph over the ``glyphs`` scored so far (the nominal cost where nothing is remembered)."""
        return self.amortized_flops(glyphs) if self.amortized_flops is not None else self.flops


def checkpoint(layout: OutputLayout, stage: str) -> Path:
    path = layout.checkpoints(stage) / BEST
    if not path.is_file():
        raise FileNotFoundError(f"no trained model at {path}: run `{WAY_COMMANDS[stage]}` first")
    return path


def build_ways(names: list[str], layout: OutputLayout, centroids: np.ndarray, cell_size: int, canvas: int, batch_size: int) -> list[Way]:
    """Load the models the requested ways need (each once) and wrap them as raster -> logits functions."""
    import keras
    import tensorflow as tf

    import glyph_train.baseline.model  # noqa: F401  (registers the baseline's classes)
    from glyph_train.data.glyphs import SIDE_FEATURES
    from glyph_train.phase1.classifier import load_classifier
    from glyph_train.phase1.evaluate import pattern_predictor
    from glyph_train.phase2.classifier import load_grid_classifier
    from glyph_train.predict import predict_logits

    grid_side = canvas // cell_size
    side_spec = tf.TensorSpec((1, len(SIDE_FEATURES)), tf.float32)
    grid_spec = {"grid": tf.TensorSpec((1, grid_side, grid_side), tf.int32), "side": side_spec}
    raster_spec = tf.TensorSpec((1, canvas, canvas, 1), tf.float32)
    assigner = PrimitiveAssigner(centroids, cell_size)
    ways: list[Way] = []
    phase2 = load_grid_classifier(checkpoint(layout, "phase2"), compile=False) if {"phase2_true_grids", "end_to_end"} & set(names) else None
    phase2_flops = count_flops(phase2, grid_spec) if phase2 is not None else None

    def grid_way(
        name: str, grids_of: Callable[[np.ndarray], np.ndarray], extra_params: int, extra_flops: int | None,
        amortized: Callable[[int], int | None] | None = None,
    ) -> Way:  # fmt: skip
        def predict(masks: np.ndarray, side: np.ndarray) -> np.ndarray:
            return predict_logits(phase2, {"grid": grids_of(masks).astype(np.int32), "side": side}, batch_size)

        flops = None if phase2_flops is None or extra_flops is None else phase2_flops + extra_flops
        return Way(name, predict, int(phase2.count_params()) + extra_params, flops, int(phase2.output["logits"].shape[-1]), amortized)

    for name in names:
        if name == "phase2_true_grids":
            ways.append(grid_way(name, lambda m: assigner.assign(m), 0, 0))
        elif name == "end_to_end":
            phase1 = load_classifier(checkpoint(layout, "phase1"), compile=False)
            predictor = pattern_predictor(phase1, assigner.codec, 8192)
            cell_flops = count_flops(phase1, tf.TensorSpec((1, cell_size, cell_size, 1), tf.float32))

            def predicted_grids(masks: np.ndarray, predictor: Any = predictor) -> np.ndarray:
                keys = assigner.codec.masks_to_keys(masks)
                return predictor.lookup(keys.reshape(-1)).reshape(keys.shape)

            def amortized(glyphs: int, predictor: Any = predictor, per_cell: int | None = cell_flops) -> int | None:
                # Phase 1 has run once per distinct cell pattern met so far (the empty cell included).
                if phase2_flops is None or per_cell is None or glyphs <= 0:
                    return None
                return phase2_flops + round(per_cell * len(predictor) / glyphs)

            # Nominal cost: Phase 1 on every cell; remembering distinct patterns makes the real cost lower.
            nominal = None if cell_flops is None else cell_flops * grid_side**2
            ways.append(grid_way(name, predicted_grids, int(phase1.count_params()), nominal, amortized))
        elif name in ("joint", "baseline"):
            model = keras.saving.load_model(checkpoint(layout, "phase2_joint" if name == "joint" else "baseline"), compile=False)

            def predict(masks: np.ndarray, side: np.ndarray, model: Any = model) -> np.ndarray:
                return predict_logits(model, {"raster": masks[..., None].astype(np.float32), "side": side}, batch_size)

            spec = {"raster": raster_spec, "side": side_spec}
            out = model.output
            classes = int((out["logits"] if isinstance(out, dict) else out).shape[-1])
            ways.append(Way(name, predict, int(model.count_params()), count_flops(model, spec), classes))
        else:
            raise ValueError(f"unknown way {name!r}")
    return ways
