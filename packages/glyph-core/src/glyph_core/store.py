"""The zarr v3 store contract: array names, dtypes, shapes, chunking and attrs, defined once.

rasterd writes stores through ``create_store`` and glyph-train reads them through ``open_store``;
both validate against the same spec and refuse a mismatch with a message that says what differs.
Rasters are stored bit-packed along rows (see bench/README.md for why); ``read_masks`` unpacks.

A store is written at a temporary path and renamed when complete (``attrs["complete"]``), so a
store at its final path is always whole.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zarr

SCHEMA_VERSION = 1
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}
MAX_TWINS = 8  # twin labels kept per glyph in the store (identical outlines in the same font)


class StoreError(ValueError):
    """A store that is missing, incomplete, or does not match what the reader expects."""


@dataclass(frozen=True)
class ArraySpec:
    dtype: str
    tail: tuple[int, ...]  # shape after the leading glyph axis


# The per-glyph raster metadata (docs/raster-policy.md): the one list of these fields. Rasterizing
# returns them as attributes of the batch, the store keeps one array each, and ``metadata_record``
# turns one row into the JSON that meta.jsonl and the HTTP API carry.
RASTER_METADATA: dict[str, ArraySpec] = {
    "is_diacritic": ArraySpec("bool", ()),
    "bbox": ArraySpec("float64", (4,)),
    "scale_factor": ArraySpec("float64", ()),
    "major_dim_ratio": ArraySpec("float64", ()),
    "target_dim": ArraySpec("int16", ()),
}


def metadata_record(arrays: Mapping[str, Any], row: int) -> dict[str, Any]:
    """One row's raster metadata as JSON values (``bbox`` is published as ``original_bbox``)."""
    return {
        "is_diacritic": bool(arrays["is_diacritic"][row]),
        "original_bbox": [float(v) for v in arrays["bbox"][row]],
        "scale_factor": float(arrays["scale_factor"][row]),
        "major_dim_ratio": float(arrays["major_dim_ratio"][row]),
        "target_dim": int(arrays["target_dim"][row]),
    }


