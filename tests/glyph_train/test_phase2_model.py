"""Phase 2 pieces: embedding, backbones, margin head and loss, joint model; each model saves and reloads."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from glyph_core.classifier_config import GridModelConfig, MarginConfig, ResidualCnnConfig, TransformerConfig
from glyph_core.cell_config import CellModelConfig
from glyph_train.data.glyphs import SIDE_FEATURES
from glyph_train.phase2.classifier import build_grid_classifier, load_grid_classifier
from glyph_train.phase2.embedding import GridEmbedding, sinusoidal_2d
from glyph_train.phase2.heads import MarginCrossEntropy, margin_at
from glyph_train.phase2.joint import JointClassifier, RasterToCells

VOCAB, SIDE, CLASSES = 32, 16, 7


def grid_batch(n: int, seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x = {"grid": rng.integers(0, VOCAB, (n, SIDE, SIDE)).astype(np.int32), "side": rng.random((n, len(SIDE_FEATURES))).astype(np.float32)}
    y = {"logits": rng.integers(0, CLASSES, n).astype(np.int32), "diacritic": rng.integers(0, 2, (n, 2)).astype(np.float32)}
    return x, y


def tiny_model(backbone: str = "transformer", **transformer: object) -> GridModelConfig:
    t = {"layers": 1, "d_model": 16, "heads": 2, "mlp_dim": 16, **transformer}
    return GridModelConfig(
        backbone=backbone, embed_dim=8, embedding_init="random", transformer=TransformerConfig(**t), cnn=ResidualCnnConfig(stage_blocks=[1, 1], width=8)
    )


def compile_for_test(model: keras.Model, margin: MarginConfig, value: float = 0.0) -> MarginCrossEntropy:
    loss = MarginCrossEntropy(CLASSES, margin.scale, margin.kind, value, 0.05)
    model.compile(
        optimizer="adamw",
        loss={"logits": loss, "diacritic": keras.losses.BinaryCrossentropy(from_logits=True)},
        loss_weights={"logits": 1.0, "diacritic": 0.1},
    )
    return loss


@pytest.mark.parametrize(
    "model, margin",
    [
        (tiny_model(), MarginConfig()),
        (tiny_model(patch=1, pool="mean", layers=2), MarginConfig(kind="arcface")),
        (tiny_model(patch=2).model_copy(update={"positional": "sinusoidal", "side_input": False}), MarginConfig(kind="cosface")),
        (tiny_model("cnn"), MarginConfig()),
    ],
    ids=["transformer-cls", "transformer-256-tokens-mean-arcface", "sinusoidal-no-side-cosface", "residual-cnn"],
)
def test_phase2_models_train_save_reload_and_predict_the_same(model, margin, tmp_path):
    net = build_grid_classifier(model, margin, VOCAB, SIDE, CLASSES, aux=True)
    compile_for_test(net, margin)
    x, y = grid_batch(32)
    net.fit(x, y, batch_size=16, epochs=1, verbose=0)
    before = net.predict(x, verbose=0)
    assert before["logits"].shape == (32, CLASSES) and before["diacritic"].shape == (32, 2)
    net.save(tmp_path / "m.keras")
    restored = load_grid_classifier(tmp_path / "m.keras")
    after = restored.predict(x, verbose=0)
    np.testing.assert_allclose(after["logits"], before["logits"], rtol=1e-5, atol=1e-5)
    assert restored.get_config()["backbone"] == net.get_config()["backbone"]
    restored.fit(x, y, batch_size=16, epochs=1, verbose=0)  # the restored optimizer and loss train on


def test_tokens_are_patched_as_configured():
    for patch, tokens in ((1, 256), (2, 64)):
        net = build_grid_classifier(tiny_model(patch=patch), MarginConfig(), VOCAB, SIDE, CLASSES, aux=False)
        assert net.backbone.get_layer("tokens").output.shape[1] == tokens


def test_side_input_changes_predictions_only_when_on():
    x, _ = grid_batch(4)
    shifted = {"grid": x["grid"], "side": x["side"] + 1.0}
    for on in (True, False):
        net = build_grid_classifier(tiny_model().model_copy(update={"side_input": on}), MarginConfig(), VOCAB, SIDE, CLASSES, aux=False)
        same = np.allclose(net.predict(x, verbose=0)["logits"], net.predict(shifted, verbose=0)["logits"])
        assert same is (not on)


def test_soft_embedding_of_one_hot_equals_the_hard_lookup():
    layer = GridEmbedding(VOCAB, 8, SIDE, "learned", side_features=len(SIDE_FEATURES))
    x, _ = grid_batch(3)
    hard = layer([x["grid"], x["side"]])
    soft = layer([np.eye(VOCAB, dtype=np.float32)[x["grid"]], x["side"]])
    np.testing.assert_allclose(np.asarray(soft), np.asarray(hard), rtol=1e-6, atol=1e-6)


def test_centroid_initialized_embedding_draws_each_primitive():
    rng = np.random.default_rng(3)
    centroids = rng.random((VOCAB - 1, 8)).astype(np.float32)
    model = tiny_model().model_copy(update={"embedding_init": "centroids"})
    net = build_grid_classifier(model, MarginConfig(), VOCAB, SIDE, CLASSES, aux=False, centroids=centroids)
    table = np.asarray(net.embedding.table)
    np.testing.assert_array_equal(table[0], 0)  # the empty cell embeds as blank paper
    scale = table[1:] / centroids
    np.testing.assert_allclose(scale, scale[0, 0], rtol=1e-5)  # every row is its centroid, one common scale
    assert np.sqrt(np.mean(table[1:] ** 2)) == pytest.approx(1.0, rel=1e-4)
    with pytest.raises(ValueError, match="embed_dim"):
        build_grid_classifier(model, MarginConfig(), VOCAB, SIDE, CLASSES, aux=False, centroids=centroids[:, :4])


def test_sinusoidal_encoding_tells_every_cell_apart():
    enc = sinusoidal_2d(SIDE, 16).reshape(SIDE * SIDE, 16)
    assert enc.shape == (256, 16)
    assert len(np.unique(enc.round(5), axis=0)) == 256
    np.testing.assert_allclose(enc[0], [0] * 4 + [1] * 4 + [0] * 4 + [1] * 4)  # sin 0, cos 0 for row and column


def test_margin_warms_up_then_ramps_linearly():
    config = MarginConfig(kind="arcface", target=0.2, warmup_epochs=2, ramp_epochs=4)
    assert [margin_at(e, config) for e in range(8)] == pytest.approx([0, 0, 0.05, 0.1, 0.15, 0.2, 0.2, 0.2])
    assert margin_at(9, MarginConfig(kind="none", target=0.2)) == 0.0


@pytest.mark.parametrize("kind", ["arcface", "cosface"])
def test_validation_logits_are_the_training_paths_normalized_logits(kind):
    margin = MarginConfig(kind=kind, scale=16.0)
    net = build_grid_classifier(tiny_model(), margin, VOCAB, SIDE, CLASSES, aux=False)
    x, y = grid_batch(8)
    logits = net.predict(x, verbose=0)["logits"]
    # The head is scale * cos(feature, class weight), whatever the margin.
    features = keras.Model(net.inputs, net.get_layer("head_dropout").output).predict(x, verbose=0)
    kernel = np.asarray(net.get_layer("logits").kernel)
    cos = (features / np.linalg.norm(features, axis=1, keepdims=True)) @ (kernel / np.linalg.norm(kernel, axis=0, keepdims=True))
    np.testing.assert_allclose(logits, 16.0 * cos, rtol=1e-4, atol=1e-4)

    m = 0.3
    loss = MarginCrossEntropy(CLASSES, 16.0, kind, m, label_smoothing=0.0)
    net.compile(loss={"logits": loss})
    evaluated = net.evaluate(x, {"logits": y["logits"]}, batch_size=8, verbose=0, return_dict=True)["loss"]
    # By hand: the true class's cosine gets the margin, then plain cross-entropy.
    c = np.clip(cos, -1 + 1e-7, 1 - 1e-7)
    rows = np.arange(8)
    true_cos = c[rows, y["logits"]]
    if kind == "arcface":
        theta = np.arccos(true_cos)
        target = np.where(true_cos > math.cos(math.pi - m), np.cos(theta + m), true_cos - m * math.sin(math.pi - m))
    else:
        target = true_cos - m
    adjusted = c.copy()
    adjusted[rows, y["logits"]] = target
    z = 16.0 * adjusted
    expected = np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, y["logits"]])
    assert evaluated == pytest.approx(expected, rel=1e-4)
    # At margin 0 the loss is cross-entropy on exactly the logits the model outputs.
    loss.margin.assign(0.0)
    plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y["logits"], logits)
    assert float(loss(y["logits"], logits)) == pytest.approx(float(plain), rel=1e-4)


def test_raster_to_cells_keeps_row_major_cell_order():
    rasters = np.arange(2 * 128 * 128, dtype=np.float32).reshape(2, 128, 128, 1)
    cells = np.asarray(RasterToCells(8, 16)(rasters))
    assert cells.shape == (2 * 256, 8, 8, 1)
    np.testing.assert_array_equal(cells[17, :, :, 0], rasters[0, 8:16, 8:16, 0])  # grid row 1, column 1
    np.testing.assert_array_equal(cells[256 + 255, :, :, 0], rasters[1, 120:128, 120:128, 0])


def test_joint_model_trains_saves_and_reloads(tmp_path):
    from glyph_train.phase1.training import build_classifier

    phase1 = build_classifier(VOCAB, 8, CellModelConfig(conv_filters=[4], hidden_units=8))
    phase2 = build_grid_classifier(tiny_model(), MarginConfig(), VOCAB, SIDE, CLASSES, aux=True)
    joint = JointClassifier(phase1, phase2, train_phase1="head")
    assert not phase1.backbone.trainable
    rng = np.random.default_rng(1)
    x = {"raster": rng.integers(0, 2, (4, 128, 128, 1)).astype(np.float32), "side": rng.random((4, 5)).astype(np.float32)}
    y = {"logits": np.arange(4, dtype=np.int32), "diacritic": np.zeros((4, 2), np.float32)}
    compile_for_test(joint, MarginConfig())
    joint.fit(x, y, batch_size=2, epochs=1, verbose=0)
    before = joint.predict(x, verbose=0)["logits"]
    joint.save(tmp_path / "joint.keras")
    restored = keras.saving.load_model(tmp_path / "joint.keras")
    # The frozen Phase 1 stays frozen, so the saved optimizer state matches the trainable variables.
    assert len(restored.trainable_weights) == len(joint.trainable_weights)
    assert len(restored.optimizer.variables) == len(joint.optimizer.variables)
    np.testing.assert_allclose(restored.predict(x, verbose=0)["logits"], before, rtol=1e-5, atol=1e-5)


def _label_sets(labels: list[int], twins: list[list[int]]) -> np.ndarray:
    from glyph_core.store import MAX_TWINS

    sets = np.full((len(labels), 1 + MAX_TWINS), -1, np.int32)
    sets[:, 0] = labels
    for i, t in enumerate(twins):
        sets[i, 1 : 1 + len(t)] = t
    return sets


@pytest.mark.parametrize("kind", ["none", "arcface"])
def test_twin_aware_loss_is_the_plain_loss_where_a_glyph_has_no_twin(kind):
    rng = np.random.default_rng(4)
    logits = (rng.random((6, CLASSES)) * 2 - 1).astype(np.float32) * (16.0 if kind != "none" else 3.0)
    labels = [0, 1, 2, 3, 4, 0]
    plain = MarginCrossEntropy(CLASSES, 16.0, kind, 0.2, label_smoothing=0.1)
    aware = MarginCrossEntropy(CLASSES, 16.0, kind, 0.2, label_smoothing=0.1, twin_aware=True)
    expected = np.asarray(plain(np.array(labels), logits))
    np.testing.assert_allclose(np.asarray(aware(_label_sets(labels, [[]] * 6), logits)), expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(plain(_label_sets(labels, [[1]] * 6), logits)), expected, rtol=1e-5)  # off: twins ignored


def test_twin_aware_loss_does_not_punish_the_twin():
    # The model splits its belief between the label (0) and its twin (3).
    logits = np.log(np.array([[0.5, 1e-6, 1e-6, 0.5, 1e-6, 1e-6, 1e-6]], np.float32))
    sets = _label_sets([0], [[3]])
    aware = MarginCrossEntropy(CLASSES, 16.0, "none", twin_aware=True)
    plain = MarginCrossEntropy(CLASSES, 16.0, "none")
    assert float(aware(sets, logits)) == pytest.approx(0.0, abs=1e-4)
    assert float(plain(sets, logits)) == pytest.approx(math.log(2), rel=1e-3)
    import tensorflow as tf

    x = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = aware(sets, x)
    grad = tape.gradient(loss, x).numpy()[0]
    assert abs(grad[3]) < 1e-4 and abs(grad[0]) < 1e-4  # no push from the label towards or away from its twin


def test_label_metrics_are_strict_on_label_sets():
    from glyph_train.phase2.heads import LabelAccuracy, LabelTopK

    sets = _label_sets([0, 1], [[3], []])
    logits = np.array([[0, 0, 0, 5, 0, 0, 0], [0, 5, 0, 0, 0, 0, 0]], np.float32)  # row 0 predicts the twin
    top1 = LabelAccuracy()
    top1.update_state(sets, logits)
    assert float(top1.result()) == pytest.approx(0.5)
    top2 = LabelTopK(k=2)
    top2.update_state(sets, logits + np.eye(2, CLASSES, dtype=np.float32))
    assert float(top2.result()) == pytest.approx(1.0)


def test_label_sets_drop_a_twin_equal_to_the_label():
    from glyph_train.data.glyphs import GlyphTable

    table = GlyphTable.__new__(GlyphTable)
    object.__setattr__(table, "label", np.array([2, 5], np.int32))
    object.__setattr__(table, "twin_labels", np.array([[2, 7, -1], [-1, -1, -1]], np.int32))
    sets = table.label_sets(np.array([0, 1]))
    np.testing.assert_array_equal(sets, [[2, -1, 7, -1], [5, -1, -1, -1]])


def test_joint_fine_tuning_keeps_phase1_batch_norm_statistics_and_trains_its_convolutions():
    from glyph_train.phase1.training import build_classifier

    phase1 = build_classifier(VOCAB, 8, CellModelConfig(conv_filters=[4], hidden_units=8))
    phase2 = build_grid_classifier(tiny_model(), MarginConfig(), VOCAB, SIDE, CLASSES, aux=True)
    joint = JointClassifier(phase1, phase2, train_phase1="all")
    norms = [layer for layer in phase1._flatten_layers(include_self=False) if isinstance(layer, keras.layers.BatchNormalization)]
    convs = [layer for layer in phase1._flatten_layers(include_self=False) if isinstance(layer, keras.layers.Conv2D)]
    assert norms and convs
    stats = [keras.ops.convert_to_numpy(n.moving_mean).copy() for n in norms]
    kernels = [keras.ops.convert_to_numpy(c.kernel).copy() for c in convs]
    rng = np.random.default_rng(2)
    x = {"raster": rng.integers(0, 2, (4, 128, 128, 1)).astype(np.float32), "side": rng.random((4, 5)).astype(np.float32)}
    y = {"logits": np.arange(4, dtype=np.int32), "diacritic": np.zeros((4, 2), np.float32)}
    compile_for_test(joint, MarginConfig())
    joint.fit(x, y, batch_size=2, epochs=1, verbose=0)
    for norm, before in zip(norms, stats):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(norm.moving_mean), before)
    assert any(not np.array_equal(keras.ops.convert_to_numpy(c.kernel), k) for c, k in zip(convs, kernels))
