"""The Phase 1 CNN: the plan's architecture and size, the save/reload round trip, and the overfit probe."""

import time

import numpy as np

from glyph_core.cell_config import CellAugmentConfig, CellModelConfig
from glyph_core.store import read_masks

from glyph_core.cells import PrimitiveAssigner
from glyph_core.rasters import open_rasters
from glyph_core.primitives import load_centroids
from glyph_train.phase1.backbone import CellBackbone
from glyph_train.phase1.classifier import CellClassifier
from glyph_train.phase1.preprocessor import CellPreprocessor
from glyph_train.phase1.training import build_classifier
from train_helpers import check_save_and_reload


def test_plan_architecture_and_parameter_count():
    model = build_classifier(1024, 8, CellModelConfig())
    backbone = model.backbone
    kinds = [type(layer).__name__ for layer in backbone.layers]
    assert kinds == ["InputLayer", "Conv2D", "BatchNormalization", "MaxPooling2D", "Conv2D", "BatchNormalization",
                     "MaxPooling2D", "Flatten", "Dense"]  # fmt: skip
    assert backbone.get_layer("flatten").output.shape[-1] == 256
    assert model.output.shape[-1] == 1024
    # conv 320 + 18,496, batch norm 128 + 256, hidden 32,896, logits 132,096: the plan's "~50-60K"
    # counts the backbone only.
    assert backbone.count_params() == 52_096
    assert model.count_params() == 184_192


def test_build_train_save_reload_predict_the_same(tmp_path):
    rng = np.random.default_rng(0)
    cells = (rng.random((64, 8, 8, 1)) < 0.3).astype(np.float32)
    targets = rng.integers(0, 32, 64)
    model = CellClassifier(CellBackbone(conv_filters=[8, 16], hidden_units=16, batch_norm_momentum=0.5), 32, dropout=0.1)
    restored = check_save_and_reload(model, cells, targets, tmp_path)
    assert restored.backbone.conv_filters == [8, 16] and restored.backbone.batch_norm_momentum == 0.5


def test_overfit_probe_5k_real_cells(primitives_layout):
    """docs/evaluation.md: on 5K cells the model reaches at least 99% train accuracy quickly."""
    import keras

    source = open_rasters(primitives_layout)
    centroids, _ = load_centroids(primitives_layout.centroids, source.cell_size)
    preprocessor = CellPreprocessor(PrimitiveAssigner(centroids, 8), CellAugmentConfig(), empty_share=0.1)
    batch = preprocessor(read_masks(source.group, 0, 200, value=1), source.is_diacritic[:200], np.random.default_rng(0),
                         augment=False, cap_empty=True)  # fmt: skip
    pick = np.random.default_rng(1).choice(len(batch), size=5000, replace=False)
    cells, targets = batch.inputs[pick], batch.targets[pick]
    assert len(np.unique(targets)) > 60
    keras.utils.set_random_seed(0)
    model = build_classifier(len(centroids) + 1, 8, CellModelConfig())
    model.compile(optimizer=keras.optimizers.AdamW(3e-3, weight_decay=1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])  # fmt: skip
    began = time.perf_counter()
    model.fit(cells, targets, batch_size=256, epochs=20, verbose=0)
    seconds = time.perf_counter() - began
    accuracy = model.evaluate(cells, targets, batch_size=1024, verbose=0, return_dict=True)["accuracy"]
    assert accuracy >= 0.99, f"train accuracy {accuracy:.4f} after {seconds:.0f} s"
    assert seconds < 120
