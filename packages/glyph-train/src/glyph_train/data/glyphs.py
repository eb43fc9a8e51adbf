"""Glyph-level data from a rasters store: labels, twins, fonts, design groups, size cues, grids, rasters.

Everything a glyph classifier or its evaluation needs per row, held in memory (a few MB for the
Debian fonts). The packed rasters are 2 KB a glyph, so whole splits fit too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from glyph_core.paths import OutputLayout
from glyph_core.store import SPLIT_CODES, StoreError, open_store, unpack_masks

from glyph_core.cues import SIDE_FEATURES, size_cues  # noqa: F401  (the cues live in glyph-core; imported from here too)
from glyph_core.rasters import RasterStore

# Auxiliary diacritic-presence targets: the glyph is a mark (char class), it is drawn at mark size.
AUX_TARGETS = ("is_mark", "drawn_as_diacritic")


@dataclass(frozen=True)
class GlyphTable:
    """Per-row facts of one rasters store."""

    labels: tuple[str, ...]  # label names; index = label id of the store
    fonts: tuple[str, ...]  # font hashes; index = font id
    char_classes: tuple[str, ...]
    design_names: tuple[str, ...]  # design groups; index = design id
    label: np.ndarray  # (N,) int32
    twin_labels: np.ndarray  # (N, MAX_TWINS) int32, -1 padded: labels the same font draws identically
    font: np.ndarray  # (N,) int32
    design: np.ndarray  # (N,) int32, -1 when the font is in no design group of the manifest
    split: np.ndarray  # (N,) uint8
    char_class: np.ndarray  # (N,) int8, -1 unknown
    is_diacritic: np.ndarray  # (N,) bool
    side: np.ndarray  # (N, len(SIDE_FEATURES)) float32
    glyph_id: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.label)

    def rows_of(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.split == SPLIT_CODES[split])

    def label_sets(self, rows: np.ndarray) -> np.ndarray:
        """(n, 1 + MAX_TWINS) int32: each row's label, then its twins (a twin equal to the label and padding are -1).
        What the twin-aware loss accepts as right, and column 0 is what strict accuracy reads."""
        label = self.label[rows]
        twins = self.twin_labels[rows]
        twins = np.where(twins == label[:, None], -1, twins)
        return np.concatenate([label[:, None], twins], axis=1).astype(np.int32)

    def aux_targets(self, rows: np.ndarray) -> np.ndarray:
        """(n, len(AUX_TARGETS)) float32 0/1 targets of the auxiliary diacritic-presence loss."""
        mark = self.char_classes.index("diacritic") if "diacritic" in self.char_classes else -2
        return np.stack([self.char_class[rows] == mark, self.is_diacritic[rows]], axis=1).astype(np.float32)


def read_design_groups(layout: OutputLayout, fonts: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray]:
    """Design group names and each font's group index, from the split manifest `rasterd build` wrote."""
    path = layout.split_manifest
    if not path.is_file():
        raise FileNotFoundError(f"no split manifest at {path}: run `rasterd build`")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    names: list[str] = []
    of_font = {}
    for split in sorted(manifest["splits"]):
        for group, hashes in sorted(manifest["splits"][split].items()):
            names.append(group)
            for font in hashes:
                of_font[font] = len(names) - 1
    return tuple(names), np.array([of_font.get(f, -1) for f in fonts], dtype=np.int32)


def load_glyph_table(source: RasterStore, layout: OutputLayout) -> GlyphTable:
    """The per-row facts of ``source`` (its split manifest sits under the same outputs root)."""
    group = source.group
    attrs = dict(group.attrs)
    fonts = tuple(attrs["fonts"])
    design_names, design_of_font = read_design_groups(layout, fonts)
    font = group["font"][:].astype(np.int32)
    is_diacritic = group["is_diacritic"][:].astype(bool)
    return GlyphTable(
        labels=tuple(attrs["labels"]),
        fonts=fonts,
        char_classes=tuple(attrs["char_classes"]),
        design_names=design_names,
        label=group["label"][:].astype(np.int32),
        twin_labels=group["twin_labels"][:].astype(np.int32),
        font=font,
        design=design_of_font[font],
        split=source.split,
        char_class=group["char_class"][:].astype(np.int8),
        is_diacritic=is_diacritic,
        side=size_cues(group["bbox"][:], group["major_dim_ratio"][:], is_diacritic),
        glyph_id=group["glyph_id"][:].astype(np.int64),
    )


def load_grids(path: Path, kind: str, source: RasterStore, expect: dict[str, str] | None = None) -> np.ndarray:
    """All (N, side, side) grids of a grids or predicted-grids store made from ``source``, checked row by row."""
    if not (path / "zarr.json").is_file():
        command = "rasterd tokenize" if kind == "grids" else "glyph-train phase1"
        raise FileNotFoundError(f"no {kind.replace('_', ' ')} store at {path}: run `{command}`")
    group = open_store(path, kind, expect={"rasters_build_id": source.build_id, **(expect or {})})
    if not np.array_equal(group["glyph_id"][:], source.group["glyph_id"][:]):
        raise StoreError(f"{path}: its glyph ids differ from the rasters store's; rebuild it")
    return group["grid"][:].astype(np.int32)


def raster_inputs(
    rasters: PackedRasters, table: GlyphTable, rows: np.ndarray, masks: np.ndarray | None = None, side: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """What the raster models (the joint model, the baseline) eat: (n, S, S, 1) float32 0/1 rasters and
    the size cues (the rows' own unless given)."""
    masks = rasters.masks(rows) if masks is None else masks
    return {"raster": masks[..., None].astype(np.float32), "side": table.side[rows] if side is None else side}


class PackedRasters:
    """Bit-packed rasters of some rows, held in memory and unpacked per batch."""

    def __init__(self, source: RasterStore, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        self.canvas_size = source.canvas_size
        self.index = np.full(source.count, -1, dtype=np.int64)
        self.index[rows] = np.arange(len(rows))
        self.packed = np.empty((len(rows), source.canvas_size, source.canvas_size // 8), dtype=np.uint8)
        raster = source.group["raster"]
        for chunk in source.chunks_of(rows):
            span = source.chunk_rows(int(chunk))
            wanted = rows[(rows >= span.start) & (rows < span.stop)]
            self.packed[self.index[wanted]] = raster[span.start : span.stop][wanted - span.start]

    def masks(self, rows: np.ndarray) -> np.ndarray:
        """(n, S, S) uint8 0/1 masks of ``rows`` (each must be one of the rows held)."""
        where = self.index[np.asarray(rows)]
        if (where < 0).any():
            raise KeyError("rows not held in memory")
        return unpack_masks(self.packed[where], value=1)
