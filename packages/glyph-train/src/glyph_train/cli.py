"""`glyph-train` command line: one subcommand per training stage, each taking a config path.

Stages register in ``COMMANDS``; phase2, baseline, evaluate and pipeline slot in the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from glyph_core.cli import Command, run_cli
from glyph_core.config import ConfigError, Phase1Config, PrimitivesConfig, load_config
from glyph_core.store import StoreError

from glyph_train.errors import TrainingInputError


# Environment variables <PREFIX><KEY> (nested keys joined by __) override a command's config, as for
# rasterd, e.g. PHASE1_PROFILE=full or PHASE1_DISTRIBUTE__STRATEGY=mirrored.
PRIMITIVES_ENV_PREFIX = "PRIMITIVES_"
PHASE1_ENV_PREFIX = "PHASE1_"


def _primitives(config_path: str) -> object:
    from glyph_train.primitives.run import run_primitives

    config = load_config(config_path, PrimitivesConfig, env_prefix=PRIMITIVES_ENV_PREFIX)
    return run_primitives(config, config_path=config_path)


def _phase1(config_path: str) -> object:
    from glyph_train.phase1.run import run_phase1

    return run_phase1(load_config(config_path, Phase1Config, env_prefix=PHASE1_ENV_PREFIX), config_path=config_path)


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
}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    user_errors = (ConfigError, StoreError, TrainingInputError, FileNotFoundError)
    return run_cli("glyph-train", "Glyphgrid training client.", COMMANDS, user_errors, argv)


if __name__ == "__main__":
    sys.exit(main())
