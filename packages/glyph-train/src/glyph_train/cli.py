"""`glyph-train` command line: one subcommand per training stage (``glyph_train.stages``) plus
`pipeline`, each taking a config path."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from glyph_core.cli import Command, run_cli
from glyph_core.config import ConfigError, load_config
from glyph_core.store import StoreError

from glyph_train.errors import TrainingInputError
from glyph_train.stages import STAGES, PipelineConfig, Stage


def _stage_command(stage: Stage) -> Command:
    def run(config_path: str) -> object:
        return stage.runner()(stage.load_config(config_path), config_path=config_path)

    return Command(stage.help, stage.default_config, run)


def _pipeline(config_path: str) -> object:
    from glyph_train.pipeline import run_pipeline

    return run_pipeline(load_config(config_path, PipelineConfig, env_prefix=PipelineConfig.env_prefix), config_path=config_path)


def _ablate(config_path: str) -> object:
    from glyph_core.ablation_config import AblateConfig

    from glyph_train.ablation.run import run_ablate

    return run_ablate(load_config(config_path, AblateConfig, env_prefix=AblateConfig.env_prefix), config_path=config_path)


COMMANDS: dict[str, Command] = {
    **{name: _stage_command(stage) for name, stage in STAGES.items() if stage.program == "glyph-train"},
    "pipeline": Command(
        "every training stage in order (primitives ... evaluate), skipping stages that are up to date",
        "configs/pipeline.yaml",
        _pipeline,
    ),
    "ablate": Command(
        "pipeline variants side by side (cell size, vocabulary, anchoring, fill rule, cues, backbone, loss, baseline): one table",
        "configs/ablations.yaml",
        _ablate,
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    user_errors = (ConfigError, StoreError, TrainingInputError, FileNotFoundError)
    return run_cli("glyph-train", "Glyphgrid training client.", COMMANDS, user_errors, argv)


if __name__ == "__main__":
    sys.exit(main())
