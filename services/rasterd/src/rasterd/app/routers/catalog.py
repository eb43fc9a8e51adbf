"""`/v1/labels`, `/v1/fonts`, `/v1/primitives`: what the dataset contains."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from glyph_core.api_models import ErrorResponse, FontInfo, FontList, LabelInfo, LabelList, PrimitiveCatalog, PrimitiveInfo, SpriteLayout
from starlette.concurrency import run_in_threadpool

from rasterd.app.dependencies import ENCODING_VERSION, HttpCache, SettingsDep, SnapshotDep
from rasterd.app.encoders import npy_bytes, primitive_sheet
from rasterd.app.errors import VALIDATION_ERROR
from rasterd.app.readers.cache import LruCache
from rasterd.app.readers.snapshot import Snapshot

router = APIRouter(prefix="/v1", tags=["catalog"], responses=VALIDATION_ERROR)

SPRITE_COLUMNS, SPRITE_CELL_PX, SPRITE_GAP = 32, 32, 2
_sheets = LruCache(4)  # rendered sprite sheets by centroid hash


def sprite_layout(cell_size: int) -> SpriteLayout:
    """Tiles of the sprite sheet: every prototype scaled to about 32 px, 2 px apart."""
    cell_px = cell_size * max(1, SPRITE_CELL_PX // cell_size)
    return SpriteLayout(columns=SPRITE_COLUMNS, tile_px=cell_px + SPRITE_GAP, cell_px=cell_px)


def _counts(codes: np.ndarray, built: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    return np.bincount(codes, minlength=size)[:size], np.bincount(codes[built], minlength=size)[:size]


@router.get("/labels", response_model=LabelList, summary="Labels with glyph counts", responses={503: {"model": ErrorResponse}})
async def labels(snapshot: SnapshotDep) -> Response:
    catalog = snapshot.require_catalog()
    total, built = _counts(catalog.label_codes, catalog.store_rows >= 0, len(catalog.labels))
    items = [
        LabelInfo(label=name, class_index=snapshot.class_index.get(name), glyphs=int(total[i]), built=int(built[i]))
        for i, name in enumerate(catalog.labels)
    ]
    return Response(LabelList(labels=items, total=len(items)).model_dump_json(), media_type="application/json")


@router.get("/fonts", response_model=FontList, summary="Fonts with family, split and glyph counts", responses={503: {"model": ErrorResponse}})
async def fonts(snapshot: SnapshotDep) -> Response:
    catalog = snapshot.require_catalog()
    total, built = _counts(catalog.font_codes, catalog.store_rows >= 0, len(catalog.fonts))
    items = []
    for i, font in enumerate(catalog.fonts):
        metrics = snapshot.font_metrics(font)
        split, group = snapshot.font_splits.get(font, (None, None))
        items.append(FontInfo(
            font_hash=font, split=split, design_group=group, glyphs=int(total[i]), built=int(built[i]),
            family_name=metrics.family_name if metrics else None, style=metrics.style if metrics else None,
            weight=metrics.weight if metrics else None, units_per_em=metrics.upem if metrics else None,
            em_height=metrics.em_height if metrics else None,
        ))  # fmt: skip
    items.sort(key=lambda f: ((f.family_name or "").casefold(), f.style or "", f.font_hash))
    return Response(FontList(fonts=items, total=len(items)).model_dump_json(), media_type="application/json")


def _catalog(snapshot: Snapshot) -> PrimitiveCatalog:
    p = snapshot.require_primitives()
    count = len(p.centroids) + 1
    ink = np.concatenate([[0.0], p.centroids.mean(axis=1)])
    frequencies = p.frequencies
    cells = int(frequencies.sum()) if frequencies is not None else 0
    items = [
        PrimitiveInfo(
            id=i, ink=round(float(ink[i]), 4),
            frequency=int(frequencies[i]) if frequencies is not None else None,
            share=round(float(frequencies[i]) / cells, 6) if frequencies is not None and cells else None,
        )  # fmt: skip
        for i in range(count)
    ]
    return PrimitiveCatalog(
        centroid_hash=p.hash, cell_size=p.cell_size, count=count, frequencies_from=p.frequencies_from,
        sprite=sprite_layout(p.cell_size), primitives=items,
    )


CENTROIDS_MISSING: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "No primitive centroids: `glyph-train primitives` makes them."}
}


@router.get("/primitives", response_model=PrimitiveCatalog, summary="Primitive prototypes with frequencies", responses=CENTROIDS_MISSING)
async def primitives(snapshot: SnapshotDep) -> Response:
    return Response(_catalog(snapshot).model_dump_json(), media_type="application/json")


@router.get(
    "/primitives.{fmt}",
    summary="Primitive prototypes as a sprite PNG, the centroids as npy, or JSON",
    response_class=Response,
    responses={
        200: {
            "description": "png: every prototype as a tile (layout in the JSON's `sprite`); npy: float32 (K, cell*cell) centroids.",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/PrimitiveCatalog"}},
            },
        },
        **CENTROIDS_MISSING,
    },
)
async def primitives_as(
    fmt: Annotated[Literal["png", "npy", "json"], Path(description="png, npy or json.")],
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
) -> Response:
    p = snapshot.require_primitives()
    http = HttpCache(f'"{p.hash[:24]}-{(snapshot.content_tag or "none")[:16]}-primitives.{fmt}-{ENCODING_VERSION}"', settings.cache.max_age_s)
    if http.matches(request):
        return http.not_modified()
    if fmt == "json":
        return http.response(_catalog(snapshot).model_dump_json().encode(), "application/json")
    if fmt == "npy":
        return http.response(npy_bytes(p.centroids), "application/octet-stream", "primitive_centroids.npy")
    sheet = _sheets.get(p.hash)
    if sheet is None:
        layout = sprite_layout(p.cell_size)
        sheet = await run_in_threadpool(
            primitive_sheet, p.centroids, p.cell_size, layout.columns, layout.cell_px // p.cell_size, SPRITE_GAP
        )
        _sheets.put(p.hash, sheet)
    return http.response(sheet, "image/png", "primitives.png")
