"""Request and response models of the rasterd HTTP API (DESIGN "HTTP (rasterd)"), shared by the
service, its typed client (``glyph_core.client``), glyph-train and users' scripts.

JSON rasters are rows of ``"0"``/``"1"`` characters (``"1"`` = ink), so a raster is readable in a
browser and turns into the same uint8 0/255 mask as ``.npy`` with :meth:`RasterJson.to_mask`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from glyph_core.schema import CHAR_CLASSES

CharClass = Literal[CHAR_CLASSES]  # type: ignore[valid-type]
SplitName = Literal["train", "val", "test"]
RasterFormat = Literal["png", "npy", "json"]

_HASH_EXAMPLE = "a0e7946a97cd016e4322c3d3dc06bdc62776a5c933e9a3417ad74c91d822b9bd"
# A 600-unit square with a square hole (nonzero fill keeps the hole: the inner contour runs the other way).
SQUARE_WITH_HOLE = [
    [["moveTo", [0, 0]], ["lineTo", [600, 0]], ["lineTo", [600, 600]], ["lineTo", [0, 600]], ["closePath", []]],
    [["moveTo", [150, 150]], ["lineTo", [150, 450]], ["lineTo", [450, 450]], ["lineTo", [450, 150]], ["closePath", []]],
]


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(ApiModel):
    loc: list[str | int] = Field(description="Where the bad value is: body/query/path, then the field names.")
    msg: str
    type: str


class ErrorResponse(ApiModel):
    """The one error shape of every route."""

    detail: str = Field(description="What went wrong and, where it helps, what to do about it.")
    code: str = Field(description="Stable machine-readable error code.")
    errors: list[FieldError] | None = Field(None, description="Per-field problems of a 422 validation error.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"detail": "no glyph 123456 in the database or the rasters store", "code": "glyph_not_found"}]},
    )


def rows_from_mask(mask: np.ndarray) -> list[str]:
    """(H, W) mask (nonzero = ink) -> H strings of ``"0"``/``"1"``."""
    bits = (np.asarray(mask) != 0).astype(np.uint8) + np.uint8(ord("0"))
    return [row.tobytes().decode("ascii") for row in bits]


def mask_from_rows(rows: list[str]) -> np.ndarray:
    """Inverse of :func:`rows_from_mask`: uint8 (H, W) with ink = 255."""
    if not rows:
        return np.zeros((0, 0), dtype=np.uint8)
    data = np.frombuffer("".join(rows).encode("ascii"), dtype=np.uint8).reshape(len(rows), -1)
    return ((data == ord("1")) * 255).astype(np.uint8)


class RasterJson(ApiModel):
    """A binary raster as text rows (``"1"`` = ink); ``to_mask()`` gives uint8 0/255."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"glyph_id": 17, "width": 4, "height": 2, "rows": ["0110", "1001"]}]})

    glyph_id: int | None = Field(None, description="The glyph, or null for POST /v1/rasterize.")
    width: int
    height: int
    rows: list[str] = Field(description="`height` strings of `width` characters, top row first; '1' is ink.")

    def to_mask(self) -> np.ndarray:
        return mask_from_rows(self.rows)

    @classmethod
    def from_mask(cls, mask: np.ndarray, glyph_id: int | None = None) -> RasterJson:
        return cls(glyph_id=glyph_id, width=int(mask.shape[1]), height=int(mask.shape[0]), rows=rows_from_mask(mask))


