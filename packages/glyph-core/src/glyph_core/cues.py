"""The size cues a glyph's raster cannot show (docs/phase2.md): computed once here, for training,
evaluation and any runtime that classifies a raster (the glyph-train models and an exported bundle)."""

from __future__ import annotations

import numpy as np

# Order of the cue columns every model input ``side`` holds.
SIDE_FEATURES = ("major_dim_ratio", "log_aspect", "bottom_in_em", "top_in_em", "is_diacritic")


def size_cues(bbox: np.ndarray, major_dim_ratio: np.ndarray, is_diacritic: np.ndarray) -> np.ndarray:
    """What tight scaling throws away, per glyph (docs/phase2.md).

    ``bbox`` is the outline's (x_min, y_min, x_max, y_max) in font units and ``major_dim_ratio`` its
    larger side over the font's em height (ascent - descent), so the em height is recovered per glyph
    and the vertical extent is given in ems above the baseline: alef, Arabic-Indic one, Latin l and I
    differ there, and o/O, s/S, v/V differ in size.
    """
    bbox = np.asarray(bbox, dtype=np.float64)
    width = np.maximum(bbox[:, 2] - bbox[:, 0], 0.0)
    height = np.maximum(bbox[:, 3] - bbox[:, 1], 0.0)
    ratio = np.asarray(major_dim_ratio, dtype=np.float64)
    em = np.where(ratio > 0, np.maximum(width, height) / np.where(ratio > 0, ratio, 1.0), 1.0)
    em = np.where(em > 0, em, 1.0)
    log_aspect = np.clip(np.log((width + 1e-3 * em) / (height + 1e-3 * em)), -3.0, 3.0)
    cues = np.stack(
        [np.clip(ratio, 0, 4), log_aspect, np.clip(bbox[:, 1] / em, -2, 2), np.clip(bbox[:, 3] / em, -2, 2), is_diacritic],
        axis=1,
    )
    return cues.astype(np.float32)
