"""The run manifest of a quick experiment (the notebooks, docs/training.md): what it takes to repeat
it: the seed, the rasters build, the centroids and their count, the split manifest, and Phase 2's
margin per epoch when it trained one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from glyph_core.classifier_config import MarginConfig
from glyph_core.paths import OutputLayout
from glyph_core.primitives import load_centroids
from glyph_core.rasters import open_rasters

MANIFEST = "run_manifest.json"


def margin_schedule(margin: MarginConfig, epochs: int) -> dict[str, Any]:
    """The margin of each epoch (0-based) of a Phase 2 run with ``margin``, as the loss applies it."""
    from glyph_train.phase2.heads import margin_at

    return {"kind": margin.kind, "scale": margin.scale, "per_epoch": [margin_at(e, margin) for e in range(epochs)]}


def run_manifest(root: str | Path, seed: int, margin: MarginConfig | None = None, epochs: int = 0) -> dict[str, Any]:
    """The manifest of the run under the outputs ``root``; ``margin`` and ``epochs`` when it trained Phase 2."""
    layout = OutputLayout.at(root)
    source = open_rasters(layout)
    centroids, centroid_hash = load_centroids(layout.centroids, source.cell_size)
    splits = json.loads(layout.split_manifest.read_text(encoding="utf-8"))
    return {
        "seed": seed,
        "rasters_build_id": source.build_id,
        "centroid_hash": centroid_hash,
        "primitive_count": int(len(centroids)),
        "split_manifest": {
            "path": str(layout.split_manifest),
            "sha256": hashlib.sha256(layout.split_manifest.read_bytes()).hexdigest(),
            "design_groups": {split: sorted(groups) for split, groups in sorted(splits["splits"].items())},
        },
        "margin_schedule": margin_schedule(margin, epochs) if margin is not None else None,
    }


def write_run_manifest(folder: str | Path, manifest: dict[str, Any]) -> Path:
    path = Path(folder) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
