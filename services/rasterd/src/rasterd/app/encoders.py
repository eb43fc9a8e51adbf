"""Pure functions from arrays to response bytes: PNG, ``.npy`` and the pictures a person looks at
(a grid with its primitive ids written in the cells, a sheet of primitive prototypes).

The PNG writer is a minimal zlib one: a raster goes out as a 1-bit grayscale PNG straight from the
store's bit-packed rows, with no unpacking and no Pillow (faster; see bench/README.md), deflated
with run-length matching only. Pixel values
keep the mask's meaning: ink is white (1, or 255 in 8 bits), as in the ``.npy`` and the store.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRAY, PALETTE = 0, 3  # PNG colour types
ZLIB_LEVEL = 6


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(
    rows: np.ndarray, width: int, bit_depth: int, color_type: int, palette: bytes | None = None, strategy: int = zlib.Z_RLE
) -> bytes:
    """A PNG of ``rows`` (H, bytes per row, already packed for ``bit_depth``), filter type 0 on every row.

    ``strategy`` is zlib's: run-length matching only by default, since binary rasters are runs of one
    value (~4x faster than zlib's default strategy on real glyphs for ~20% more bytes; bench/README.md).
    """
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    height = rows.shape[0]
    scanlines = np.zeros((height, rows.shape[1] + 1), dtype=np.uint8)
    scanlines[:, 1:] = rows
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    parts = [PNG_SIGNATURE, _chunk(b"IHDR", header)]
    if palette is not None:
        parts.append(_chunk(b"PLTE", palette))
    deflate = zlib.compressobj(ZLIB_LEVEL, zlib.DEFLATED, 15, 8, strategy)
    parts += [_chunk(b"IDAT", deflate.compress(scanlines.tobytes()) + deflate.flush()), _chunk(b"IEND", b"")]
    return b"".join(parts)


def png_from_packed(packed: np.ndarray, width: int) -> bytes:
    """1-bit grayscale PNG from (H, ceil(W / 8)) rows packed like ``np.packbits`` (ink = white)."""
    return encode_png(packed, width, 1, GRAY)


def png_gray(image: np.ndarray) -> bytes:
    """8-bit grayscale PNG of a uint8 (H, W) image."""
    return encode_png(image, image.shape[1], 8, GRAY)


def npy_bytes(array: np.ndarray) -> bytes:
    """The array in NumPy's ``.npy`` format (``np.load(io.BytesIO(data))`` reads it back)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


# 3x5 pixel digits, one string of 15 bits (row-major) each.
_DIGITS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111",
}  # fmt: skip
_GLYPHS = {d: np.array([int(b) for b in bits], dtype=bool).reshape(5, 3) for d, bits in _DIGITS.items()}

# Palette of the grid picture: background, ink, cell lines, ids.
GRID_PALETTE = bytes([255, 255, 255, 200, 200, 200, 120, 160, 220, 170, 0, 0])
_BACKGROUND, _INK, _LINE, _TEXT = 0, 1, 2, 3


def _upscale(image: np.ndarray, scale: int) -> np.ndarray:
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


@lru_cache(maxsize=4096)
def _text(number: int, scale: int) -> np.ndarray:
    """A bool bitmap of ``number`` in the 3x5 digits, each scaled by ``scale``, one column apart."""
    gap = np.zeros((5, 1), dtype=bool)
    parts: list[np.ndarray] = []
    for i, d in enumerate(str(number)):
        parts += [gap, _GLYPHS[d]] if i else [_GLYPHS[d]]
    return _upscale(np.hstack(parts), scale)


def grid_picture(mask: np.ndarray, ids: np.ndarray, pixel_scale: int = 4) -> bytes:
    """A palette PNG of ``mask`` scaled ``pixel_scale`` times, the cell grid drawn over it and each
    non-empty cell's primitive id written in it (the grid ``.png`` of the API)."""
    side = mask.shape[0] * pixel_scale
    cell_px = side // ids.shape[0]
    image = np.where(_upscale(mask != 0, pixel_scale), _INK, _BACKGROUND).astype(np.uint8)
    image[::cell_px, :] = _LINE
    image[:, ::cell_px] = _LINE
    image[-1, :] = _LINE
    image[:, -1] = _LINE
    for (r, c), value in zip(np.argwhere(ids).tolist(), ids[ids != 0].tolist(), strict=True):
        text = _text(value, 2 if len(str(value)) * 8 <= cell_px else 1)
        h, w = text.shape
        top, left = r * cell_px + (cell_px - h) // 2, c * cell_px + max((cell_px - w) // 2, 1)
        region = image[top : top + h, left : left + w]
        region[text[: region.shape[0], : region.shape[1]]] = _TEXT
    return encode_png(image, side, 8, PALETTE, GRID_PALETTE)


def primitive_sheet(centroids: np.ndarray, cell_size: int, columns: int, pixel_scale: int, gap: int) -> bytes:
    """8-bit grayscale PNG of every prototype (ink = white): tile ``id`` (0 = the empty cell) sits at
    column ``id % columns``, row ``id // columns``, each tile ``cell_size * pixel_scale + gap`` pixels."""
    prototypes = np.vstack([np.zeros((1, cell_size * cell_size)), np.asarray(centroids, dtype=np.float64)])
    tiles = np.clip(np.rint(prototypes * 255), 0, 255).astype(np.uint8).reshape(-1, cell_size, cell_size)
    tiles = tiles.repeat(pixel_scale, axis=1).repeat(pixel_scale, axis=2)
    tile = cell_size * pixel_scale + gap
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * tile, columns * tile), 64, dtype=np.uint8)
    for i, image in enumerate(tiles):
        top, left = (i // columns) * tile, (i % columns) * tile
        sheet[top : top + image.shape[0], left : left + image.shape[1]] = image
    return png_gray(sheet)
