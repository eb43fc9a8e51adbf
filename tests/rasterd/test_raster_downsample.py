"""The downsample is Pillow's BICUBIC resize bit for bit (before and after the 0.5 threshold)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from rasterd.raster import downsample_masks

SIZES = [
    (256, 256, 128, 128),  # the default canvas
    (64, 64, 32, 32),
    (96, 96, 32, 32),  # x3
    (192, 192, 48, 48),  # x4
    (96, 80, 48, 40),  # not square
    (100, 100, 37, 41),  # not an integer factor
    (50, 70, 10, 7),
    (40, 40, 40, 40),  # same size: Pillow's identity-weight pass
    (20, 30, 40, 45),  # upsampling
    (1024, 1024, 128, 128),  # wide windows: more than one lookup chunk per column
]


def pillow(images: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(m, "L").resize((out_w, out_h), Image.BICUBIC)) for m in images])


def random_images(rng: np.random.Generator, count: int, h: int, w: int) -> np.ndarray:
    """Noise of several densities plus blobs, all 0/255."""
    density = rng.choice([0.02, 0.3, 0.5, 0.7, 0.98], size=(count, 1, 1))
    noise = rng.random((count, h, w)) < density
    yy, xx = np.mgrid[:h, :w]
    for i in range(0, count, 3):
        cy, cx, r = rng.random() * h, rng.random() * w, rng.random() * max(h, w) / 2
        noise[i] = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    return noise.astype(np.uint8) * 255


@pytest.mark.parametrize("in_h,in_w,out_h,out_w", SIZES)
def test_equals_pillow_on_random_binary_images(in_h: int, in_w: int, out_h: int, out_w: int) -> None:
    rng = np.random.default_rng(in_h * 1000 + out_w)
    images = random_images(rng, 6 if in_h > 500 else 24, in_h, in_w)
    expected = pillow(images, out_h, out_w)
    np.testing.assert_array_equal(downsample_masks(images, (out_h, out_w), threshold=False), expected)
    np.testing.assert_array_equal(downsample_masks(images, (out_h, out_w)), np.where(expected >= 128, 255, 0))


def test_edge_cases_of_the_canvas() -> None:
    """Ink touching every border, a single pixel in each corner, full and empty images."""
    images = np.zeros((6, 256, 256), np.uint8)
    images[1] = 255
    images[2, [0, 0, -1, -1], [0, -1, 0, -1]] = 255
    images[3, :, :3] = 255
    images[3, -3:, :] = 255
    images[4, ::2, ::2] = 255
    images[5, 100:101, :] = 255
    expected = pillow(images, 128, 128)
    np.testing.assert_array_equal(downsample_masks(images, 128, threshold=False), expected)


def test_nonzero_counts_as_ink_and_bool_is_accepted() -> None:
    rng = np.random.default_rng(3)
    ink = rng.random((4, 64, 64)) < 0.4
    as_255 = downsample_masks(ink.astype(np.uint8) * 255, 32)
    np.testing.assert_array_equal(downsample_masks(ink.astype(np.uint8) * 7, 32), as_255)
    np.testing.assert_array_equal(downsample_masks(ink, 32), as_255)


def test_rejects_wrong_shapes() -> None:
    with pytest.raises(ValueError):
        downsample_masks(np.zeros((8, 8), np.uint8), 4)
    with pytest.raises(ValueError):
        downsample_masks(np.zeros((1, 8, 8), np.uint8), 0)
