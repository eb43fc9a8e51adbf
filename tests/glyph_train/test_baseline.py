"""The one-stage baseline: MobileNetV3Small and pixel-CNN round trips, and `glyph-train baseline` on a real store with resume."""

import json

import numpy as np
import pytest

from glyph_core.classifier_config import BaselineConfig, BaselineModelConfig, Phase2Config
from glyph_core.store import StoreError

from glyph_train.baseline.model import PixelCnnBackbone, RasterBackbone, RasterClassifier, build_baseline, load_baseline
from glyph_train.baseline.run import run_baseline
from glyph_train.data.glyphs import SIDE_FEATURES
from glyph_train.task import METRICS_FILE
from glyph_train.training import BEST, LAST, STATE, CheckpointAndStop
from train_helpers import TINY_PIXEL_CNN, check_save_and_reload


def tiny_baseline(root, **overrides) -> BaselineConfig:
    """A baseline config that trains for seconds on the small store."""
    quick = {"epochs": 1, "epoch_glyphs": 64, "batch_size": 16, "early_stopping_patience": 2}
    quick.update(overrides.pop("quick", {}))
    data = {"outputs": {"root": str(root)}, "profiles": {"quick": quick}, "model": TINY_PIXEL_CNN,
            "eval_batch_size": 128, "tensorboard": False, **overrides}  # fmt: skip
    return BaselineConfig.model_validate(data)


def test_model_shape_and_the_plan_size():
    model = build_baseline(1000, 128, BaselineModelConfig())
    assert model.input["raster"].shape == (None, 128, 128, 1) and model.input["side"].shape == (None, len(SIDE_FEATURES))
    assert model.output.shape == (None, 1000)
    assert model.backbone.output.shape == (None, 576)
    # keras.applications' MobileNetV3Small without its top: ~0.94M parameters.
    assert model.backbone.count_params() == 938_832
    # The configured momentum reaches every BatchNormalization (at 0.99 inference collapsed to one label).
    momenta = {layer.momentum for layer in model.backbone.layers if hasattr(layer, "moving_mean")}
    assert momenta == {BaselineModelConfig().batch_norm_momentum} == {0.9}
    tuned = build_baseline(10, 64, BaselineModelConfig(alpha=0.25, batch_norm_momentum=0.8))
    assert {layer.momentum for layer in tuned.backbone.layers if hasattr(layer, "moving_mean")} == {0.8}


def test_the_pixel_cnn_is_phase2s_cnn_behind_a_convolution_over_each_cell():
    config = BaselineModelConfig()
    model = build_baseline(50, 128, config, backbone="cnn")
    assert isinstance(model.backbone, PixelCnnBackbone)
    cells = model.backbone.get_layer("cells")
    assert cells.kernel_size == cells.strides == (8, 8) and cells.filters == 64
    cnn = model.backbone.get_layer("cnn")
    assert cnn.input_shape == (None, 16, 16, 64)  # the (grid, grid, embed_dim) map Phase 2's CNN reads
    assert model.backbone.output.shape == (None, config.cnn.width * 4) and model.output.shape == (None, 50)
    assert {layer.momentum for layer in cnn.layers if hasattr(layer, "moving_mean")} == {config.cnn.batch_norm_momentum}
    with pytest.raises(ValueError, match="does not divide"):
        build_baseline(10, 100, BaselineModelConfig(cell_pixels=8), backbone="cnn")


def test_cpu_profiles_give_the_baseline_phase2s_cnn_and_budget():
    for name in ("quick", "long"):
        baseline, phase2 = BaselineConfig().profiled(name), Phase2Config().profiled(name)
        assert baseline.backbone == "cnn" and phase2.model.backbone == "cnn"
        assert BaselineConfig(profile=name).active_model.cnn == phase2.model.cnn  # the profile's dropout reaches the CNN's blocks
        budget = ("epochs", "epoch_glyphs", "batch_size", "learning_rate")
        assert {k: getattr(baseline, k) for k in budget} == {k: getattr(phase2, k) for k in budget}
    assert BaselineConfig().profiled("full").backbone == "mobilenet"


def test_pixel_cnn_trains_saves_and_reloads_the_same(tmp_path):
    rng = np.random.default_rng(1)
    inputs = {"raster": (rng.random((8, 32, 32, 1)) < 0.2).astype(np.float32), "side": rng.random((8, len(SIDE_FEATURES))).astype(np.float32)}
    labels = rng.integers(0, 10, len(inputs["raster"]))
    small = BaselineModelConfig(cnn={"stage_blocks": [1, 1], "width": 8}, cell_pixels=4)
    restored = check_save_and_reload(build_baseline(10, 32, small, backbone="cnn"), inputs, labels, tmp_path)
    assert restored.backbone.config_values["cell_pixels"] == 4 and restored.backbone.config_values["stages"]["width"] == 8


