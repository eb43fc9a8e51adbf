"""`/v1/glyphs`: the paged listing, one glyph's metadata, its raster and its primitive grid."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from glyph_core.api_models import ErrorResponse, GlyphMetadata, GlyphPage, GlyphSummary, GridJson, RasterFormat, RasterJson
from glyph_core.splits import SPLIT_NAMES
from starlette.concurrency import run_in_threadpool

from rasterd.app.dependencies import (
    GlyphFilters,
    GlyphRequest,
    decode_cursor,
    encode_cursor,
    SettingsDep,
    SnapshotDep,
    glyph_filters,
    glyph_request,
)
from rasterd.app.encoders import grid_picture, npy_bytes, png_from_packed
from rasterd.app.errors import VALIDATION_ERROR

router = APIRouter(prefix="/v1/glyphs", tags=["glyphs"], responses=VALIDATION_ERROR)

Format = Annotated[RasterFormat, Path(description="png (image), npy (NumPy array) or json.")]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorResponse, "description": "No such glyph."}}
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    422: {"model": ErrorResponse, "description": "Bad parameter, or a database row the rasterizer rejects."},
    503: {"model": ErrorResponse, "description": "No database and no rasters store to serve from."},
}
CACHED = {304: {"description": "Not modified: the If-None-Match ETag is current."}}


def _formats(json_model: type, description: str) -> dict[int | str, dict[str, Any]]:
    content = {
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "application/json": {"schema": {"$ref": f"#/components/schemas/{json_model.__name__}"}},
    }
    return {200: {"content": content, "description": description}, **CACHED, **COMMON_ERRORS}


@router.get("", response_model=GlyphPage, summary="List glyphs (paged, filtered)", responses={400: {"model": ErrorResponse}, **COMMON_ERRORS})
async def list_glyphs(
    snapshot: SnapshotDep,
    settings: SettingsDep,
    filters: Annotated[GlyphFilters, Depends(glyph_filters)],
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="Page size (default and maximum from the config).")] = None,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page.")] = None,
) -> Response:
    catalog = snapshot.require_catalog()
    size = min(limit or settings.limits.default_page_size, settings.limits.max_page_size)
    after = decode_cursor(cursor, filters) if cursor else None
    fonts = snapshot.fonts_matching(filters.font) if filters.font is not None else None
    rows, total, more = catalog.select(filters.label, fonts, filters.char_class, filters.split, after, size)
    items = []
    for row in rows.tolist():
        font = catalog.fonts[int(catalog.font_codes[row])]
        metrics = snapshot.font_metrics(font)
        class_code, split_code = int(catalog.class_codes[row]), int(catalog.split_codes[row])
        items.append(GlyphSummary(
            glyph_id=int(catalog.ids[row]), label=catalog.labels[int(catalog.label_codes[row])], font_hash=font,
            family_name=metrics.family_name if metrics else None,
            split=SPLIT_NAMES[split_code] if split_code >= 0 else None,
            char_class=catalog.classes[class_code] if class_code >= 0 else None,
            built=bool(catalog.store_rows[row] >= 0),
        ))  # fmt: skip
    next_cursor = encode_cursor(items[-1].glyph_id, filters) if more and items else None
    page = GlyphPage(items=items, total=total, limit=size, next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type="application/json")


GlyphDep = Annotated[GlyphRequest, Depends(glyph_request)]


@router.get("/{glyph_id}", response_model=GlyphMetadata, summary="One glyph's metadata", responses={**CACHED, **COMMON_ERRORS})
async def glyph_metadata(glyph: GlyphDep) -> Response:
    http = glyph.http_cache("meta")
    if http.matches(glyph.request):
        return http.not_modified()
    snapshot = glyph.snapshot
    metadata = snapshot.cached_metadata(glyph.row) or await run_in_threadpool(snapshot.metadata, glyph.row)
    return http.response(metadata.model_dump_json().encode(), "application/json")


async def _packed(glyph: GlyphRequest) -> np.ndarray:
    packed = glyph.snapshot.cached_packed(glyph.row)
    return packed if packed is not None else await run_in_threadpool(glyph.snapshot.packed, glyph.row)


MEDIA_TYPES = {"png": "image/png", "npy": "application/octet-stream", "json": "application/json"}


@router.get(
    "/{glyph_id}/raster.{fmt}",
    summary="One glyph's raster (png, npy or json)",
    response_class=Response,
    responses=_formats(RasterJson, "The binary raster: PNG (1-bit, ink white), npy (uint8 0/255) or JSON rows."),
)
async def glyph_raster(glyph: GlyphDep, fmt: Format) -> Response:
    http = glyph.http_cache(f"raster.{fmt}")
    if http.matches(glyph.request):
        return http.not_modified()
    packed = await _packed(glyph)
    size = glyph.snapshot.raster_config.canvas_size
    if fmt == "png":
        body = png_from_packed(packed, size)
    else:
        mask = np.unpackbits(packed, axis=-1, count=size) * np.uint8(255)
        body = npy_bytes(mask) if fmt == "npy" else RasterJson.from_mask(mask, glyph.glyph_id).model_dump_json().encode()
    return http.response(body, MEDIA_TYPES[fmt], f"glyph-{glyph.glyph_id}-raster.{fmt}")


@router.get(
    "/{glyph_id}/grid.{fmt}",
    summary="One glyph's primitive grid (png, npy or json)",
    response_class=Response,
    responses={
        **_formats(GridJson, "Primitive ids per cell: PNG picture with the ids written in, npy (uint16) or JSON."),
        409: {"model": ErrorResponse, "description": "No primitive centroids: `glyph-train primitives` makes them."},
    },
)
async def glyph_grid(glyph: GlyphDep, fmt: Format) -> Response:
    snapshot = glyph.snapshot
    primitives = snapshot.require_primitives()
    http = glyph.http_cache(f"grid.{fmt}-{primitives.hash[:12]}")
    if http.matches(glyph.request):
        return http.not_modified()
    packed = await _packed(glyph)
    ids = snapshot.grid(packed)
    if fmt == "png":
        mask = np.unpackbits(packed, axis=-1, count=snapshot.raster_config.canvas_size)
        body = await run_in_threadpool(grid_picture, mask, ids)
    elif fmt == "npy":
        body = npy_bytes(ids)
    else:
        grid = GridJson(
            glyph_id=glyph.glyph_id, grid_side=ids.shape[0], cell_size=primitives.cell_size, centroid_hash=primitives.hash, ids=ids.tolist()
        )
        body = grid.model_dump_json().encode()
    return http.response(body, MEDIA_TYPES[fmt], f"glyph-{glyph.glyph_id}-grid.{fmt}")
