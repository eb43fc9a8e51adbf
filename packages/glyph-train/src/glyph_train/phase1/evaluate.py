"""Phase 1 over a whole rasters store: predicted grids for every raster and confusion counts per split.

Clean rasters are binary, so the model runs once per distinct cell pattern and the answer is
remembered; one pass over the store then writes the predicted-grids store and counts, per split,
how every cell's true primitive was predicted. Augmented rasters are continuous-valued and are
scored on a seeded sample of rasters, every cell of them.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
from glyph_core.store import SPLIT_CODES, create_store, finalize, temporary_path

from glyph_core.cells import CellCodec, PatternTable, PrimitiveAssigner
from glyph_core.rasters import RasterStore
from glyph_train.phase1.metrics import confusion_matrix
from glyph_train.phase1.preprocessor import CellPreprocessor


def model_hash(model: keras.Model) -> str:
    """sha256 of the model's weights (shapes and float bytes): names the model that made a predicted store."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        array = np.ascontiguousarray(weight)
        digest.update(repr((array.shape, str(array.dtype))).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def predict_ids(model: keras.Model, cells: np.ndarray, batch_size: int) -> np.ndarray:
    """Most likely primitive id of each (M, c, c, 1) cell."""
    ids = [
        np.argmax(model.predict_on_batch(cells[start : start + batch_size]), axis=-1)
        for start in range(0, len(cells), batch_size)
    ]
    return np.concatenate(ids).astype(np.int32) if ids else np.zeros(0, dtype=np.int32)


def pattern_predictor(model: keras.Model, codec: CellCodec, batch_size: int) -> PatternTable:
    """The model's prediction per distinct clean cell pattern (the empty cell included), remembered."""
    cell = codec.cell_size

    def compute(patterns: np.ndarray) -> np.ndarray:
        return predict_ids(model, patterns.reshape(-1, cell, cell, 1).astype(np.float32), batch_size)

    return PatternTable(codec, compute, empty_value=None)


def tokenize_and_score(
    source: RasterStore,
    assigner: PrimitiveAssigner,
    predictor: PatternTable,
    out: Any | None = None,
) -> dict[str, np.ndarray]:
    """One pass over every raster: predicted grids into ``out`` (a zarr group) and a confusion matrix per split."""
    classes = assigner.primitive_count
    confusions = {name: np.zeros((classes, classes), dtype=np.int64) for name in SPLIT_CODES}
    for chunk in range(source.chunk_count):
        rows = source.chunk_rows(chunk)
        keys = assigner.codec.masks_to_keys(source.read_chunk(chunk))
        targets = assigner.assign_keys(keys)
        predicted = predictor.lookup(keys)
        if out is not None:
            out["grid"][rows.start : rows.stop] = predicted.astype(np.uint16)
        codes = source.split[rows.start : rows.stop]
        for name, code in SPLIT_CODES.items():
            chosen = codes == code
            if chosen.any():
                confusions[name] += confusion_matrix(targets[chosen].ravel(), predicted[chosen].ravel(), classes)
    return confusions


def score_augmented(
    source: RasterStore,
    rows: np.ndarray,
    preprocessor: CellPreprocessor,
    model: keras.Model,
    *,
    seed: int,
    batch_size: int,
) -> np.ndarray:
    """Confusion counts over every cell of ``rows`` after augmentation (seeded)."""
    classes = preprocessor.assigner.primitive_count
    rng = np.random.default_rng(seed)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for chunk_rows, masks in source.iter_rows(rows):
        batch = preprocessor(masks, source.is_diacritic[chunk_rows], rng, augment=True, cap_empty=False)
        confusion += confusion_matrix(batch.targets, predict_ids(model, batch.inputs, batch_size), classes)
    return confusion


def write_predicted_grids(
    final: Path,
    source: RasterStore,
    assigner: PrimitiveAssigner,
    predictor: PatternTable,
    attrs: Mapping[str, Any],
) -> dict[str, np.ndarray]:
    """Write the predicted-grids store (temp path, renamed when whole); returns the per-split confusions."""
    temp = temporary_path(final)
    shutil.rmtree(temp, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    group = create_store(temp, "predicted_grids", source.count, source.chunk_size, {
        "rasters_build_id": source.build_id,
        "label_map_hash": source.label_map_hash,
        "grid_side": source.grid_side,
        "cell_size": source.cell_size,
        "primitive_count": assigner.primitive_count,
        **attrs,
    })  # fmt: skip
    group["glyph_id"][:] = source.group["glyph_id"][:]
    confusions = tokenize_and_score(source, assigner, predictor, group)
    finalize(temp, final)
    return confusions