class GridJson(ApiModel):
    """Primitive ids of a raster's cells, row-major (0 = empty cell, k = centroid k - 1)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"glyph_id": 17, "grid_side": 2, "cell_size": 8, "centroid_hash": "be445ab99e90...", "ids": [[0, 12], [7, 0]]}]})

    glyph_id: int | None = None
    grid_side: int = Field(description="Cells per side (canvas_size / cell_size).")
    cell_size: int = Field(description="Pixels per cell side.")
    centroid_hash: str = Field(description="sha256 of the centroids the ids refer to.")
    ids: list[list[int]]

    def to_array(self) -> np.ndarray:
        return np.asarray(self.ids, dtype=np.uint16).reshape(self.grid_side, self.grid_side)


class GlyphSummary(ApiModel):
    """One row of the glyph listing."""

    glyph_id: int
    label: str
    font_hash: str
    family_name: str | None = None
    split: SplitName | None = Field(None, description="Null when the font is in no split (no build yet, or all its rows rejected).")
    char_class: str | None = None
    built: bool = Field(description="True when the glyph is in the rasters store; otherwise it is rasterized on request.")


class GlyphPage(ApiModel):
    """A page of the glyph listing, in glyph id order."""

    items: list[GlyphSummary]
    total: int = Field(description="Glyphs matching the filters, over all pages.")
    limit: int
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last page.")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "items": [{"glyph_id": 17, "label": "beh_isol", "font_hash": _HASH_EXAMPLE, "family_name": "Amiri",
                           "split": "train", "char_class": "isol", "built": True}],
                "total": 412, "limit": 1, "next_cursor": "eyJhIjoxNywicSI6IjNmNGUifQ",
            }]
        },
    )  # fmt: skip


class RasterMetadata(ApiModel):
    """What rasterizing one outline measured (docs/raster-policy.md)."""

    is_diacritic: bool
    original_bbox: list[float] = Field(description="[min_x, min_y, max_x, max_y] of the flattened outline, font units.")
    scale_factor: float = Field(description="Output pixels per font unit.")
    major_dim_ratio: float = Field(description="max(bbox width, height) / em height.")
    target_dim: int = Field(description="Largest raster dimension: diacritic_target or canvas_size.")


class GlyphMetadata(RasterMetadata):
    """docs/raster-policy.md metadata of one glyph plus its label, font and split."""

    glyph_id: int
    label: str
    font_hash: str
    family_name: str | None = None
    style: str | None = None
    split: SplitName | None = None
    design_group: str | None = Field(None, description="The design group the split was dealt by (DESIGN: split by design).")
    char_class: str | None = None
    joining_group: str | None = None
    alt_labels: list[str] = Field(description="Labels the same font draws with an identical outline (twins).")
    class_index: int | None = Field(None, description="The label's index in the build's label map; null when filtered out.")
    source: Literal["store", "rendered"] = Field(
        description="'store': read from the rasters store; 'rendered': rasterized from the database on request."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "glyph_id": 17, "label": "beh_isol", "font_hash": _HASH_EXAMPLE, "family_name": "Amiri", "style": "Regular",
                "split": "train", "design_group": "amiri", "char_class": "isol", "joining_group": "BEH", "alt_labels": [],
                "class_index": 42, "source": "store", "is_diacritic": False, "original_bbox": [57.0, -266.0, 914.0, 356.0],
                "scale_factor": 0.14936, "major_dim_ratio": 0.4875, "target_dim": 128,
            }]
        },
    )  # fmt: skip


class LabelInfo(ApiModel):
    label: str
    class_index: int | None = Field(None, description="Index in the build's label map (null: not in the build).")
    glyphs: int = Field(description="Glyph rows with this label.")
    built: int = Field(description="Of those, rows in the rasters store.")


class LabelList(ApiModel):
    labels: list[LabelInfo]
    total: int

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"labels": [{"label": "beh_isol", "class_index": 106, "glyphs": 118, "built": 118}], "total": 1}]},
    )


class FontInfo(ApiModel):
    font_hash: str
    family_name: str | None = None
    style: str | None = None
    weight: int | None = None
    split: SplitName | None = None
    design_group: str | None = None
    units_per_em: int | None = None
    em_height: float | None = Field(None, description="Vertical EM span used for the diacritic rule (docs/raster-policy.md).")
    glyphs: int
    built: int


class FontList(ApiModel):
    fonts: list[FontInfo]
    total: int

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "fonts": [{"font_hash": _HASH_EXAMPLE, "family_name": "Amiri", "style": "Regular", "weight": 400, "split": "test",
                           "design_group": "amiri", "units_per_em": 1000, "em_height": 1758.0, "glyphs": 402, "built": 396}],
                "total": 1,
            }]
        },
    )  # fmt: skip


class PrimitiveInfo(ApiModel):
    id: int = Field(description="0 is the empty cell; k >= 1 is centroid k - 1.")
    frequency: int | None = Field(None, description="Cells with this id in the grids store (null without one).")
    share: float | None = Field(None, description="frequency / all cells.")
    ink: float = Field(description="Mean ink of the prototype (0..1).")


class SpriteLayout(ApiModel):
    """Where each prototype is in `/v1/primitives.png`: tile `id` at column id % columns, row id // columns."""

    columns: int
    tile_px: int = Field(description="Side of one tile in pixels, gap included.")
    cell_px: int = Field(description="Side of the prototype image inside a tile.")


