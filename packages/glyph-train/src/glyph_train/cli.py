"""`glyph-train` command line: one subcommand per training stage, each taking a config path.

Stages register in ``COMMANDS``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from glyph_core.cli import Command, run_cli
from glyph_core.classifier_config import BaselineConfig, EvaluateConfig, Phase2Config, PipelineConfig
from glyph_core.config import ConfigError, Phase1Config, PrimitivesConfig, load_config
from glyph_core.store import StoreError

from glyph_train.errors import TrainingInputError


# Environment variables <PREFIX><KEY> (nested keys joined by __) override a command's config, as for
# rasterd, e.g. PHASE1_PROFILE=full or PHASE1_DISTRIBUTE__STRATEGY=mirrored.
PRIMITIVES_ENV_PREFIX = "PRIMITIVES_"
PHASE1_ENV_PREFIX = "PHASE1_"
PHASE2_ENV_PREFIX = "PHASE2_"
BASELINE_ENV_PREFIX = "BASELINE_"
EVALUATE_ENV_PREFIX = "EVALUATE_"
PIPELINE_ENV_PREFIX = "PIPELINE_"


def _primitives(config_path: str) -> object:
    from glyph_train.primitives.run import run_primitives

    config = load_config(config_path, PrimitivesConfig, env_prefix=PRIMITIVES_ENV_PREFIX)
    return run_primitives(config, config_path=config_path)


def _phase1(config_path: str) -> object:
    from glyph_train.phase1.run import run_phase1

    return run_phase1(load_config(config_path, Phase1Config, env_prefix=PHASE1_ENV_PREFIX), config_path=config_path)


def _phase2(config_path: str) -> object:
    from glyph_train.phase2.run import run_phase2

    return run_phase2(load_config(config_path, Phase2Config, env_prefix=PHASE2_ENV_PREFIX), config_path=config_path)


def _baseline(config_path: str) -> object:
    from glyph_train.baseline.run import run_baseline

    return run_baseline(load_config(config_path, BaselineConfig, env_prefix=BASELINE_ENV_PREFIX), config_path=config_path)


def _evaluate(config_path: str) -> object:
    from glyph_train.evaluate.run import run_evaluate

    return run_evaluate(load_config(config_path, EvaluateConfig, env_prefix=EVALUATE_ENV_PREFIX), config_path=config_path)


def _pipeline(config_path: str) -> object:
    from glyph_train.pipeline import run_pipeline

    return run_pipeline(load_config(config_path, PipelineConfig, env_prefix=PIPELINE_ENV_PREFIX), config_path=config_path)


COMMANDS: dict[str, Command] = {
    "primitives": Command(
        "train-split cells -> k-means primitive centroids, thumbnails, usage plot, QA numbers",
        "configs/primitives.yaml",
        _primitives,
    ),
    "phase1": Command(
        "rasters + centroids -> Phase 1 cell classifier, metrics, predicted-grids store",
        "configs/phase1.yaml",
        _phase1,
    ),
    "phase2": Command(
        "primitive grids -> Phase 2 glyph classifier (Transformer or residual CNN), quick val/test scores",
        "configs/phase2.yaml",
        _phase2,
    ),
    "baseline": Command(
        "rasters -> one-stage MobileNetV3Small glyph classifier (the comparison point)",
        "configs/baseline.yaml",
        _baseline,
    ),
    "evaluate": Command(
        "trained models -> strict and alt-aware metrics, three-way comparison, report and plots",
        "configs/evaluate.yaml",
        _evaluate,
    ),
    "pipeline": Command(
        "every training stage in order (primitives ... evaluate), skipping stages that are up to date",
        "configs/pipeline.yaml",
        _pipeline,
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    user_errors = (ConfigError, StoreError, TrainingInputError, FileNotFoundError)
    return run_cli("glyph-train", "Glyphgrid training client.", COMMANDS, user_errors, argv)


if __name__ == "__main__":
    sys.exit(main())
