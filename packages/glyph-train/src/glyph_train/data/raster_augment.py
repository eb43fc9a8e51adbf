"""Raster-level augmentation for the glyph classifiers (docs/training.md): the ink changes, the anchor does not.

Stroke weight (dilate or erode), a slight slant, scale and rotation act on a binary raster. The
transform pivots on the top-left corner of the ink box and the result is put back with that corner
where it was, so the placement rule (top-left anchored; diacritics at their 64 px anchor) survives:
font invariance is the point, and a model must not learn positions that the rasterizer never makes.
"""

from __future__ import annotations

import numpy as np
from glyph_core.classifier_config import RasterAugmentConfig
from scipy import ndimage

_CROSS = ndimage.generate_binary_structure(2, 1)


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) inclusive of the ink, or None for an empty raster."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


def change_stroke(mask: np.ndarray, steps: int) -> np.ndarray:
    """Dilate (steps > 0) or erode (steps < 0) by |steps| cross-shaped steps; an erosion that would erase the glyph is skipped."""
    if steps > 0:
        return ndimage.binary_dilation(mask, _CROSS, iterations=steps)
    if steps < 0:
        thinner = ndimage.binary_erosion(mask, _CROSS, iterations=-steps)
        return thinner if thinner.sum() >= 0.25 * mask.sum() else mask
    return mask


def warp(mask: np.ndarray, matrix: np.ndarray, anchor: tuple[int, int] | None = None) -> np.ndarray:
    """Apply a 2x2 linear map (on (row, col)) to the ink box, then put its top-left corner at ``anchor``
    (default: where the ink box's top-left was)."""
    box = ink_box(mask)
    if box is None:
        return mask
    _, _, bottom, right = box
    top, left = box[:2]
    crop = mask[top : bottom + 1, left : right + 1]
    h, w = crop.shape
    # Only the ink box is warped (a few times cheaper than the canvas), into a box that holds its image.
    corners = np.array([[0, 0], [0, w], [h, 0], [h, w]], dtype=np.float64) @ matrix.T
    low = np.floor(corners.min(axis=0)) - 1
    shape = tuple(int(v) for v in np.ceil(corners.max(axis=0)) + 1 - low)
    inverse = np.linalg.inv(matrix)
    # scipy reads input pixel inverse @ o + offset for output pixel o; output o is the point o + low.
    out = ndimage.affine_transform(crop.astype(np.uint8), inverse, offset=inverse @ low, output_shape=shape, order=0)
    new_box = ink_box(out)
    if new_box is None:
        return mask
    size = mask.shape[0]
    if anchor is not None:
        top, left = anchor
    piece = out[new_box[0] : new_box[2] + 1, new_box[1] : new_box[3] + 1][: size - top, : size - left]
    result = np.zeros(mask.shape, dtype=bool)
    result[top : top + piece.shape[0], left : left + piece.shape[1]] = piece
    return result


def random_matrix(config: RasterAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Scale, slant and rotation as one 2x2 matrix acting on (row, col) vectors."""
    sy, sx = 1.0 + rng.uniform(-config.scale_jitter, config.scale_jitter, size=2)
    shear = rng.uniform(-config.slant_max, config.slant_max)
    angle = np.deg2rad(rng.uniform(-config.rotate_deg, config.rotate_deg))
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[cos, -sin], [sin, cos]])
    # Slant: col += shear * (distance up from the bottom) = -shear * row, so tops lean right.
    slant = np.array([[1.0, 0.0], [-shear, 1.0]])
    return rotation @ slant @ np.diag([sy, sx])


def augment_rasters(
    masks: np.ndarray, config: RasterAugmentConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A new (n, S, S) uint8 0/1 stack where each raster was augmented with probability ``config.share``,
    and the indices of those that were."""
    out = np.array(masks, dtype=np.uint8, copy=True)
    chosen = np.flatnonzero(rng.random(len(out)) < config.share)
    for i in chosen:
        mask = out[i].astype(bool)
        box = ink_box(mask)
        if box is None:
            continue
        # Erosion eats ink at the canvas edge too, so the anchor is taken before the stroke changes.
        mask = change_stroke(mask, int(rng.integers(-config.stroke_px, config.stroke_px + 1)))
        out[i] = warp(mask, random_matrix(config, rng), anchor=box[:2])
    return out, chosen
