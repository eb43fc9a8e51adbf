"""Quality checks of the store behind a model (docs/analysis.md), pure NumPy/SciPy: counters kept open,
marks drawn at mark size, ordinary glyphs fitted to the canvas, and splits that never share a font
or a design group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def counter_holes(masks: np.ndarray) -> np.ndarray:
    """(n,) number of enclosed holes per 0/1 mask: background regions (4-connected) that do not reach the border."""
    from scipy import ndimage

    holes = np.zeros(len(masks), np.int64)
    for i, mask in enumerate(masks):
        background, count = ndimage.label(np.pad(mask == 0, 1, constant_values=True))
        holes[i] = max(count - 1, 0)  # the padded border joins every outer region into component 1
    return holes


def ink_extent(masks: np.ndarray) -> np.ndarray:
    """(n,) larger side in pixels of each mask's ink box (0 for an empty mask)."""
    rows, cols = masks.any(axis=2), masks.any(axis=1)

    def span(on: np.ndarray) -> np.ndarray:
        first = np.argmax(on, axis=1)
        last = on.shape[1] - 1 - np.argmax(on[:, ::-1], axis=1)
        return np.where(on.any(axis=1), last - first + 1, 0)

    return np.maximum(span(rows), span(cols))


def size_check(extent: np.ndarray, target: np.ndarray, is_diacritic: np.ndarray, tolerance: int = 2) -> dict[str, Any]:
    """docs/raster-policy.md step 3: the ink box's larger side is the row's target size (the canvas for
    a glyph, the smaller mark size for a diacritic), within ``tolerance`` px (the downsample's
    threshold can shave an edge pixel, and curves flattened into pieces may fall short of the box)."""
    ok = np.abs(np.asarray(extent, np.int64) - np.asarray(target, np.int64)) <= tolerance

    def summary(mask: np.ndarray) -> dict[str, Any]:
        values, targets = extent[mask], target[mask]
        return {
            "glyphs": int(mask.sum()), "share_ok": float(ok[mask].mean()) if mask.any() else None,
            "targets": sorted({int(t) for t in targets}), "min": int(values.min()) if mask.any() else None,
            "max": int(values.max()) if mask.any() else None,
        }  # fmt: skip

    marks = np.asarray(is_diacritic, bool)
    return {"tolerance": tolerance, "marks": summary(marks), "glyphs": summary(~marks)}


def split_integrity(manifest: Mapping[str, Any], font_split: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Design groups and fonts that appear in more than one split (both must be empty).

    ``manifest`` is the split manifest (split -> group -> font hashes); ``font_split`` lists every
    (font hash, split) pair the store's rows hold.
    """
    group_splits: dict[str, set[str]] = {}
    manifest_font: dict[str, set[str]] = {}
    for split, groups in manifest["splits"].items():
        for group, fonts in groups.items():
            group_splits.setdefault(group, set()).add(split)
            for font in fonts:
                manifest_font.setdefault(font, set()).add(split)
    row_font: dict[str, set[str]] = {}
    for font, split in font_split:
        row_font.setdefault(font, set()).add(split)
    straddling_groups = sorted(g for g, s in group_splits.items() if len(s) > 1)
    straddling_fonts = sorted(f for f, s in row_font.items() if len(s) > 1)
    disagreeing = sorted(f for f, s in row_font.items() if f in manifest_font and s != manifest_font[f])
    return {
        "groups": {split: len(groups) for split, groups in sorted(manifest["splits"].items())},
        "fonts": len(row_font), "groups_in_two_splits": straddling_groups, "fonts_in_two_splits": straddling_fonts,
        "fonts_off_their_manifest_split": disagreeing,
        "ok": not (straddling_groups or straddling_fonts or disagreeing),
    }  # fmt: skip
