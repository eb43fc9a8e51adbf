"""Augmentation on whole rasters: translation, and blur computed on halo patches equal to a full-raster blur."""

import numpy as np
from scipy.ndimage import correlate1d

from glyph_core.cell_config import CellAugmentConfig

from glyph_train.data.augment import (
    degrade, draw_augmentation, extract_patches, gaussian_kernels, halo_radius, translate,
)  # fmt: skip


def test_translate_moves_ink_and_drops_what_leaves_the_canvas():
    masks = np.zeros((2, 6, 6), dtype=np.uint8)
    masks[:, 0, 0] = 1
    masks[:, 5, 5] = 1
    moved = translate(masks, np.array([[1, 2], [-1, 0]]))
    assert moved[0, 1, 2] == 1 and moved[0].sum() == 1  # (5, 5) went off the canvas
    assert moved[1, 4, 5] == 1 and moved[1].sum() == 1  # (0, 0) went off the top
    assert np.array_equal(translate(masks, np.zeros((2, 2), dtype=int)), masks)


def test_draw_keeps_diacritics_in_place_and_respects_the_limits():
    config = CellAugmentConfig(translate_px=2, blur_sigma_max=0.6, gamma_jitter=0.2)
    diacritic = np.arange(2000) % 3 == 0
    draw = draw_augmentation(diacritic, config, np.random.default_rng(0))
    assert (draw.shifts[diacritic] == 0).all()
    assert set(np.unique(draw.shifts[~diacritic])) == {-2, -1, 0, 1, 2}
    assert draw.sigmas.min() >= 0 and draw.sigmas.max() <= 0.6
    assert np.exp(-0.2) <= draw.gammas.min() and draw.gammas.max() <= np.exp(0.2)
    shifted = draw_augmentation(diacritic, config.model_copy(update={"shift_diacritics": True}), np.random.default_rng(0))
    assert (shifted.shifts[diacritic] != 0).any()


def test_blurring_halo_patches_equals_blurring_the_whole_raster():
    rng = np.random.default_rng(2)
    masks = (rng.random((3, 32, 32)) < 0.3).astype(np.uint8)
    sigmas, gammas = np.array([0.6, 0.3, 0.0]), np.array([0.8, 1.0, 1.2])
    halo = halo_radius(0.6)
    kernels = gaussian_kernels(sigmas, halo)
    grid = np.stack(np.meshgrid(np.arange(3), np.arange(4), np.arange(4), indexing="ij"), -1).reshape(-1, 3)
    raster, row, col = grid.T
    cells = degrade(extract_patches(masks, raster, row, col, 8, halo), sigmas[raster], gammas[raster], halo)
    for i in range(3):
        full = correlate1d(masks[i].astype(np.float64), kernels[i], axis=1, mode="constant")
        full = correlate1d(full, kernels[i], axis=0, mode="constant") ** gammas[i]
        expected = full.reshape(4, 8, 4, 8).transpose(0, 2, 1, 3).reshape(16, 8, 8)
        np.testing.assert_allclose(cells[raster == i], expected, atol=1e-5)
    # sigma 0 and gamma 1 leave a binary cell as it is.
    assert np.array_equal(cells[raster == 2][0] > 0.5, masks[2, :8, :8] > 0)