class PrimitiveCatalog(ApiModel):
    centroid_hash: str
    cell_size: int
    count: int = Field(description="Primitive ids, the empty cell included (K + 1).")
    frequencies_from: str | None = Field(None, description="The grids store the frequencies were counted in.")
    sprite: SpriteLayout
    primitives: list[PrimitiveInfo]

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "centroid_hash": "be445ab99e90...", "cell_size": 8, "count": 3, "frequencies_from": "outputs/grids/grids.zarr",
                "sprite": {"columns": 32, "tile_px": 34, "cell_px": 32},
                "primitives": [{"id": 0, "frequency": 9000, "share": 0.9, "ink": 0.0}, {"id": 1, "frequency": 600, "share": 0.06, "ink": 0.5},
                               {"id": 2, "frequency": 400, "share": 0.04, "ink": 1.0}],
            }]
        },
    )  # fmt: skip


class FontMetricsIn(ApiModel):
    """Font metrics that set the EM height (docs/raster-policy.md); all optional. Without usable metrics the
    outline's own height stands in, so nothing counts as a diacritic."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ascent: float | None = Field(None, ge=-1e7, le=1e7)
    descent: float | None = Field(None, ge=-1e7, le=1e7)
    typo_ascent: float | None = Field(None, ge=-1e7, le=1e7)
    typo_descent: float | None = Field(None, ge=-1e7, le=1e7)


class RasterizeRequest(ApiModel):
    """An outline in the contour JSON of glyphs.db (docs/data.md) and its font's metrics."""

    contours: list[Any] | str = Field(
        description="A list of subpaths, each a list of [command, args] (moveTo, lineTo, qCurveTo, curveTo/cubicTo, "
        "closePath), or the same as a JSON string, exactly as stored in glyphs.db."
    )
    font: FontMetricsIn | None = None

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"contours": SQUARE_WITH_HOLE, "font": {"ascent": 800, "descent": -200}}]},
    )


class RasterizeResponse(ApiModel):
    raster: RasterJson
    grid: GridJson | None = Field(None, description="Null when the service has no primitive centroids.")
    metadata: RasterMetadata
    em_height: float | None = Field(None, description="The EM height used (null: the outline's height).")
    raster_config_hash: str = Field(description="sha256 of the raster policy used (the build's).")

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "raster": {"glyph_id": None, "width": 4, "height": 2, "rows": ["1111", "1001"]},
                "grid": {"glyph_id": None, "grid_side": 1, "cell_size": 8, "centroid_hash": "be445ab99e90...", "ids": [[5]]},
                "metadata": {"is_diacritic": False, "original_bbox": [0.0, 0.0, 600.0, 600.0], "scale_factor": 0.21333,
                             "major_dim_ratio": 0.6, "target_dim": 128},
                "em_height": 1000.0, "raster_config_hash": "3f1c...",
            }]
        },
    )  # fmt: skip


class ComponentStatus(ApiModel):
    status: str = Field(description="ok, missing, stale, invalid or unavailable.")
    path: str | None = None
    detail: str | None = None
    glyphs: int | None = None
    build_id: str | None = None
    content_hash: str | None = None


class Health(ApiModel):
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok: everything present; degraded: serving, with something missing or stale; unavailable: nothing to serve."
    )
    versions: dict[str, str]
    database: ComponentStatus
    rasters_store: ComponentStatus
    centroids: ComponentStatus
    grids_store: ComponentStatus
    bundle: ComponentStatus | None = Field(
        None, description="The model bundle of the recognition routes: ok, off, missing (neither degrades the service), refused, invalid or unavailable."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "status": "degraded", "versions": {"rasterd": "0.1.0", "glyph-core": "0.1.0", "python": "3.11.7"},
                "database": {"status": "ok", "path": "dataset/glyphs.db", "glyphs": 42860},
                "rasters_store": {"status": "ok", "path": "outputs/rasters/rasters.zarr", "glyphs": 42005, "build_id": "625ff059..."},
                "centroids": {"status": "missing", "path": "outputs/primitives/primitive_centroids.npy",
                              "detail": "no primitive centroids at ...: run `glyph-train primitives --config configs/primitives.yaml`"},
                "grids_store": {"status": "missing", "path": "outputs/grids/grids.zarr", "detail": "run `rasterd tokenize`"},
            }]
        },
    )  # fmt: skip
