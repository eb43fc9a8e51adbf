"""From a catalog to the dataset a build writes: design groups, font split, label map, kept rows.

Pure computation over the catalog; writing the manifests is the caller's job (``write_manifests``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from glyph_core.catalog import Catalog, CatalogEntry
from glyph_core.config import LabelConfig, SplitConfig
from glyph_core.labels import LabelMap, MergeCandidate, count_labels, merge_candidates, select_labels
from glyph_core.paths import OutputLayout
from glyph_core.shapes import ShapeScores
from glyph_core.splits import FontSplit, design_groups, split_groups


@dataclass(frozen=True)
class Selection:
    """The rows a build keeps (catalog order = glyph id order) with their class and split."""

    entries: list[CatalogEntry]
    label_map: LabelMap
    font_groups: dict[str, str]
    split: FontSplit
    merge_report: list[MergeCandidate]
    filtered_by_label: int
    shapes: ShapeScores | None = None

    def split_of_font(self) -> dict[str, str]:
        return self.split.split_of_font()


def select_dataset(
    catalog: Catalog, labels: LabelConfig, splits: SplitConfig, shapes: ShapeScores | None = None
) -> Selection:
    """Group fonts into designs, split them, filter labels by frequency, keep the matching rows.

    ``shapes`` (core-letter raster similarity, see ``glyph_core.shapes``) adds the shape rule.
    """
    fonts_with_rows = sorted({e.font_hash for e in catalog.entries})
    family = {f: catalog.fonts[f].family_name for f in fonts_with_rows}
    shape_pairs = shapes.pairs_at_least(splits.shape_threshold) if shapes is not None else []
    designs = design_groups(
        family, {f: catalog.outline_keys.get(f, set()) for f in fonts_with_rows}, splits.identity_share, shape_pairs
    )
    groups = designs.groups
    split = split_groups(groups, (splits.train, splits.val, splits.test), splits.seed)
    why = {group: [m.to_json() for m in merges] for group, merges in sorted(designs.merges_by_group().items())}
    split = replace(split, merges=why)
    counts = count_labels(((e.label, e.font_hash) for e in catalog.entries), labels.count_by, groups)
    label_map = select_labels(counts, labels.min_count, labels.drop_shaped)
    kept = [e for e in catalog.entries if e.label in label_map]
    report = merge_candidates(((e.font_hash, e.label, e.alt_label) for e in catalog.entries), labels.merge_identical_share)
    return Selection(kept, label_map, groups, split, report, len(catalog.entries) - len(kept), shapes)


def write_manifests(selection: Selection, layout: OutputLayout) -> list[Path]:
    """Label map, split manifest and merge-candidate report under ``outputs/meta``."""
    layout.meta.mkdir(parents=True, exist_ok=True)
    layout.label_map.write_text(selection.label_map.to_json(), encoding="utf-8")
    layout.split_manifest.write_text(selection.split.to_json(), encoding="utf-8")
    report = [
        {"labels": [c.label_a, c.label_b], "identical_fonts": c.identical, "shared_fonts": c.shared, "share": round(c.share, 4)}
        for c in selection.merge_report
    ]
    layout.label_report.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    return [layout.label_map, layout.split_manifest, layout.label_report]
