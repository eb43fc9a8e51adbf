"""The model bundle contract (docs/export.md): what `glyph-train export` writes under
outputs/export/<name>/ and what every runtime that loads a bundle (glyph-core's recognizer, rasterd
serve, `glyph-train predict`) checks before using it.

A bundle holds two LiteRT models per precision, run one after the other: the cell model (Phase 1:
8x8 cells -> primitive ids) and the grid model (Phase 2: the id grid and the size cues -> label
probabilities and the features used for retrieval). Splitting there lets a runtime run Phase 1 once
per distinct cell pattern, as glyph-train does, and re-run Phase 2 alone on edited grids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
LABELS = "labels.json"  # {"labels": [...], "twins": {label: [twin labels]}}
CENTROIDS = "primitive_centroids.npy"
INDEX = "index.npz"  # retrieval: glyph_id, font, split, label and unit-norm features of every store glyph
Precision = Literal["float32", "int8"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TensorSpec(_Frozen):
    name: str
    shape: list[int | None] = Field(description="None: any size (the batch).")
    dtype: str


class ModelFile(_Frozen):
    file: str = Field(description="Path relative to the bundle folder.")
    bytes: int
    sha256: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]


class SplitScore(_Frozen):
    """Top-1/top-5, strict and alt-aware, with 95% bootstrap intervals over design groups."""

    glyphs: int
    designs: int
    top1_strict: float | None
    top1_alt: float | None
    top5_strict: float | None
    top5_alt: float | None
    top1_alt_interval: list[float] | None = None


class PrecisionEntry(_Frozen):
    cell_model: ModelFile
    grid_model: ModelFile
    accuracy: dict[str, SplitScore] = Field(default_factory=dict, description="Measured at export, per split of the home store.")
    agreement_with_keras: float | None = Field(None, description="Share of scored glyphs whose top-1 equals glyph-train's own end-to-end model's.")
    integer_only: bool = Field(False, description="int8: every op runs an integer kernel (false: float kernels were allowed for some).")


class RasterPolicy(_Frozen):
    canvas_size: int
    cell_size: int
    grid_side: int
    side_features: list[str] = Field(description="Columns of the `side` input, in order (glyph_core.cues).")


class BundleManifest(_Frozen):
    schema_version: int = SCHEMA_VERSION
    name: str
    created: str
    way: Literal["end_to_end"] = "end_to_end"
    raster: RasterPolicy
    classes: int
    primitives: int = Field(description="Primitive ids of the cell model, the empty id 0 included.")
    feature_dim: int
    rasters_build_id: str
    label_map_hash: str
    centroid_hash: str
    phase1_model_hash: str
    phase2_model_hash: str
    precisions: dict[str, PrecisionEntry]
    keras: dict[str, str] = Field(default_factory=dict, description="The Keras forms: name -> path relative to the bundle.")
    saved_model: dict[str, str] = Field(default_factory=dict, description="SavedModel folders: name -> path relative to the bundle.")
    index: str | None = Field(None, description="Retrieval index file, when built.")
    retrieval_label_weight: float = Field(
        0.0, ge=0, description="How much similar glyphs are ranked by the model's belief in their label besides cosine (glyph_core.retrieval)."
    )
    measured: dict[str, Any] = Field(default_factory=dict, description="Keras-form accuracy, latency per form, retrieval: measured at export.")
    labels_file: str = LABELS
    centroids_file: str = CENTROIDS


class BundleError(ValueError):
    """A bundle that is missing, malformed, or does not belong to the store it is used with."""


def read_manifest(folder: str | Path) -> BundleManifest:
    """The manifest of the bundle in ``folder``; refused with a reason when missing, unreadable or of another schema."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise BundleError(f"no bundle at {Path(folder)}: {MANIFEST} is missing; run `glyph-train export`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: unreadable ({exc})") from None
    if data.get("schema_version") != SCHEMA_VERSION:
        raise BundleError(f"{path}: schema version {data.get('schema_version')!r}, this code reads {SCHEMA_VERSION}; re-export it")
    try:
        return BundleManifest.model_validate(data)
    except ValueError as exc:
        raise BundleError(f"{path}: {exc}") from None


def store_mismatches(manifest: BundleManifest, store_attrs: dict[str, Any], centroid_hash: str | None = None) -> list[str]:
    """What differs between a bundle and a rasters store (its attrs) and, when given, the store's centroids;
    empty when the bundle belongs to that store."""
    # The rasters store names its own build ``build_id``; the bundle records it as ``rasters_build_id``.
    wanted = {
        "build_id": manifest.rasters_build_id, "label_map_hash": manifest.label_map_hash,
        "canvas_size": manifest.raster.canvas_size, "cell_size": manifest.raster.cell_size,
    }  # fmt: skip
    problems = [
        f"{key}: the bundle has {str(value)[:16]}, the store {str(store_attrs.get(key))[:16]}"
        for key, value in wanted.items()
        if store_attrs.get(key) != value
    ]
    if centroid_hash is not None and centroid_hash != manifest.centroid_hash:
        problems.append(f"centroid_hash: the bundle has {manifest.centroid_hash[:16]}, the store's primitives {centroid_hash[:16]}")
    return problems