def raster_arrays(canvas_size: int) -> dict[str, ArraySpec]:
    """Arrays of a rasters store: packed masks plus docs/raster-policy.md metadata and the row's identity."""
    return {
        "raster": ArraySpec("uint8", (canvas_size, canvas_size // 8)),
        "glyph_id": ArraySpec("int64", ()),
        "label": ArraySpec("int32", ()),
        "font": ArraySpec("int32", ()),
        "split": ArraySpec("uint8", ()),
        "char_class": ArraySpec("int8", ()),
        "twin_labels": ArraySpec("int32", (MAX_TWINS,)),
        **RASTER_METADATA,
    }


def variant_arrays(canvas_size: int) -> dict[str, ArraySpec]:
    """Arrays of a variants store (outline-augmented copies of train glyphs, docs/training.md): packed
    masks and raster metadata like a rasters store, plus the row of the source glyph in its rasters
    store and the variant's number; labels, fonts and splits are the source row's."""
    return {
        "raster": ArraySpec("uint8", (canvas_size, canvas_size // 8)),
        "glyph_id": ArraySpec("int64", ()),
        "source_row": ArraySpec("int64", ()),
        "variant": ArraySpec("uint8", ()),
        **RASTER_METADATA,
    }


def grid_arrays(grid_side: int) -> dict[str, ArraySpec]:
    """Arrays of a grids store (true grids from `rasterd tokenize`, or Phase 1 predictions)."""
    return {"grid": ArraySpec("uint16", (grid_side, grid_side)), "glyph_id": ArraySpec("int64", ())}


KIND_ARRAYS = {"rasters": raster_arrays, "variants": variant_arrays, "grids": grid_arrays, "predicted_grids": grid_arrays}
# Attributes every store of a kind carries (beyond schema_version, kind, complete, count).
REQUIRED_ATTRS = {
    "rasters": (
        "config_hash", "source_db_hash", "build_id", "labels", "label_map_hash", "fonts", "char_classes",
        "canvas_size", "cell_size", "chunk_size",
    ),
    # A variants store's build_id is its own (rasters build + augmentation settings); its grids store
    # names it as rasters_build_id, so one grids reader serves both.
    "variants": ("build_id", "rasters_build_id", "augment", "variants", "label_map_hash", "canvas_size", "cell_size", "chunk_size"),
    "grids": ("centroid_hash", "rasters_build_id", "label_map_hash", "grid_side", "cell_size"),
    "predicted_grids": ("centroid_hash", "rasters_build_id", "label_map_hash", "grid_side", "cell_size", "model_hash"),
}  # fmt: skip


def _side_for(kind: str, attrs: Mapping[str, Any]) -> int:
    return int(attrs["canvas_size"] if kind in ("rasters", "variants") else attrs["grid_side"])


def temporary_path(final: Path) -> Path:
    return final.with_name(final.name + ".partial")


def create_store(path: str | Path, kind: str, count: int, chunk_size: int, attrs: Mapping[str, Any]) -> zarr.Group:
    """Create an empty store of ``kind`` for ``count`` glyphs at ``path`` (overwrites that path)."""
    missing = [a for a in REQUIRED_ATTRS[kind] if a not in attrs]
    if missing:
        raise StoreError(f"{kind} store needs attrs: {', '.join(missing)}")
    group = zarr.open_group(str(path), mode="w")
    full = {"schema_version": SCHEMA_VERSION, "kind": kind, "count": count, "complete": False, **attrs}
    group.attrs.update(full)
    for name, spec in KIND_ARRAYS[kind](_side_for(kind, attrs)).items():
        group.create_array(
            name,
            shape=(count, *spec.tail),
            chunks=(max(1, min(chunk_size, count)), *spec.tail),
            dtype=spec.dtype,
            fill_value=0,
        )
    return group


def mark_complete(group: zarr.Group) -> None:
    group.attrs["complete"] = True


def finalize(temp: Path, final: Path) -> None:
    """Atomically replace ``final`` with the completed store at ``temp``.

    A writer killed mid-chunk (a lost Dask worker) leaves zarr's ``*.partial`` temp file behind; the
    chunk itself was written again by the rerun task, so the leftover is removed, not published.
    """
    for leftover in temp.rglob("*.partial"):
        leftover.unlink()
    group = zarr.open_group(str(temp), mode="r+")
    mark_complete(group)
    if final.exists():
        shutil.rmtree(final)
    temp.rename(final)


def open_store(path: str | Path, kind: str, expect: Mapping[str, Any] | None = None, mode: str = "r") -> zarr.Group:
    """Open a complete store and validate it against the contract and ``expect`` (attr -> value)."""
    path = Path(path)
    if not (path / "zarr.json").is_file():
        hint = " (an interrupted build left it; rerun the command)" if temporary_path(path).exists() else ""
        raise StoreError(f"no {kind} store at {path}{hint}")
    group = zarr.open_group(str(path), mode=mode)
    attrs = dict(group.attrs)
    problems: list[str] = []
    if attrs.get("kind") != kind:
        problems.append(f"kind is {attrs.get('kind')!r}, expected {kind!r}")
    if attrs.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"schema_version is {attrs.get('schema_version')!r}, this code reads {SCHEMA_VERSION}")
    if not attrs.get("complete"):
        problems.append("store is not complete (an interrupted write)")
    problems += [f"attr {a!r} is missing" for a in REQUIRED_ATTRS.get(kind, ()) if a not in attrs]
    if not problems:
        count = int(attrs["count"])
        for name, spec in KIND_ARRAYS[kind](_side_for(kind, attrs)).items():
            if name not in group:
                problems.append(f"array {name!r} is missing")
                continue
            arr = group[name]
            if str(arr.dtype) != spec.dtype or tuple(arr.shape) != (count, *spec.tail):
                problems.append(
                    f"array {name!r} is {arr.dtype}{tuple(arr.shape)}, expected {spec.dtype}{(count, *spec.tail)}"
                )
    for key, value in (expect or {}).items():
        if attrs.get(key) != value:
            problems.append(f"{key} is {_short(attrs.get(key))}, expected {_short(value)}")
    if problems:
        raise StoreError(f"{kind} store {path} does not match: " + "; ".join(problems))
    return group


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def pack_masks(masks: np.ndarray) -> np.ndarray:
    """(N, S, S) masks (nonzero = ink) -> (N, S, S/8) bit-packed rows."""
    return np.packbits(np.asarray(masks) != 0, axis=-1)


def unpack_masks(packed: np.ndarray, value: int = 255) -> np.ndarray:
    """(N, S, S/8) packed rows -> (N, S, S) uint8 masks with ink = ``value``."""
    bits = np.unpackbits(packed, axis=-1)
    return bits if value == 1 else bits * np.uint8(value)


def read_masks(group: zarr.Group, start: int = 0, stop: int | None = None, value: int = 255) -> np.ndarray:
    """Rasters [start:stop) of a rasters store as uint8 masks (ink = ``value``)."""
    return unpack_masks(group["raster"][start:stop], value)


def split_code(name: str) -> int:
    return SPLIT_CODES[name]