@pytest.mark.slow  # ~35 s on 2 cores: MobileNet's graph is traced four times
def test_build_train_save_reload_predict_the_same(tmp_path):
    rng = np.random.default_rng(0)
    rasters = (rng.random((8, 64, 64, 1)) < 0.2).astype(np.float32)
    inputs = {"raster": rasters, "side": rng.random((8, len(SIDE_FEATURES))).astype(np.float32)}
    labels = rng.integers(0, 10, len(rasters))
    model = RasterClassifier(RasterBackbone(canvas_size=64, alpha=0.25, minimalistic=True, batch_norm_momentum=0.9), 10, dropout=0.1)
    restored = check_save_and_reload(model, inputs, labels, tmp_path)
    assert restored.side_input
    assert restored.backbone.alpha == 0.25 and restored.backbone.minimalistic
    assert {layer.momentum for layer in restored.backbone.layers if hasattr(layer, "moving_mean")} == {0.9}
    assert type(load_baseline(tmp_path / "model.keras", compile=False)) is RasterClassifier


@pytest.mark.parametrize("side_input", [True, False])
def test_the_baseline_sees_the_size_cues_only_when_configured(side_input):
    model = build_baseline(10, 64, BaselineModelConfig(alpha=0.25, minimalistic=True, side_input=side_input))
    rng = np.random.default_rng(2)
    x = {"raster": (rng.random((3, 64, 64, 1)) < 0.2).astype(np.float32), "side": rng.random((3, len(SIDE_FEATURES))).astype(np.float32)}
    moved = {"raster": x["raster"], "side": x["side"] + 1.0}
    same = np.allclose(model.predict(x, verbose=0), model.predict(moved, verbose=0))
    assert same is (not side_input)


class Interrupted(Exception):
    pass


@pytest.mark.slow
def test_baseline_writes_metrics_checkpoints_and_resumes(rasters_layout, monkeypatch):
    import keras

    config = tiny_baseline(rasters_layout.root, quick={"epochs": 2, "early_stopping_patience": 5})
    steps = config.active.epoch_glyphs // config.active.batch_size

    # Stop the first run after its first epoch was saved, as a killed process would.
    saved = CheckpointAndStop.on_epoch_end

    def stop_after_first(self, epoch, logs=None):
        saved(self, epoch, logs)
        raise Interrupted

    monkeypatch.setattr(CheckpointAndStop, "on_epoch_end", stop_after_first)
    with pytest.raises(Interrupted):
        run_baseline(config)
    monkeypatch.setattr(CheckpointAndStop, "on_epoch_end", saved)
    checkpoints = rasters_layout.checkpoints("baseline")
    assert json.loads((checkpoints / STATE).read_text())["epoch"] == 1

    summary = run_baseline(config)
    assert summary.resumed_at_epoch == 1 and summary.epochs_run == 2
    assert "resumed after epoch 1" in str(summary)
    assert {p.name for p in checkpoints.iterdir()} == {BEST, LAST, STATE}
    last = keras.saving.load_model(checkpoints / LAST)
    assert int(last.optimizer.iterations.numpy()) == 2 * steps  # continued, not restarted
    assert (rasters_layout.logs / "baseline" / "training.csv").is_file()
    assert (rasters_layout.logs / "baseline" / "training_curves.png").read_bytes()[:4] == b"\x89PNG"

    metrics = json.loads((rasters_layout.analysis / "baseline" / METRICS_FILE).read_text())
    assert set(metrics) == {"model", "inputs", "val", "test", "training"}
    assert metrics["model"]["parameters"] > 0 and len(metrics["model"]["model_hash"]) == 64 and metrics["model"]["flops"] > 0
    for split in ("val", "test"):
        assert set(metrics[split]) == {"glyphs", "top1_strict", "top5_strict"} and metrics[split]["glyphs"] > 0
        assert 0 <= metrics[split]["top1_strict"] <= metrics[split]["top5_strict"] <= 1
    assert [h["epoch"] for h in metrics["training"]["history"]] == [1, 2]
    best = load_baseline(checkpoints / BEST)
    assert metrics["model"]["num_labels"] == best.output.shape[-1]

    history = [json.loads(line) for line in rasters_layout.run_history.read_text().splitlines()]
    assert len(history) == 1 and history[0]["command"] == "glyph-train baseline"
    assert history[0]["model_hash"] == metrics["model"]["model_hash"]
    assert set(history[0]["config_hashes"]) == {"baseline", "training"}
    assert history[0]["outputs"]["test_top1"] == metrics["test"]["top1_strict"]

    # A rerun of a finished run trains nothing and scores the same model.
    again = run_baseline(config)
    assert again.resumed_at_epoch == 2 and again.glyphs_per_second is None
    assert json.loads((rasters_layout.analysis / "baseline" / METRICS_FILE).read_text())["test"] == metrics["test"]

    # A checkpoint of other settings is refused, naming what differs, unless told to start over.
    with pytest.raises(StoreError, match="training_config_hash is .* set `resume: false`"):
        run_baseline(tiny_baseline(rasters_layout.root, seed=7))
