"""`glyph-train primitives`: train-split cells of the rasters store -> primitive centroids, pictures, QA numbers."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from glyph_core.config import config_hash
from glyph_core.cell_config import PrimitivesConfig
from glyph_core.paths import OutputLayout
from glyph_core.primitives import centroid_hash
from glyph_core.runs import record_run

from glyph_core.cells import CellCodec
from glyph_core.rasters import RasterStore, open_rasters
from glyph_train.primitives.kmeans import fit_primitives, sample_without_replacement, usage_quality
from glyph_train.primitives.report import save_thumbnail_sheet, save_usage_plot

QA_FILE = "primitives_qa.json"
THUMBNAILS_FILE = "primitive_thumbnails.png"
USAGE_FILE = "primitive_usage.png"


@dataclass
class PrimitivesSummary:
    clusters: int
    train_cells: int
    nonempty_cells: int
    sampled_cells: int
    distinct_patterns: int
    quality: dict[str, float | int]
    centroid_hash: str
    centroids_path: str
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        q = self.quality
        times = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        return "\n".join([
            f"cells            {self.train_cells:,} train cells, {self.nonempty_cells:,} non-empty, "
            f"{self.sampled_cells:,} sampled, {self.distinct_patterns:,} distinct patterns",
            f"primitives       {self.clusters} (ids 1..{self.clusters}, 0 = empty)",
            f"usage            largest {q['largest_cluster_share']:.2%}, entropy {q['entropy_bits']:.2f} / "
            f"{q['entropy_of_uniform_bits']:.2f} bits, dead {q['dead_clusters']}",
            f"time             {times}",
            f"centroids        {self.centroids_path} (hash {self.centroid_hash[:12]})",
        ])  # fmt: skip


def nonempty_train_keys(source: RasterStore, codec: CellCodec) -> tuple[np.ndarray, int]:
    """Keys of every non-empty cell of the train split, in store order, and the count of all its cells."""
    parts, total = [], 0
    for _, masks in source.iter_rows(source.rows_of("train")):
        keys = codec.masks_to_keys(masks).reshape(-1)
        total += len(keys)
        parts.append(keys[keys != codec.empty_key])
    return np.concatenate(parts), total


def save_array(path: Path, array: np.ndarray) -> None:
    """Write an .npy file whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as fh:
        np.save(fh, array)
    os.replace(partial, path)


def run_primitives(config: PrimitivesConfig, config_path: str | None = None, stage_key: str | None = None) -> PrimitivesSummary:
    layout = OutputLayout.at(config.outputs.root)
    source = open_rasters(layout)
    codec = CellCodec(source.cell_size)
    seconds: dict[str, float] = {}

    began = time.perf_counter()
    keys, train_cells = nonempty_train_keys(source, codec)
    sample = sample_without_replacement(keys, config.sample_cells, np.random.default_rng(config.seed))
    distinct, counts = np.unique(sample, return_counts=True)
    seconds["read and sample"] = time.perf_counter() - began

    began = time.perf_counter()
    clustering = fit_primitives(
        codec.decode(distinct), counts, config.clusters,
        init_patterns=config.init_patterns, max_iter=config.max_iter, tolerance=config.tolerance, seed=config.seed,
    )  # fmt: skip
    seconds["k-means"] = time.perf_counter() - began

    began = time.perf_counter()
    quality = usage_quality(clustering.usage)
    chash = centroid_hash(clustering.centroids)
    save_array(layout.centroids, clustering.centroids)
    save_thumbnail_sheet(layout.primitives / THUMBNAILS_FILE, clustering.centroids, clustering.usage, config.thumbnail_scale)
    save_usage_plot(layout.primitives / USAGE_FILE, clustering.usage, quality)
    seconds["write"] = time.perf_counter() - began
    summary = PrimitivesSummary(
        clusters=config.clusters,
        train_cells=train_cells,
        nonempty_cells=len(keys),
        sampled_cells=len(sample),
        distinct_patterns=len(distinct),
        quality=quality,
        centroid_hash=chash,
        centroids_path=str(layout.centroids),
        seconds=seconds,
    )
    report = {
        "centroid_hash": chash,
        "rasters_build_id": source.build_id,
        "cell_size": source.cell_size,
        "sample": {
            "train_cells": train_cells,
            "nonempty_cells": len(keys),
            "sampled_cells": len(sample),
            "distinct_patterns": len(distinct),
        },
        "kmeans": {"iterations": clustering.iterations, "inertia_per_cell": clustering.inertia_per_cell},
        "quality": quality,
        "usage": clustering.usage.tolist(),
        "seconds": seconds,
    }
    (layout.primitives / QA_FILE).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    record_run(
        layout, "glyph-train primitives", {"primitives": config_hash(config)},
        inputs={"rasters_build_id": source.build_id, "label_map_hash": source.label_map_hash},
        outputs={"centroids": str(layout.centroids), "clusters": config.clusters, "quality": quality},
        centroid_hash=chash, config_path=config_path, stage_key=stage_key,
    )  # fmt: skip
    return summary
