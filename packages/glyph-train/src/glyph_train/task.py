"""The one shape of a training stage's run (Phase 1, Phase 2, the baseline): a template that each
stage fills in with what is really its own.

The order every stage follows: seed and distribution strategy; load inputs; the training settings from
the active profile; a resumable model (``prepare_run``: a matching checkpoint, or a fresh compiled
model); datasets; ``fit`` with early stopping and checkpoints; the best checkpoint scored on held-out
designs; ``metrics.json`` under ``outputs/analysis/<stage>/`` and a line in the run history with the
stage key the pipeline passed. Only the chief worker writes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import keras
from glyph_core.config import ProfiledConfig, config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run

from glyph_train.distribute import is_chief, make_strategy
from glyph_train.training import BEST, TrainingState, TrainSettings, fit, prepare_run

METRICS_FILE = "metrics.json"


@dataclass
class Datasets:
    """What ``fit`` trains on; both None when the run has finished already."""

    train: Any
    val: Any
    callbacks: list[keras.callbacks.Callback]


@dataclass
class StageSummary:
    """What every training stage reports when it ends; each stage's summary adds its own fields."""

    profile: str
    parameters: int
    epochs_run: int
    resumed_at_epoch: int
    best_epoch: int
    best_val_accuracy: float
    steps_per_epoch: int
    seconds: float

    def header(self, model: str, rate: str = "") -> list[str]:
        """The profile and training lines every stage's printout starts with."""
        resumed = f" (resumed after epoch {self.resumed_at_epoch})" if self.resumed_at_epoch else ""
        return [
            f"profile          {self.profile}: {model}, {self.parameters:,} parameters",
            f"training         {self.epochs_run} epochs{resumed}, best val accuracy {self.best_val_accuracy:.4f} "
            f"at epoch {self.best_epoch}{rate}",
        ]


@dataclass
class FitResult:
    model: keras.Model  # the best checkpoint (or the model in memory when none was written)
    state: TrainingState
    resumed_at: int
    settings: TrainSettings
    fit_seconds: float
    folder: Path


