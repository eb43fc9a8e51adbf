"""Weight decay on kernels only, and one BatchNormalization momentum for every model that has such layers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from glyph_core.cell_config import CellModelConfig
from glyph_core.classifier_config import GridModelConfig, MarginConfig, BaselineModelConfig, ResidualCnnConfig, ScheduleConfig, TransformerConfig
from glyph_train.baseline.model import build_baseline
from glyph_train.data.glyphs import SIDE_FEATURES
from glyph_train.optim import KernelDecayAdamW, decays, make_optimizer
from glyph_train.phase1.training import build_classifier
from glyph_train.phase2.classifier import build_grid_classifier

VOCAB, SIDE, CLASSES = 65, 16, 5


def transformer_model() -> GridModelConfig:
    t = TransformerConfig(layers=1, d_model=16, heads=2, mlp_dim=16)
    return GridModelConfig(embed_dim=64, embedding_init="centroids", transformer=t)


def zero_step(net: keras.Model, optimizer: keras.optimizers.Optimizer) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One optimizer step on zero gradients: Adam moves nothing, so only weight decay changes a variable."""
    before = {v.path: keras.ops.convert_to_numpy(v) for v in net.trainable_variables}
    optimizer.apply([keras.ops.zeros_like(v) for v in net.trainable_variables], net.trainable_variables)
    return {v.path: (before[v.path], keras.ops.convert_to_numpy(v)) for v in net.trainable_variables}


def test_weight_decay_reaches_kernels_and_nothing_else():
    centroids = np.random.default_rng(0).random((VOCAB - 1, 64)).astype(np.float32)
    net = build_grid_classifier(transformer_model(), MarginConfig(), VOCAB, SIDE, CLASSES, aux=True, centroids=centroids)
    optimizer = make_optimizer(ScheduleConfig(kind="plateau", weight_decay=0.5), 0.1, 10, 10)
    assert isinstance(optimizer, KernelDecayAdamW)
    changes = zero_step(net, optimizer)
    shrunk = {path for path, (old, new) in changes.items() if not np.allclose(old, new)}
    kept = set(changes) - shrunk
    names = {path.rsplit("/", 1)[-1] for path in kept}
    # Biases, LayerNorm scales and offsets, the embedding table, the position table and the CLS token keep their values.
    assert {"bias", "gamma", "beta", "table", "position", "token"} <= names
    assert all(len(changes[path][0].shape) >= 2 for path in shrunk) and shrunk
    assert any(path.endswith("kernel") for path in shrunk)
    for path in shrunk:
        old, new = changes[path]
        np.testing.assert_allclose(new, old * (1 - 0.5 * 0.1), rtol=1e-5, atol=1e-7)


def test_the_decay_rule_survives_a_saved_checkpoint(tmp_path):
    net = build_grid_classifier(transformer_model().model_copy(update={"embedding_init": "random"}), MarginConfig(), VOCAB, SIDE, CLASSES, aux=False)
    net.compile(optimizer=make_optimizer(ScheduleConfig(), 1e-3, 10, 5), loss={"logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True)})
    x = {"grid": np.zeros((4, SIDE, SIDE), np.int32), "side": np.zeros((4, len(SIDE_FEATURES)), np.float32)}
    net.fit(x, {"logits": np.zeros(4, np.int32)}, verbose=0)
    net.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.optimizer, KernelDecayAdamW)
    table = next(v for v in restored.trainable_variables if v.path.endswith("table"))
    assert not decays(table) and not restored.optimizer._use_weight_decay(table)


def batch_norms(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    found = []
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
    return found


@pytest.mark.parametrize("momentum", [0.8, 0.95])
def test_every_batch_normalization_uses_its_models_momentum_entry(momentum):
    cnn = GridModelConfig(backbone="cnn", embed_dim=8, embedding_init="random",
                          cnn=ResidualCnnConfig(stage_blocks=[1, 1], width=8, batch_norm_momentum=momentum))  # fmt: skip
    models = [
        build_grid_classifier(cnn, MarginConfig(), VOCAB, SIDE, CLASSES, aux=False),
        build_classifier(12, 8, CellModelConfig(batch_norm_momentum=momentum)),
        build_baseline(CLASSES, 64, BaselineModelConfig(alpha=0.35, batch_norm_momentum=momentum)),
    ]
    for model in models:
        norms = batch_norms(model)
        assert norms, model.name
        assert {round(float(n.momentum), 6) for n in norms} == {momentum}, model.name


def test_the_default_momentum_is_one_value_for_every_model():
    assert ResidualCnnConfig().batch_norm_momentum == CellModelConfig().batch_norm_momentum == BaselineModelConfig().batch_norm_momentum == 0.9


def test_the_residual_cnn_downsamples_in_stages():
    config = GridModelConfig(backbone="cnn", embed_dim=8, embedding_init="random", cnn=ResidualCnnConfig(stage_blocks=[1, 2, 1], width=8))
    net = build_grid_classifier(config, MarginConfig(), VOCAB, SIDE, CLASSES, aux=False)
    backbone = net.backbone
    assert backbone.get_layer("stage1_block1_add").output.shape[1:] == (16, 16, 8)
    assert backbone.get_layer("stage2_block2_add").output.shape[1:] == (8, 8, 16)
    assert backbone.get_layer("stage3_block1_add").output.shape[1:] == (4, 4, 32)
    assert backbone.feature_dim == 32 and backbone.output.shape[-1] == 32
    with pytest.raises(ValueError, match="does not divide"):
        build_grid_classifier(config.model_copy(update={"cnn": ResidualCnnConfig(stage_blocks=[1] * 4, width=8)}), MarginConfig(), VOCAB, 12, CLASSES, aux=False)
