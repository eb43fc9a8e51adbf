"""`glyph-train phase2`: primitive grids -> trained glyph classifier (docs/phase2.md), optional joint fine-tuning.

Trains on Phase 1's predicted grids by default (deployment noise) with token noise and
the outline-augmented variants `rasterd build` writes (docs/training.md), stops early on val accuracy, and writes quick val/test numbers
on both true and predicted grids; `glyph-train evaluate` gives the full report.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
from glyph_core.classifier_config import Phase2Config

from glyph_train.data.glyph_stream import GlyphBatches
from glyph_train.data.token_confusion import TokenConfusions, measure_confusions
from glyph_train.data.variants import Variants, load_variants
from glyph_train.distribute import distributed_batches
from glyph_train.optim import schedule_callbacks
from glyph_train.phase1.evaluate import model_hash
from glyph_train.phase2.classifier import build_grid_classifier, load_grid_classifier
from glyph_train.phase2.heads import MarginWarmup
from glyph_train.phase2.inputs import GridPreparer, model_inputs, model_targets, signature
from glyph_train.phase2.teacher import TeacherTargets, teacher_targets
from glyph_train.phase2.setup import MONITOR, GridData, compile_phase2, label_loss, load_grid_data
from glyph_train.predict import format_share, predict_logits, strict_shares, top_k
from glyph_train.task import Datasets, FitResult, StageSummary, TrainingTask
from glyph_train.training import BEST, TrainingState, TrainSettings


@dataclass
class Phase2Summary(StageSummary):
    backbone: str
    scores: dict[str, dict[str, float | int | None]]
    joint: dict[str, Any] | None
    metrics_path: str

    def __str__(self) -> str:
        lines = self.header(self.backbone)
        for name, score in self.scores.items():
            top1, top5 = format_share(score["top1_strict"]), format_share(score["top5_strict"])
            lines.append(f"{name:<17}top-1 {top1}, top-5 {top5} (strict; alt-aware in `glyph-train evaluate`)")
        if self.joint:
            lines.append(f"joint            {self.joint['epochs_run']} epochs, test top-1 {format_share(self.joint['test_top1'])} end to end")
        lines += [f"time             {self.seconds:.1f} s", f"metrics          {self.metrics_path}"]
        return "\n".join(lines)


def training_identity(config: Phase2Config, inputs: dict[str, str]) -> dict[str, str]:
    shaping = config.model_dump(mode="json", include={"seed", "input", "loss", "schedule"})
    # The joint settings shape only the joint stage's checkpoint (whose identity holds them), not Phase 2's.
    shaping["profile"] = config.active.model_dump(mode="json", exclude={"joint"})
    shaping["input"].pop("prefetch_batches")
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return {"training_config_hash": digest, **inputs}


def grid_scores(model: keras.Model, data: GridData, grids: np.ndarray, rows: np.ndarray, batch_size: int) -> dict[str, float | int | None]:
    """Strict top-1 / top-5 of ``model`` on ``rows`` fed ``grids``."""
    logits = predict_logits(model, model_inputs(grids[rows], data.table, rows), batch_size)
    return strict_shares(top_k(logits, 5), data.table.label[rows])


class Phase2Task(TrainingTask):
    stage = "phase2"
    monitor = MONITOR

    def load_inputs(self) -> None:
        config = self.config
        self.validation_batch_size = config.eval_batch_size
        self.data = data = load_grid_data(self.layout)
        self.aux = config.loss.aux_diacritic_weight > 0
        self.train_rows, self.val_rows = data.table.rows_of("train"), data.table.rows_of("val")
        self.train_grids = data.predicted_grids if config.input.train_grids == "predicted" else data.true_grids
        self.variants: Variants | None = None
        distill = config.loss.distill.weight > 0
        if config.input.augment.share > 0:
            # The teacher reads the variants' rasters once; training needs only their grids.
            self.variants = load_variants(self.layout, data.source, rasters=distill, grids_centroid_hash=data.centroid_hash)
        self.teacher: TeacherTargets | None = None
        if distill:
            self.teacher = teacher_targets(
                self.layout, data.source, data.table, self.train_rows, self.variants, config.loss.distill, config.eval_batch_size
            )
            if self.variants is not None:
                self.variants = replace(self.variants, packed=None)

    def epoch_units(self) -> int:
        return self.profile.epoch_glyphs or len(self.train_rows)

    def identity(self) -> dict[str, str]:
        data = self.data
        return training_identity(self.config, {
            "rasters_build_id": data.source.build_id, "centroid_hash": data.centroid_hash, "phase1_model_hash": data.phase1_model_hash,
            **({"variants_build_id": self.variants.build_id} if self.variants else {}),
            **({"teacher_model_hash": self.teacher.model_hash} if self.teacher else {}),
        })  # fmt: skip

    def new_model(self) -> keras.Model:
        data, profile = self.data, self.profile
        return build_grid_classifier(
            profile.model, profile.margin, data.vocab, data.source.grid_side, len(data.table.labels), self.aux, data.centroids
        )

    def compile(self, model: keras.Model, settings: TrainSettings) -> None:
        compile_phase2(model, self.config, self.profile, settings, len(self.data.table.labels))

    def datasets(self, model: keras.Model, state: TrainingState, settings: TrainSettings) -> Datasets:
        config, data, table, source = self.config, self.data, self.data.table, self.data.source
        preparer = GridPreparer(
            table, self.train_grids, config.input, data.vocab, self.aux, variants=self.variants,
            confusions=self.confusions() if config.input.token_noise_from == "confusions" else None, teacher=self.teacher,
        )  # fmt: skip

        def make_dataset(batch: int, shard: tuple[int, int]) -> Any:
            rows = self.train_rows[shard[0] :: shard[1]]
            stream = GlyphBatches(rows, batch, config.seed, preparer, start_batch=state.epoch * settings.steps_per_epoch)
            teacher_classes = self.teacher.classes if self.teacher else 0
            return stream.dataset(signature(source.grid_side, self.aux, teacher_classes), config.input.prefetch_batches)

        val_x = model_inputs(self.train_grids[self.val_rows], table, self.val_rows)
        val_data = (val_x, model_targets(table, self.val_rows, self.aux))
        callbacks = schedule_callbacks(config.schedule, MONITOR)
        if self.profile.margin.kind != "none":
            callbacks.append(MarginWarmup(label_loss(model), self.profile.margin))
        return Datasets(distributed_batches(self.strategy, make_dataset, self.profile.batch_size), val_data, callbacks)

    def confusions(self) -> TokenConfusions:
        """Phase 1's confusions on the train split, measured once per run."""
        if not hasattr(self, "_confusions"):
            rows, data = self.train_rows, self.data
            self._confusions = measure_confusions(data.true_grids[rows], data.predicted_grids[rows], data.vocab)
        return self._confusions

    def load_best(self, path: Path) -> keras.Model:
        return load_grid_classifier(path)

    def after_fit(self, result: FitResult) -> None:
        # Test only: validation is in the training history, and `glyph-train evaluate` scores both splits.
        data, batch = self.data, self.config.eval_batch_size
        self.scores = {
            f"test {kind}": grid_scores(result.model, data, grids, data.table.rows_of("test"), batch)
            for kind, grids in (("true", data.true_grids), ("predicted", data.predicted_grids))
        }
        self.joint = None
        if self.profile.joint.enabled:
            from glyph_train.phase2.joint_run import run_joint

            self.joint = run_joint(self, result.model).record()

    def metrics(self, result: FitResult) -> dict[str, Any]:
        best = result.model
        return {
            "model": {
                "parameters": int(best.count_params()), "backbone": self.profile.model.backbone,
                "backbone_parameters": int(best.backbone.count_params()), "model_hash": model_hash(best),
                "checkpoint": str(result.folder / BEST),
            },
            "inputs": self.identity(),
            "scores": self.scores,
            "joint": self.joint,
        }  # fmt: skip

    def training_extras(self, result: FitResult) -> dict[str, Any]:
        extras: dict[str, Any] = {"train_grids": self.config.input.train_grids, "token_noise_from": self.config.input.token_noise_from}
        if self.config.input.token_noise_from == "confusions":
            extras["phase1_confused_share"] = self.confusions().confused_share  # non-empty train cells Phase 1 swaps
        return extras

    def run_record(self, result: FitResult, metrics: dict[str, Any], metrics_path: Path) -> dict[str, Any]:
        joint = self.joint
        return {
            "inputs": {k: v for k, v in self.identity().items() if k != "training_config_hash"},
            "outputs": {"checkpoint": str(result.folder / BEST), "metrics": str(metrics_path), **({"joint": joint["checkpoint"]} if joint else {})},
            "model_hash": metrics["model"]["model_hash"],
        }

    def summary(self, result: FitResult, metrics: dict[str, Any], metrics_path: str) -> Phase2Summary:
        return Phase2Summary(
            **self.summary_fields(result), backbone=self.profile.model.backbone, scores=self.scores, joint=self.joint,
            metrics_path=metrics_path,
        )


def run_phase2(config: Phase2Config, config_path: str | None = None, stage_key: str | None = None, restart_stale: bool = False
) -> Phase2Summary:
    return Phase2Task(config, config_path, stage_key, restart_stale).run()