class TrainingTask:
    """A training stage: subclasses set ``stage`` and fill in the methods that raise NotImplementedError."""

    stage: ClassVar[str]
    command: ClassVar[str | None] = None  # the run record's command; default `glyph-train <stage>`
    monitor: ClassVar[str] = "val_accuracy"  # the logged metric early stopping and best.keras follow
    validation_batch_size: int | None = None

    def __init__(
        self,
        config: ProfiledConfig,
        config_path: str | None = None,
        stage_key: str | None = None,
        restart_stale: bool = False,
        strategy: Any = None,
    ) -> None:
        self.began = time.perf_counter()
        self.config = config
        self.config_path, self.stage_key, self.restart_stale = config_path, stage_key, restart_stale
        self.layout = OutputLayout.at(config.outputs.root)  # type: ignore[attr-defined]
        # A stage run inside another (joint fine-tuning after Phase 2) passes the strategy it already has.
        self.strategy = make_strategy(config.distribute) if strategy is None else strategy  # type: ignore[attr-defined]
        keras.utils.set_random_seed(config.seed)  # type: ignore[attr-defined]
        self.profile = config.active

    # --- what each stage fills in -------------------------------------------------------------
    def load_inputs(self) -> None:
        """Open the stores the stage reads (after the seed is set, before the model is built)."""
        raise NotImplementedError

    def epoch_units(self) -> int:
        """Training examples (glyphs or cells) per epoch."""
        raise NotImplementedError

    def batch_size(self) -> int:
        """The global batch; by default the active profile's."""
        return int(self.profile.batch_size)

    def train_settings(self) -> TrainSettings:
        """Epochs, steps, rate and patience; by default the active profile's."""
        profile = self.profile
        return TrainSettings(
            epochs=profile.epochs,
            steps_per_epoch=max(1, self.epoch_units() // self.batch_size()),
            learning_rate=profile.learning_rate,
            patience=profile.early_stopping_patience,
            monitor=self.monitor,
        )

    def identity(self) -> dict[str, str]:
        """What a checkpoint must share with this run to be resumed (``training_config_hash`` and input hashes)."""
        raise NotImplementedError

    def new_model(self) -> keras.Model:
        raise NotImplementedError

    def compile(self, model: keras.Model, settings: TrainSettings) -> None:
        raise NotImplementedError

    def datasets(self, model: keras.Model, state: TrainingState, settings: TrainSettings) -> Datasets:
        raise NotImplementedError

    def load_best(self, path: Path) -> keras.Model:
        raise NotImplementedError

    def after_fit(self, result: FitResult) -> None:
        """Work every worker does after training (default: none)."""

    def metrics(self, result: FitResult) -> dict[str, Any]:
        """Scores of the best model and what it was made from (the chief only)."""
        raise NotImplementedError

    def training_extras(self, result: FitResult) -> dict[str, Any]:
        """Stage-specific entries of metrics.json's ``training`` section."""
        return {}

    def run_record(self, result: FitResult, metrics: dict[str, Any], metrics_path: Path) -> dict[str, Any]:
        """``record_run`` keywords beyond the command, the config hashes and the stage key."""
        raise NotImplementedError

    def summary(self, result: FitResult, metrics: dict[str, Any], metrics_path: str) -> Any:
        raise NotImplementedError

    # --- the template ---------------------------------------------------------------------------
    def run(self) -> Any:
        self.load_inputs()
        settings = self.train_settings()
        folder = self.layout.checkpoints(self.stage)
        identity = self.identity()
        model, state = prepare_run(
            folder, identity, self.config.resume, self.strategy, self.new_model,  # type: ignore[attr-defined]
            lambda m: self.compile(m, settings), self.restart_stale,
        )  # fmt: skip
        resumed_at = state.epoch
        data = self.datasets(model, state, settings)
        chief = is_chief()
        fit_began = time.perf_counter()
        state = fit(
            model, state, data.train, data.val, settings, folder, self.layout.logs / self.stage,
            self.config.tensorboard, chief, extra_callbacks=data.callbacks,  # type: ignore[attr-defined]
            validation_batch_size=self.validation_batch_size,
        )  # fmt: skip
        fit_seconds = time.perf_counter() - fit_began
        best = self.load_best(folder / BEST) if (folder / BEST).is_file() else model
        result = FitResult(best, state, resumed_at, settings, fit_seconds, folder)
        self.after_fit(result)
        if not chief:
            return self.summary(result, {}, "")
        metrics = self.metrics(result)
        metrics["training"] = {**self.training_record(result), **self.training_extras(result)}
        metrics_path = self.layout.analysis / self.stage / METRICS_FILE
        metrics_path.parent.mkdir(parents=True, exist_ok=True)
        metrics_path.write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
        record_run(
            self.layout, self.command or f"glyph-train {self.stage}",
            {self.stage: config_hash(self.config), "training": identity["training_config_hash"]},
            config_path=self.config_path, stage_key=self.stage_key, **self.run_record(result, metrics, metrics_path),
        )  # fmt: skip
        return self.summary(result, metrics, str(metrics_path))

    def training_record(self, result: FitResult) -> dict[str, Any]:
        """The ``training`` entries every stage writes."""
        return {
            "profile": self.config.profile,  # type: ignore[attr-defined]
            "epochs_run": result.state.epoch,
            "resumed_at_epoch": result.resumed_at,
            "best_epoch": result.state.best_epoch,
            "best_val_accuracy": result.state.best_val_accuracy,
            "steps_per_epoch": result.settings.steps_per_epoch,
            "global_batch_size": self.batch_size(),
            "learning_rate": result.settings.learning_rate,
            "strategy": self.config.distribute.strategy,  # type: ignore[attr-defined]
            "replicas": int(self.strategy.num_replicas_in_sync),
            "fit_seconds_this_run": result.fit_seconds,
            "history": result.state.history,
        }

    def summary_fields(self, result: FitResult) -> dict[str, Any]:
        """The fields every stage's summary starts with."""
        return {
            "profile": self.config.profile,  # type: ignore[attr-defined]
            "parameters": int(result.model.count_params()),
            "epochs_run": result.state.epoch,
            "resumed_at_epoch": result.resumed_at,
            "best_epoch": result.state.best_epoch,
            "best_val_accuracy": float(result.state.best_val_accuracy or 0.0),
            "steps_per_epoch": result.settings.steps_per_epoch,
            "seconds": time.perf_counter() - self.began,
        }
