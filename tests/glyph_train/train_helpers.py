"""Helpers shared by the glyph-train tests (configs of tiny runs, model round trips)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

import yaml

from glyph_core.cell_config import Phase1Config, PrimitivesConfig
from glyph_core.classifier_config import BaselineConfig, EvaluateConfig, Phase2Config
from glyph_core.config import RasterizerConfig
from glyph_core.export_config import ExportConfig
from glyph_train.stages import PipelineConfig

SMALL_CLUSTERS = 127  # a vocabulary the small store fills easily and tests fit in seconds


EVALUATE_RESAMPLES = 200  # bootstrap resamples of the tiny evaluations (the default 1000 is for reports)

VARIANTS = 2  # outline-augmented variants per train glyph in the small store


def rasterizer_config(db: Path, root: Path) -> RasterizerConfig:
    return RasterizerConfig.model_validate(
        {"database": str(db), "outputs": {"root": str(root)}, "labels": {"min_count": 3},
         "dask": {"workers": 1}, "build": {"chunk_size": 256}, "augment": {"variants": VARIANTS}}
    )  # fmt: skip


def copy_outputs(source: Path, target: Path) -> Path:
    """Copy an outputs root (stores, meta, primitives), without the run history."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("run_history.jsonl", "checkpoints", "logs"))
    return target


def tiny_phase1(root: Path, **overrides: Any) -> Phase1Config:
    """A Phase 1 config that trains for seconds on the small store."""
    quick = {"epochs": 1, "epoch_cells": 16_384, "batch_size": 512, "early_stopping_patience": 2,
             "val_cells": 8_192, "augmented_eval_rasters": 64}  # fmt: skip
    quick.update(overrides.pop("quick", {}))
    data = {"outputs": {"root": str(root)}, "profiles": {"quick": quick}, "tensorboard": False, **overrides}
    return Phase1Config.model_validate(data)


def check_save_and_reload(model: Any, inputs: np.ndarray, targets: np.ndarray, folder: Path) -> Any:
    """keras-hub's round trip: build, train a step, save, reload, predict the same (and train on)."""
    import keras

    model.compile(optimizer="adamw", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(inputs, targets, batch_size=len(targets), epochs=1, verbose=0)
    before = model.predict(inputs, verbose=0)
    path = folder / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(restored.predict(inputs, verbose=0), before, rtol=1e-6, atol=1e-6)
    restored.fit(inputs, targets, batch_size=len(targets), epochs=1, verbose=0)
    return restored


PIPELINE_STAGES = ["primitives", "tokenize", "phase1", "baseline", "phase2", "evaluate", "export"]


def tiny_phase2(root: Path, **changes: object) -> Phase2Config:
    quick = {
        "epochs": 6, "batch_size": 32, "early_stopping_patience": 6, "learning_rate": 2e-3,
        "model": {"backbone": "cnn", "cnn": {"stage_blocks": [1, 1, 1], "width": 16}},  # the CPU profiles' backbone, narrow
    }  # fmt: skip
    data = {"outputs": {"root": str(root)}, "profiles": {"quick": quick}, "tensorboard": False,
            "input": {"augment": {"share": 0.3}}, "schedule": {"warmup_epochs": 0.2}, **changes}  # fmt: skip
    return Phase2Config.model_validate(data)


# The CPU profiles' pixel CNN, narrow: MobileNetV3Small (the full profile's) costs a minute a run here,
# and its own round trip is tested in test_baseline.py.
TINY_PIXEL_CNN = {"cnn": {"stage_blocks": [1, 1, 1], "width": 16}}


def tiny_baseline(root: Path, seed: int = 42) -> BaselineConfig:
    quick = {"epochs": 1, "epoch_glyphs": 128, "batch_size": 32, "early_stopping_patience": 1}
    return BaselineConfig.model_validate(
        {"outputs": {"root": str(root)}, "profiles": {"quick": quick}, "model": TINY_PIXEL_CNN, "tensorboard": False, "seed": seed}
    )


def write_pipeline_configs(folder: Path, root: Path, db: Path, baseline_seed: int = 42, **phase2_changes: object) -> PipelineConfig:
    """YAML files of tiny stage configs, and the pipeline config naming them."""
    folder.mkdir(parents=True, exist_ok=True)
    configs = {
        "primitives": PrimitivesConfig(outputs={"root": str(root)}, clusters=SMALL_CLUSTERS),
        "tokenize": rasterizer_config(db, root),
        "phase1": tiny_phase1(root),
        "phase2": tiny_phase2(root, **phase2_changes),
        "baseline": tiny_baseline(root, baseline_seed),
        "evaluate": EvaluateConfig(outputs={"root": str(root)}, min_font_glyphs=5, bootstrap_resamples=EVALUATE_RESAMPLES),
        "export": ExportConfig(outputs={"root": str(root)}, calibration_glyphs=64, latency_glyphs=8, bootstrap_resamples=100),
    }
    paths = {}
    for name, config in configs.items():
        paths[name] = str(folder / f"{name}.yaml")
        Path(paths[name]).write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    return PipelineConfig(stages=PIPELINE_STAGES, configs=paths)
