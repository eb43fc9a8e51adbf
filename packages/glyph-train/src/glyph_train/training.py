"""The checkpointed training loop every glyph-train model shares: resumable runs, best/last models, early stopping.

The checkpoint folder holds ``last.keras`` (model and optimizer after the latest epoch), ``best.keras``
(best val accuracy so far) and ``state.json`` (epoch, early-stopping state, history and the identity of
the run: config and input hashes). A rerun with the same identity continues where the last one
stopped; the optimizer's step counter travels in ``last.keras``, so a schedule continues too.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras

from glyph_train.data.stores import check_identity
from glyph_train.figures import plot_training_curves

LAST = "last.keras"
BEST = "best.keras"
STATE = "state.json"
CURVES = "training_curves.png"  # beside training.csv and tensorboard/ in the stage's logs folder


@dataclass
class TrainingState:
    identity: dict[str, str]
    epoch: int = 0  # epochs completed
    best_val_accuracy: float | None = None
    best_epoch: int = 0
    wait: int = 0  # epochs since the best one
    finished: bool = False
    history: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> TrainingState | None:
        path = folder / STATE
        if not (path.is_file() and (folder / LAST).is_file()):
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def save(self, folder: Path) -> None:
        partial = folder / (STATE + ".partial")
        partial.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        os.replace(partial, folder / STATE)


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    steps_per_epoch: int
    learning_rate: float  # the peak; each stage's optimizer shapes its schedule from its own config
    patience: int
    monitor: str = "val_accuracy"  # the logged metric early stopping and best.keras follow


def save_model(model: keras.Model, path: Path) -> None:
    """Write a .keras file whole or not at all."""
    partial = path.with_name("partial-" + path.name)
    model.save(partial)
    os.replace(partial, path)


class CheckpointAndStop(keras.callbacks.Callback):
    """After each epoch: save best/last models and the state; stop after ``patience`` epochs without progress."""

    def __init__(self, folder: Path, state: TrainingState, settings: TrainSettings, write: bool) -> None:
        super().__init__()
        self.folder = folder
        self.state = state
        self.settings = settings
        self.write = write

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        state = self.state
        accuracy = float(logs[self.settings.monitor])
        improved = state.best_val_accuracy is None or accuracy > state.best_val_accuracy
        if improved:
            state.best_val_accuracy, state.best_epoch, state.wait = accuracy, epoch + 1, 0
        else:
            state.wait += 1
        state.epoch = epoch + 1
        state.history.append({"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}})
        if state.wait >= self.settings.patience or state.epoch >= self.settings.epochs:
            state.finished = True
            self.model.stop_training = True
        if self.write:
            if improved:
                save_model(self.model, self.folder / BEST)
            save_model(self.model, self.folder / LAST)
            state.save(self.folder)


def prepare_run(
    folder: Path,
    identity: dict[str, str],
    resume: bool,
    strategy: Any,
    new_model: Callable[[], keras.Model],
    compile_model: Callable[[keras.Model], None],
    restart_stale: bool = False,
) -> tuple[keras.Model, TrainingState]:
    """The model and state to train from: a matching checkpoint when resuming, else a fresh compiled model.

    A checkpoint of another run is refused, naming what differs, unless ``restart_stale`` (the pipeline
    reruns a stage because its config or inputs changed) says to replace it.
    """
    state = TrainingState.load(folder)
    if state is not None and resume and restart_stale and any(state.identity.get(k) != v for k, v in identity.items()):
        print(f"{folder}: the checkpoint belongs to other settings or inputs; starting a new run", flush=True)
        state = None
    if state is not None and resume:
        check_identity(
            f"checkpoint {folder / LAST}", state.identity, identity,
            "set `resume: false` (or delete the folder) to start a new run",
        )  # fmt: skip
        with strategy.scope():
            model = keras.saving.load_model(folder / LAST)
        return model, state
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    with strategy.scope():
        model = new_model()
        compile_model(model)
    return model, TrainingState(identity=identity)


def fit(
    model: keras.Model,
    state: TrainingState,
    train_data: Any,
    val_data: Any,
    settings: TrainSettings,
    folder: Path,
    logs_folder: Path | None,
    tensorboard: bool,
    write: bool,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    validation_batch_size: int | None = None,
) -> TrainingState:
    """Train from ``state.epoch`` until early stopping or the last epoch; returns the final state."""
    if state.finished:
        return state
    # Extra callbacks (margin warm-up, plateau schedule) run before the checkpoint sees the epoch's logs.
    callbacks: list[keras.callbacks.Callback] = [*extra_callbacks, CheckpointAndStop(folder, state, settings, write)]
    if write and logs_folder is not None:
        logs_folder.mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.CSVLogger(str(logs_folder / "training.csv"), append=state.epoch > 0))
        if tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(logs_folder / "tensorboard"), write_graph=False))
    model.fit(
        train_data,
        epochs=settings.epochs,
        initial_epoch=state.epoch,
        steps_per_epoch=settings.steps_per_epoch,
        validation_data=val_data,
        validation_batch_size=validation_batch_size,
        callbacks=callbacks,
        shuffle=False,  # the stream shuffles itself
        verbose=2,
    )
    if write and logs_folder is not None:
        plot_training_curves(logs_folder / CURVES, state.history, f"{logs_folder.name}: training curves")
    return state
