"""The training stages, each declared once: the CLI, the pipeline's dependency graph and staleness
rules, ``PipelineConfig``'s defaults and the check of the Makefile and compose file all read this.

A stage names its config model (whose ``env_prefix`` lets the environment override the file), its
default config, the stages whose outputs it reads, the run-record outputs that must still exist for
it to count as up to date, and the function that runs it (imported only when the stage runs, so a
command that needs no TensorFlow never loads it). See docs/training.md, "Adding a stage".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from glyph_core.analysis_config import AnalyzeConfig
from glyph_core.classifier_config import BaselineConfig, EvaluateConfig, Phase2Config, ProfileName
from glyph_core.config import RasterizerConfig, StrictModel, load_config
from glyph_core.export_config import ExportConfig, PredictConfig
from glyph_core.cell_config import Phase1Config, PrimitivesConfig
from pydantic import Field, field_validator


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    config_model: type[StrictModel]
    default_config: str
    run: str  # "module:function" (glyph-train stages); it takes (config, config_path=..., stage_key=..., **options)
    upstream: tuple[str, ...] = ()
    # Stages read only when the stage's config asks for them (Phase 2 distilling from the baseline).
    optional_upstream: tuple[tuple[str, Callable[[Any], bool]], ...] = ()
    outputs: tuple[str, ...] = ()  # keys of the stage's run record whose paths must still exist
    program: str = "glyph-train"  # tokenize is rasterd's: the pipeline runs it as a command
    checkpointed: bool = False  # a stale checkpoint is replaced, not refused, when the pipeline reruns it
    in_pipeline: bool = True  # part of `glyph-train pipeline`'s default stages (predict reads a store a user names)

    def upstream_for(self, config: Any) -> tuple[str, ...]:
        """The stages a run of this stage with ``config`` reads: ``upstream`` and the optional ones it turns on."""
        return self.upstream + tuple(name for name, wanted in self.optional_upstream if wanted(config))

    @property
    def command(self) -> str:
        return f"{self.program} {self.name}"

    def load_config(self, path: str) -> Any:
        """The stage's config from ``path``, with its environment overrides applied."""
        return load_config(path, self.config_model, env_prefix=self.config_model.env_prefix)

    def runner(self) -> Callable[..., Any]:
        module, function = self.run.split(":")
        return getattr(importlib.import_module(module), function)


STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in (
        Stage(
            "primitives", "train-split cells -> k-means primitive centroids, thumbnails, usage plot, QA numbers",
            PrimitivesConfig, "configs/primitives.yaml", "glyph_train.primitives.run:run_primitives",
            outputs=("centroids",),
        ),
        Stage(
            "tokenize", "rasters store (and its variants) + primitive centroids -> grids stores (rasterd's tokenizer)",
            RasterizerConfig, "configs/rasterizer.yaml", "",  # glyph-train never imports rasterd: a command
            upstream=("primitives",), program="rasterd",
        ),
        Stage(
            "phase1", "rasters + centroids -> Phase 1 cell classifier, metrics, predicted-grids store",
            Phase1Config, "configs/phase1.yaml", "glyph_train.phase1.run:run_phase1",
            upstream=("primitives",), outputs=("checkpoint", "predicted_grids", "metrics"), checkpointed=True,
        ),
        Stage(
            "baseline", "rasters -> one-stage glyph classifier on pixels (the comparison point)",
            BaselineConfig, "configs/baseline.yaml", "glyph_train.baseline.run:run_baseline",
            outputs=("checkpoint", "metrics"), checkpointed=True,
        ),  # before phase2, which can learn from it (loss.distill)
        Stage(
            "phase2", "primitive grids -> Phase 2 glyph classifier (Transformer or residual CNN), quick val/test scores",
            Phase2Config, "configs/phase2.yaml", "glyph_train.phase2.run:run_phase2",
            upstream=("phase1",), outputs=("checkpoint", "metrics"), checkpointed=True,
            optional_upstream=(("baseline", lambda config: config.loss.distill.weight > 0),),
        ),  # Phase 1's grids, and the true grids made from the primitives
        Stage(
            "evaluate", "trained models -> strict and alt-aware metrics, three-way comparison, report and plots",
            EvaluateConfig, "configs/evaluate.yaml", "glyph_train.evaluate.run:run_evaluate",
            upstream=("phase1", "phase2", "baseline"), outputs=("report", "json"),
        ),
        Stage(
            "export", "Phase 1 + Phase 2 -> a LiteRT model bundle (float32, int8), retrieval index, measured manifest",
            ExportConfig, "configs/export.yaml", "glyph_train.bundle.export:run_export",
            upstream=("phase1", "phase2"), outputs=("bundle", "manifest"),
        ),
        Stage(
            "analyze", "Phase 1 + Phase 2 -> an HTML error report: where the model looks, confusion families, Phase 1 noise, store QA",
            AnalyzeConfig, "configs/analyze.yaml", "glyph_train.analysis.run:run_analyze",
            upstream=("phase1", "phase2"), outputs=("report", "json"), in_pipeline=False,
        ),
        Stage(
            "predict", "a bundle over any rasters store -> predictions.jsonl, per-font summary, accuracy on known labels",
            PredictConfig, "configs/predict.yaml", "glyph_train.bundle.predict:run_predict",
            upstream=("export",), outputs=("predictions", "summary"), in_pipeline=False,
        ),
    )
}  # fmt: skip


class PipelineConfig(StrictModel):
    """`glyph-train pipeline`: every training stage in order, each skipped when its inputs and config are unchanged."""

    env_prefix: ClassVar[str | None] = "PIPELINE_"

    stages: list[str] = Field(
        default_factory=lambda: [name for name, stage in STAGES.items() if stage.in_pipeline], description="Stages to run, in this order."
    )
    configs: dict[str, str] = Field(
        default_factory=lambda: {name: stage.default_config for name, stage in STAGES.items()},
        description="Config file of each stage (tokenize runs `rasterd tokenize` with the rasterizer config).",
    )
    profile: ProfileName | None = Field(None, description="Overrides the profile of phase1, phase2 and baseline (phase1 has no `long`: it keeps its own).")
    force: bool = Field(False, description="Rerun every stage even when it is up to date.")

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)} (stages: {', '.join(STAGES)})")
        return names
