"""`glyph-train phase1` end to end on a real store: metrics, plots, predicted grids, checkpoints, resume, mirrored."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from glyph_core.primitives import centroid_hash
from glyph_core.store import StoreError, open_store, read_masks

from glyph_core.cells import CellCodec
from glyph_train.phase1.run import run_phase1
from glyph_train.task import METRICS_FILE
from glyph_train.training import BEST, LAST, STATE
from train_helpers import tiny_phase1

SPLIT_METRICS = {"cells", "nonempty_cells", "empty_cells", "accuracy", "primitive_accuracy", "empty_false_positive_rate",
                 "ink_predicted_empty_rate", "buckets", "top_confusions", "errors_to_near_prototypes"}  # fmt: skip


def metric_keys(metrics):
    """The shape of a metrics document: nested keys, without values or list lengths."""
    if isinstance(metrics, dict):
        return {k: metric_keys(v) for k, v in metrics.items() if k != "history"}
    if isinstance(metrics, list):
        return [metric_keys(metrics[0])] if metrics else []
    return None


def check_metrics(metrics, replicas=1):
    assert metrics["model"]["parameters"] > 0 and len(metrics["model"]["model_hash"]) == 64
    assert metrics["training"]["replicas"] == replicas
    for split in ("val", "test"):
        for kind in ("clean", "augmented"):
            numbers = metrics[split][kind]
            assert SPLIT_METRICS <= set(numbers)
            assert numbers["cells"] == numbers["nonempty_cells"] + numbers["empty_cells"] > 0
            assert 0 <= numbers["accuracy"] <= 1 and 0 <= numbers["primitive_accuracy"] <= 1
            assert [b["bucket"] for b in numbers["buckets"]] == [
                "most frequent 0%-10%", "most frequent 10%-50%", "most frequent 50%-90%", "most frequent 90%-100%"]
            assert sum(b["cells"] for b in numbers["buckets"]) == numbers["nonempty_cells"]
            assert all({"true", "predicted", "cells", "share_of_errors"} == set(c) for c in numbers["top_confusions"])
        assert metrics[split]["clean"]["cells"] == metrics[split]["rasters"] * 256
    assert set(metrics["goals"]) == {"test_primitive_accuracy_at_least_0.99", "test_empty_false_positive_rate_below_0.001"}


def test_phase1_writes_metrics_plots_predicted_grids_and_resumes(primitives_layout):
    import keras

    config = tiny_phase1(primitives_layout.root)
    summary = run_phase1(config)
    assert summary.epochs_run == 1 and summary.resumed_at_epoch == 0
    folder = primitives_layout.analysis / "phase1"
    metrics = json.loads((folder / METRICS_FILE).read_text())
    check_metrics(metrics)
    for split in ("val", "test"):
        assert (folder / f"confusion_{split}.png").stat().st_size > 20_000
    checkpoints = primitives_layout.checkpoints("phase1")
    assert {p.name for p in checkpoints.iterdir()} == {BEST, LAST, STATE}
    assert (primitives_layout.logs / "phase1" / "training.csv").read_text().count("\n") == 2

    # The predicted-grids store covers every raster and holds the best model's ids.
    centroids = np.load(primitives_layout.centroids)
    store = open_store(primitives_layout.predicted_grids_store, "predicted_grids",
                       expect={"centroid_hash": centroid_hash(centroids), "model_hash": metrics["model"]["model_hash"]})  # fmt: skip
    rasters = open_store(primitives_layout.rasters_store, "rasters")
    assert np.array_equal(store["glyph_id"][:], rasters["glyph_id"][:])
    model = keras.saving.load_model(checkpoints / BEST)
    masks = read_masks(rasters, 1000, 1010, value=1)
    cells = CellCodec(8).decode(CellCodec(8).masks_to_keys(masks).reshape(-1)).reshape(-1, 8, 8, 1).astype(np.float32)
    predicted = np.argmax(model.predict(cells, verbose=0), axis=-1).reshape(10, 16, 16)
    assert np.array_equal(store["grid"][1000:1010], predicted)

    history = [json.loads(line) for line in (primitives_layout.run_history).read_text().splitlines()]
    assert history[-1]["command"] == "glyph-train phase1" and history[-1]["model_hash"] == metrics["model"]["model_hash"]

    # A rerun of a finished run trains nothing and scores the same model.
    again = run_phase1(config)
    assert again.resumed_at_epoch == 1 and again.epochs_run == 1
    assert json.loads((folder / METRICS_FILE).read_text())["test"] == metrics["test"]

    # A checkpoint of other settings is refused, naming what differs, unless told to start over.
    with pytest.raises(StoreError, match="training_config_hash is .* set `resume: false`"):
        run_phase1(tiny_phase1(primitives_layout.root, seed=7))
    np.save(primitives_layout.centroids, centroids[:-1])
    with pytest.raises(StoreError, match="centroid_hash is"):
        run_phase1(config)


def write_config(config, path):
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    return path


def run_cli(config_path, env=None):
    command = [sys.executable, "-m", "glyph_train.cli", "phase1", "--config", str(config_path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(primitives_layout, tmp_path):
    import keras

    config = tiny_phase1(primitives_layout.root, quick={"epochs": 3, "early_stopping_patience": 5})
    path = write_config(config, tmp_path / "phase1.yaml")
    state_file = primitives_layout.checkpoints("phase1") / STATE
    command = [sys.executable, "-m", "glyph_train.cli", "phase1", "--config", str(path)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (state_file.is_file() and json.loads(state_file.read_text())["epoch"] >= 1):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stopped_at = json.loads(state_file.read_text())["epoch"]
    assert 1 <= stopped_at < 3, "the run should be killed mid-way"

    result = run_cli(path)
    assert result.returncode == 0, result.stderr
    assert f"resumed after epoch {stopped_at}" in result.stdout
    state = json.loads(state_file.read_text())
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3] and state["finished"]
    steps = config.active.epoch_cells // config.active.batch_size
    last = keras.saving.load_model(primitives_layout.checkpoints("phase1") / LAST)
    assert int(last.optimizer.iterations.numpy()) == 3 * steps  # the schedule went on where it stopped


@pytest.mark.slow
def test_mirrored_on_two_logical_cpus_gives_the_same_metrics_shape(primitives_layout, tmp_path):
    plain = tiny_phase1(primitives_layout.root)
    assert run_cli(write_config(plain, tmp_path / "plain.yaml")).returncode == 0
    plain_metrics = json.loads((primitives_layout.analysis / "phase1" / METRICS_FILE).read_text())

    mirrored = tiny_phase1(primitives_layout.root, resume=False, distribute={"strategy": "mirrored", "cpu_devices": 2})
    result = run_cli(write_config(mirrored, tmp_path / "mirrored.yaml"))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((primitives_layout.analysis / "phase1" / METRICS_FILE).read_text())
    check_metrics(metrics, replicas=2)
    assert metric_keys(metrics) == metric_keys(plain_metrics)
    assert metrics["training"]["strategy"] == "mirrored"
