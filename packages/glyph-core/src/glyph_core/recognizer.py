"""Runs an exported bundle (docs/export.md) with LiteRT, no TensorFlow: rasters in, label probabilities,
primitive grids and retrieval features out. Used by rasterd serve and `glyph-train predict`.

Phase 1 runs once per distinct 8x8 cell pattern (remembered across calls, as glyph-train's own
end-to-end evaluation does), then Phase 2 on the id grid. Needs `ai-edge-litert` (glyph-train
installs it; rasterd with its `recognize` extra).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from glyph_core.bundle import BundleError, BundleManifest, Precision, read_manifest
from glyph_core.cells import CellCodec, PatternTable

SIGNATURE = "serving_default"


def _interpreter(path: Path, threads: int) -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BundleError("running a bundle needs the LiteRT runtime: pip install ai-edge-litert (rasterd: the `recognize` extra)") from exc
    if not path.is_file():
        raise BundleError(f"bundle model {path} is missing")
    return Interpreter(model_path=str(path), num_threads=threads)


class LiteModel:
    """One LiteRT model's serving signature, called with named arrays, in batches of at most ``batch``."""

    def __init__(self, path: Path, threads: int, batch: int) -> None:
        self.runner = _interpreter(path, threads).get_signature_runner(SIGNATURE)
        self.batch = batch

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        count = len(next(iter(inputs.values())))
        parts: dict[str, list[np.ndarray]] = {}
        for start in range(0, count, self.batch):
            out = self.runner(**{k: v[start : start + self.batch] for k, v in inputs.items()})
            for key, value in out.items():
                parts.setdefault(key, []).append(np.array(value))
        return {key: np.concatenate(value) for key, value in parts.items()}


@dataclass(frozen=True)
class Recognition:
    grids: np.ndarray  # (n, G, G) int32 primitive ids (0 = empty cell)
    probabilities: np.ndarray  # (n, classes) float32
    features: np.ndarray  # (n, feature_dim) float32, unit norm (cosine similarity = dot product)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """(n, k) class ids, best first, ties broken by the lower id (so column 0 is ``argmax``: quantized
    models give many exactly tied scores, and a report must rank them as the accuracy counts them)."""
    scores = np.asarray(scores)
    k = min(k, scores.shape[1])
    part = np.sort(np.argpartition(-scores, k - 1, axis=1)[:, :k], axis=1)
    values = np.take_along_axis(scores, part, axis=1)
    best = np.take_along_axis(part, np.argsort(-values, axis=1, kind="stable"), axis=1)
    # Where the k-th score is shared with ids left outside the partition, which of them it kept is arbitrary.
    crowded = (scores >= values.min(axis=1, keepdims=True)).sum(axis=1) > k
    if crowded.any():
        best[crowded] = np.argsort(-scores[crowded], axis=1, kind="stable")[:, :k]
    return best


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(np.float32)


def unit_rows(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    features = np.asarray(features, dtype=np.float32)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


class Recognizer:
    """A loaded bundle at one precision. Thread-safe: calls into the interpreters are serialized."""

    def __init__(
        self, folder: str | Path, precision: Precision = "float32", threads: int | None = None, batch: int = 256,
        max_patterns: int = 2_000_000,
    ) -> None:  # fmt: skip
        self.folder = Path(folder)
        self.manifest: BundleManifest = read_manifest(self.folder)
        if precision not in self.manifest.precisions:
            raise BundleError(f"bundle {self.folder} has no {precision} models (it has {', '.join(self.manifest.precisions)})")
        self.precision = precision
        entry = self.manifest.precisions[precision]
        threads = threads or min(4, os.cpu_count() or 1)
        self._cell_model = LiteModel(self.folder / entry.cell_model.file, threads, max(batch * 16, 1024))
        self._grid_model = LiteModel(self.folder / entry.grid_model.file, threads, batch)
        labels = json.loads((self.folder / self.manifest.labels_file).read_text(encoding="utf-8"))
        self.labels: list[str] = list(labels["labels"])
        self.label_index = {label: i for i, label in enumerate(self.labels)}
        self.twins: dict[str, list[str]] = {k: list(v) for k, v in labels.get("twins", {}).items()}
        if len(self.labels) != self.manifest.classes:
            raise BundleError(f"{self.folder}: {len(self.labels)} labels in {self.manifest.labels_file}, the manifest says {self.manifest.classes}")
        self.codec = CellCodec(self.manifest.raster.cell_size)
        self._lock = threading.RLock()
        # Remembered cell patterns, forgotten past max_patterns so a long-running service stays bounded.
        self.max_patterns = max_patterns
        self._patterns = PatternTable(self.codec, self._cell_ids, empty_value=None)

    @property
    def canvas_size(self) -> int:
        return self.manifest.raster.canvas_size

    def _cell_ids(self, patterns: np.ndarray) -> np.ndarray:
        cell = self.codec.cell_size
        with self._lock:
            out = self._cell_model(cells=patterns.reshape(-1, cell, cell, 1).astype(np.float32))
        return out["ids"].astype(np.int32)

    def grids(self, masks: np.ndarray) -> np.ndarray:
        """(n, S, S) 0/1 masks -> (n, G, G) int32 primitive ids, as Phase 1 names them."""
        masks = np.asarray(masks)
        size = self.canvas_size
        if masks.ndim != 3 or masks.shape[1:] != (size, size):
            raise ValueError(f"rasters must be (n, {size}, {size}) masks, got {masks.shape}")
        keys = self.codec.masks_to_keys((masks > 0).astype(np.uint8))
        if len(self._patterns) > self.max_patterns:
            self._patterns = PatternTable(self.codec, self._cell_ids, empty_value=None)
        return self._patterns.lookup(keys.reshape(-1)).reshape(keys.shape)

    def classify_grids(self, grids: np.ndarray, side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, unit features) of Phase 2 on id grids and their size cues."""
        with self._lock:
            out = self._grid_model(grid=np.asarray(grids, dtype=np.int32), side=np.asarray(side, dtype=np.float32))
        return softmax(out["logits"].astype(np.float32)), unit_rows(out["features"])

    def classify(self, masks: np.ndarray, side: np.ndarray) -> Recognition:
        grids = self.grids(masks)
        if len(grids) == 0:
            empty = np.zeros((0, self.manifest.classes), np.float32), np.zeros((0, self.manifest.feature_dim), np.float32)
            return Recognition(grids, *empty)
        probabilities, features = self.classify_grids(grids, side)
        return Recognition(grids, probabilities, features)

    def cell_importance(self, grid: np.ndarray, side: np.ndarray, label: int) -> np.ndarray:
        """(G, G) how much each cell mattered to ``label`` on one id grid, by occlusion: the drop of its
        probability when that one cell is made empty (0 for empty cells; negative: the cell spoke against
        it). Phase 2's CNN has no attention to read, and occlusion works for either backbone."""
        grid = np.asarray(grid, dtype=np.int32)
        cells = np.flatnonzero(grid.reshape(-1))
        importance = np.zeros(grid.size, np.float32)
        if len(cells):
            occluded = np.repeat(grid.reshape(1, -1), len(cells) + 1, axis=0)
            occluded[np.arange(1, len(cells) + 1), cells] = 0  # row 0 keeps the whole grid
            probabilities, _ = self.classify_grids(occluded.reshape(-1, *grid.shape), np.repeat(np.asarray(side).reshape(1, -1), len(occluded), axis=0))
            importance[cells] = probabilities[0, label] - probabilities[1:, label]
        return importance.reshape(grid.shape)
