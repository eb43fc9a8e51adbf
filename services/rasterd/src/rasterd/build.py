"""`rasterd build`: glyphs.db -> one zarr v3 rasters store, plus meta.jsonl, label map and splits.

The driver scans the database once (integrity, labels, splits), fixes the row order, writes the
identity arrays, and hands one chunk per Dask task. The store is built at a temporary path with a
marker per finished chunk: a rerun after a crash redoes only the missing chunks, and the store
appears at its final path only when every chunk is in.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zarr
from glyph_core.audit import AuditLog
from glyph_core.catalog import scan_database
from glyph_core.config import RasterizerConfig, config_hash
from glyph_core.db import DatabaseError, GlyphDatabase
from glyph_core.labels import parse_alt_labels
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run
from glyph_core.schema import CHAR_CLASSES
from glyph_core.selection import Selection, select_dataset, write_manifests
from glyph_core.shapes import shape_scores
from glyph_core.split_report import format_split_report, split_report, write_split_report
from glyph_core.store import (
    MAX_TWINS, RASTER_METADATA, SCHEMA_VERSION, create_store, finalize, metadata_record, open_store, split_code, temporary_path,
)  # fmt: skip
from tqdm import tqdm

from rasterd.build_chunk import ChunkResult, build_chunk, build_variant_chunk
from rasterd.cluster import dask_client
from rasterd.render import GROUPING_POLICY, contour_problems, grouped_by_own_policy, shape_masks


@dataclass
class VariantsSummary:
    per_glyph: int
    glyphs: int = 0
    up_to_date: bool = False
    seconds: float = 0.0
    store: str = ""

    def __str__(self) -> str:
        if not self.per_glyph:
            return "none (augment.variants is 0)"
        state = "up to date" if self.up_to_date else f"written in {self.seconds:.1f} s"
        return f"{self.glyphs} ({self.per_glyph} per train glyph), {state}: {self.store}"


@dataclass
class BuildSummary:
    rows_read: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    filtered_by_label: int = 0
    glyphs: int = 0
    labels: int = 0
    fonts_per_split: dict[str, int] = field(default_factory=dict)
    groups_per_split: dict[str, int] = field(default_factory=dict)
    empty_rasters: int = 0
    chunks_built: int = 0
    chunks_resumed: int = 0
    up_to_date: bool = False
    seconds: float = 0.0
    core_seconds: float = 0.0
    store: str = ""
    split_report: str = ""
    variants: VariantsSummary | None = None

    def __str__(self) -> str:
        variants = [f"variants         {self.variants}"] if self.variants else []
        if self.up_to_date:
            return "\n".join([f"rasters store {self.store} is up to date ({self.glyphs} glyphs)", *variants])
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "none"
        rate = self.glyphs / self.seconds if self.seconds else 0.0
        lines = [
            f"rows read        {self.rows_read}",
            f"rejected         {sum(self.rejected.values())} ({rejected}; see outputs/logs/build_audit.jsonl)",
            f"label-filtered   {self.filtered_by_label}",
            f"glyphs written   {self.glyphs} in {self.labels} labels ({self.empty_rasters} rendered empty)",
            "splits           " + ", ".join(
                f"{s} {self.fonts_per_split[s]} fonts / {self.groups_per_split[s]} designs" for s in self.fonts_per_split
            ),
            f"chunks           {self.chunks_built} built, {self.chunks_resumed} kept from an interrupted run",
            f"time             {self.seconds:.1f} s ({rate:,.0f} glyphs/s; tasks {self.core_seconds:.1f} s of worker time)",
            f"store            {self.store}",
            *variants,
        ]
        if self.split_report:
            lines += ["", "split report (outputs/meta/split_report.md):", self.split_report]
        return "\n".join(lines)


def content_config_hash(config: RasterizerConfig) -> str:
    """Hash of the settings that change store content (not paths, workers, batch sizes or the variants,
    which are a store of their own)."""
    return config_hash(config.model_copy(update={"outputs": None, "dask": None, "augment": None, "database": ""}))


def build_id(db_hash: str, config: RasterizerConfig) -> str:
    parts = [str(SCHEMA_VERSION), db_hash, content_config_hash(config)]
    if grouped_by_own_policy(config.raster):
        # Such stores were once grouped under their own policy, and their splits could differ: a new id rebuilds them.
        parts.append("designs-grouped-by-the-default-policy")
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


def _identity_arrays(selection: Selection) -> tuple[dict[str, np.ndarray], list[str]]:
    fonts = sorted({e.font_hash for e in selection.entries})
    font_index = {f: i for i, f in enumerate(fonts)}
    split_of = selection.split_of_font()
    entries = selection.entries
    twins = np.full((len(entries), MAX_TWINS), -1, dtype=np.int32)
    for i, e in enumerate(entries):
        known = sorted(selection.label_map.index(t) for t in parse_alt_labels(e.alt_label) if t in selection.label_map)
        twins[i, : min(len(known), MAX_TWINS)] = known[:MAX_TWINS]
    return {
        "glyph_id": np.array([e.glyph_id for e in entries], dtype=np.int64),
        "label": np.array([selection.label_map.index(e.label) for e in entries], dtype=np.int32),
        "font": np.array([font_index[e.font_hash] for e in entries], dtype=np.int32),
        "split": np.array([split_code(split_of[e.font_hash]) for e in entries], dtype=np.uint8),
        "char_class": np.array(
            [CHAR_CLASSES.index(e.char_class) if e.char_class in CHAR_CLASSES else -1 for e in entries], dtype=np.int8
        ),
        "twin_labels": twins,
    }, fonts


def run_build(config: RasterizerConfig, config_path: str | None = None) -> BuildSummary:
    """Build (or resume, or confirm up to date) the rasters store described by ``config``."""
    began = time.perf_counter()
    layout = OutputLayout.at(config.outputs.root)
    summary = BuildSummary(store=str(layout.rasters_store))
    with GlyphDatabase(config.database, batch_size=config.build.db_batch_size) as db:
        db_hash = db.content_hash()
        current_id = build_id(db_hash, config)
        if _up_to_date(layout.rasters_store, current_id, summary):
            summary.variants = build_variants(config, layout)
            return summary
        with AuditLog(layout.audit_log("build")) as audit, tqdm(
            total=db.count(), desc="scan", unit=" rows", leave=False
        ) as bar:
            catalog = scan_database(
                db, audit, config.raster.max_points, bar.update, contour_problems, config.splits.shape_letters
            )
            summary.rejected = dict(audit.counts)
    shapes = shape_scores(
        shape_masks(catalog.shape_contours, GROUPING_POLICY), config.splits.shape_min_letters, config.splits.shape_letters
    )
    selection = select_dataset(catalog, config.labels, config.splits, shapes)
    if not selection.entries:
        raise DatabaseError(f"{config.database}: no glyph rows left after integrity checks and label filtering")
    write_manifests(selection, layout)
    report = split_report(selection, config.splits.shape_threshold)
    write_split_report(report, layout)
    summary.split_report = format_split_report(report)
    identity, fonts = _identity_arrays(selection)
    count, chunk = len(selection.entries), config.build.chunk_size
    summary.rows_read, summary.filtered_by_label = catalog.rows_read, selection.filtered_by_label
    summary.glyphs, summary.labels = count, len(selection.label_map)
    summary.fonts_per_split = {s: len(selection.split.fonts_in(s)) for s in ("train", "val", "test")}
    summary.groups_per_split = {s: len(selection.split.groups[s]) for s in ("train", "val", "test")}

    temp = temporary_path(layout.rasters_store)
    done_dir = layout.tmp / f"build-{current_id}"
    group = _open_or_create(temp, done_dir, current_id, count, chunk, {
        "config_hash": content_config_hash(config),
        "source_db_hash": db_hash,
        "build_id": current_id,
        "labels": list(selection.label_map.labels),
        "label_map_hash": selection.label_map.hash,
        "fonts": fonts,
        "char_classes": list(CHAR_CLASSES),
        "canvas_size": config.raster.canvas_size,
        "cell_size": config.raster.cell_size,
        "chunk_size": chunk,
        "raster": config.raster.model_dump(mode="json"),
    })  # fmt: skip
    for name, values in identity.items():
        group[name][:] = values

    starts = range(0, count, chunk)
    todo = [i for i, _ in enumerate(starts) if not (done_dir / f"{i}.done").exists()]
    summary.chunks_resumed = len(starts) - len(todo)
    summary.chunks_built = len(todo)
    if todo:
        glyph_ids, store, done = identity["glyph_id"], str(temp.resolve()), str(done_dir.resolve())
        results = _run_chunks(config, "rasterize", [
            (f"build-chunk-{i}", build_chunk, (store, _absolute_db(config.database), i, i * chunk,
             glyph_ids[i * chunk : (i + 1) * chunk], config.raster, done))
            for i in todo
        ])  # fmt: skip
        summary.empty_rasters = sum(len(r.empty_glyph_ids) for r in results)
        summary.core_seconds = sum(r.seconds for r in results)
    _write_meta_jsonl(temp, selection, layout)
    finalize(temp, layout.rasters_store)
    shutil.rmtree(done_dir, ignore_errors=True)
    summary.variants = build_variants(config, layout)
    summary.seconds = time.perf_counter() - began
    record_run(
        layout, "rasterd build",
        {"rasterizer": config_hash(config), "content": content_config_hash(config)},
        inputs={"database": config.database, "database_sha256": db_hash},
        outputs={"store": str(layout.rasters_store), "build_id": current_id, "glyphs": count},
        label_map_hash=selection.label_map.hash,
        config_path=config_path,
    )  # fmt: skip
    return summary


def _up_to_date(final: Path, current_id: str, summary: BuildSummary) -> bool:
    if not (final / "zarr.json").is_file():
        return False
    try:
        group = open_store(final, "rasters", expect={"build_id": current_id})
    except ValueError:
        return False
    summary.up_to_date, summary.glyphs = True, int(group.attrs["count"])
    return True


def _open_or_create(
    temp: Path, done_dir: Path, current_id: str, count: int, chunk: int, attrs: dict, kind: str = "rasters"
) -> zarr.Group:
    if (temp / "zarr.json").is_file() and done_dir.is_dir():
        group = zarr.open_group(str(temp), mode="r+")
        if group.attrs.get("build_id") == current_id and group.attrs.get("count") == count:
            return group
    # A partial store from other inputs (or without its markers) cannot be resumed: start again.
    shutil.rmtree(temp, ignore_errors=True)
    shutil.rmtree(done_dir, ignore_errors=True)
    done_dir.mkdir(parents=True)
    return create_store(temp, kind, count, chunk, attrs)


def _run_chunks(
    config: RasterizerConfig, desc: str, tasks: list[tuple[str, Callable[..., ChunkResult], tuple]]
) -> list[ChunkResult]:
    """Run (key, function, arguments) chunk tasks on the Dask cluster, a progress bar counting glyphs."""
    from dask.distributed import as_completed

    results: list[ChunkResult] = []
    with dask_client(config) as client, tqdm(
        total=sum(len(args[4]) for _, _, args in tasks), desc=desc, unit=" glyphs"
    ) as bar:
        futures = [client.submit(fn, *args, pure=False, key=key) for key, fn, args in tasks]  # type: ignore[attr-defined]
        for future in as_completed(futures):
            result: ChunkResult = future.result()
            results.append(result)
            bar.update(result.count)
    return results


def variants_id(rasters_build_id: str, config: RasterizerConfig) -> str:
    """Identity of a variants store: the rasters build it augments and the augmentation settings."""
    return hashlib.sha256(f"{rasters_build_id}:{config_hash(config.augment)}".encode()).hexdigest()[:32]


def build_variants(config: RasterizerConfig, layout: OutputLayout) -> VariantsSummary:
    """Write (or resume, or confirm) ``augment.variants`` outline-augmented variants of every train
    glyph of the finished rasters store (docs/training.md "Augmented variants")."""
    began = time.perf_counter()
    per_glyph, final = config.augment.variants, layout.variants_store
    summary = VariantsSummary(per_glyph, store=str(final))
    if not per_glyph:
        shutil.rmtree(final, ignore_errors=True)  # generated output that no longer matches the config
        return summary
    rasters = open_store(layout.rasters_store, "rasters")
    current_id = variants_id(str(rasters.attrs["build_id"]), config)
    train_rows = np.flatnonzero(rasters["split"][:] == split_code("train"))
    summary.glyphs = count = len(train_rows) * per_glyph
    if (final / "zarr.json").is_file():
        try:
            open_store(final, "variants", expect={"build_id": current_id})
            summary.up_to_date = True
            return summary
        except ValueError:
            pass
    source_rows = np.repeat(train_rows, per_glyph)
    glyph_ids = rasters["glyph_id"][:][source_rows]
    variant = np.tile(np.arange(per_glyph, dtype=np.uint8), len(train_rows))
    chunk = config.build.chunk_size
    temp, done_dir = temporary_path(final), layout.tmp / f"variants-{current_id}"
    group = _open_or_create(temp, done_dir, current_id, count, chunk, {
        "build_id": current_id,
        "rasters_build_id": rasters.attrs["build_id"],
        "augment": config.augment.model_dump(mode="json"),
        "variants": per_glyph,
        "label_map_hash": rasters.attrs["label_map_hash"],
        "canvas_size": config.raster.canvas_size,
        "cell_size": config.raster.cell_size,
        "chunk_size": chunk,
    }, kind="variants")  # fmt: skip
    group["glyph_id"][:], group["source_row"][:], group["variant"][:] = glyph_ids, source_rows, variant
    todo = [i for i in range(-(-count // chunk)) if not (done_dir / f"{i}.done").exists()]
    if todo:
        store, done, db = str(temp.resolve()), str(done_dir.resolve()), _absolute_db(config.database)
        _run_chunks(config, "variants", [
            (f"variant-chunk-{i}", build_variant_chunk, (store, db, i, i * chunk, glyph_ids[i * chunk : (i + 1) * chunk],
             variant[i * chunk : (i + 1) * chunk], config.raster, config.augment, done))
            for i in todo
        ])  # fmt: skip
    finalize(temp, final)
    shutil.rmtree(done_dir, ignore_errors=True)
    summary.seconds = time.perf_counter() - began
    record_run(
        layout, "rasterd build (variants)", {"augment": config_hash(config.augment)},
        inputs={"rasters_build_id": rasters.attrs["build_id"]},
        outputs={"store": str(final), "build_id": current_id, "glyphs": count},
        label_map_hash=str(rasters.attrs["label_map_hash"]),
    )  # fmt: skip
    return summary


def _absolute_db(target: str) -> str:
    return target if "://" in target else str(Path(target).resolve())


def _write_meta_jsonl(store: Path, selection: Selection, layout: OutputLayout) -> None:
    """docs/raster-policy.md metadata per glyph, plus label, font, split and twins, one JSON line each."""
    group = zarr.open_group(str(store), mode="r")
    arrays = {name: group[name][:] for name in RASTER_METADATA}
    split_of = selection.split_of_font()
    tmp = layout.meta_jsonl.with_suffix(".jsonl.partial")
    layout.meta.mkdir(parents=True, exist_ok=True)
    with tmp.open("w", encoding="utf-8") as fh:
        for i, e in enumerate(selection.entries):
            record = {
                "glyph_id": e.glyph_id,
                "label": e.label,
                "font_hash": e.font_hash,
                "split": split_of[e.font_hash],
                "char_class": e.char_class,
                "alt_labels": sorted(parse_alt_labels(e.alt_label)),
                **metadata_record(arrays, i),
            }
            record["original_bbox"] = [round(v, 4) for v in record["original_bbox"]]
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(layout.meta_jsonl)

