"""Raster augmentation for Phase 1 (docs/phase1.md): pure functions on whole rasters, before slicing.

Translation moves the binary raster, so cells, their primitive ids and the model input all come
from the moved raster. Blur and gamma only degrade the model input: the target of a cell is still
the primitive of its clean binary pattern, so the model learns to tokenize degraded images. Blur is
computed on a cell plus a halo of neighbouring pixels, which equals blurring the whole raster and
then slicing it, at a fraction of the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from glyph_core.cell_config import CellAugmentConfig


@dataclass(frozen=True)
class AugmentDraw:
    """Per-raster augmentation parameters."""

    shifts: np.ndarray  # (N, 2) int: rows down, columns right
    sigmas: np.ndarray  # (N,) float: Gaussian blur sigma (0 = none)
    gammas: np.ndarray  # (N,) float: exponent applied to blurred intensities


def draw_augmentation(is_diacritic: np.ndarray, config: CellAugmentConfig, rng: np.random.Generator) -> AugmentDraw:
    """Draw shifts, blur sigmas and gammas for rasters (diacritics keep their anchor unless configured)."""
    n = len(is_diacritic)
    t = config.translate_px
    shifts = rng.integers(-t, t + 1, size=(n, 2)) if t else np.zeros((n, 2), dtype=np.int64)
    if not config.shift_diacritics:
        shifts[np.asarray(is_diacritic, dtype=bool)] = 0
    sigmas = rng.uniform(0.0, config.blur_sigma_max, size=n)
    gammas = np.exp(rng.uniform(-config.gamma_jitter, config.gamma_jitter, size=n))
    return AugmentDraw(shifts, sigmas, gammas)


def halo_radius(blur_sigma_max: float) -> int:
    """Pixels beyond a cell that a blur of at most this sigma reads (three sigmas, at least none)."""
    return math.ceil(3 * blur_sigma_max)


def translate(masks: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Move each (S, S) mask by its (rows, columns) shift, filling with background; ink moved off is dropped."""
    out = np.zeros_like(masks)
    size_y, size_x = masks.shape[1:]
    for dy, dx in np.unique(shifts, axis=0):
        rows = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
        src_y = slice(max(0, -dy), size_y - max(0, dy))
        src_x = slice(max(0, -dx), size_x - max(0, dx))
        dst_y = slice(max(0, dy), size_y - max(0, -dy))
        dst_x = slice(max(0, dx), size_x - max(0, -dx))
        out[rows, dst_y, dst_x] = masks[rows, src_y, src_x]
    return out


def gaussian_kernels(sigmas: np.ndarray, radius: int) -> np.ndarray:
    """(N, 2r+1) normalized 1-D Gaussian kernels; sigma 0 gives the identity."""
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    safe = np.maximum(np.asarray(sigmas, dtype=np.float64), 1e-6)[:, None]
    kernels = np.exp(-0.5 * (taps[None, :] / safe) ** 2)
    return (kernels / kernels.sum(axis=1, keepdims=True)).astype(np.float32)


def extract_patches(masks: np.ndarray, raster: np.ndarray, row: np.ndarray, col: np.ndarray, cell: int, halo: int) -> np.ndarray:
    """(M, cell+2h, cell+2h) windows around cells (raster index, grid row, grid column), zero outside the canvas."""
    padded = np.pad(masks, ((0, 0), (halo, halo), (halo, halo))) if halo else masks
    span = np.arange(cell + 2 * halo)
    ys = (row * cell)[:, None, None] + span[None, :, None]
    xs = (col * cell)[:, None, None] + span[None, None, :]
    return padded[raster[:, None, None], ys, xs]


def degrade(patches: np.ndarray, sigmas: np.ndarray, gammas: np.ndarray, halo: int) -> np.ndarray:
    """Blur (separable Gaussian) and gamma-adjust 0/1 patches with a halo -> (M, c, c) float32 cells in [0, 1]."""
    x = patches.astype(np.float32)
    if halo:
        kernels = gaussian_kernels(sigmas, halo)
        width = x.shape[2] - 2 * halo
        rows = sum(kernels[:, t, None, None] * x[:, :, t : t + width] for t in range(2 * halo + 1))
        x = sum(kernels[:, t, None, None] * rows[:, t : t + width, :] for t in range(2 * halo + 1))
    x = np.clip(x, 0.0, 1.0)
    return np.power(x, np.asarray(gammas, dtype=np.float32)[:, None, None])
