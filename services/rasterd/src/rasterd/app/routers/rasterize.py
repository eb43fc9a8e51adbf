"""`POST /v1/rasterize`: an outline and its font's metrics in; raster, grid and metadata out.
No database needed; the raster policy is the build's, so the answer equals what a build would store."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from glyph_core.api_models import ErrorResponse, GridJson, RasterizeRequest, RasterizeResponse, RasterJson
from glyph_core.config import config_hash
from glyph_core.contours import ContourError, Outline, parse_contours
from glyph_core.db import FontMetrics
from starlette.concurrency import run_in_threadpool

from rasterd.app.dependencies import get_settings, get_snapshot
from rasterd.app.errors import VALIDATION_ERROR, OutlineTooLarge
from rasterd.app.readers.snapshot import Snapshot
from rasterd.app.settings import RasterdSettings

router = APIRouter(prefix="/v1", tags=["rasterize"], responses=VALIDATION_ERROR)


def parse_request_outline(contours: list[Any] | str, max_points: int, max_subpaths: int, parse_limit: int) -> Outline:
    """The request's contours as an outline, within the service's limits (422 otherwise)."""
    if isinstance(contours, str):
        try:
            contours = json.loads(contours)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ContourError(f"contours: not valid JSON ({exc})") from None
    outline = parse_contours(contours, max_points=parse_limit)
    if len(outline.points) > max_points:
        raise OutlineTooLarge(f"contours: outline has {len(outline.points)} points, more than limits.max_points={max_points}")
    if outline.contour_count > max_subpaths:
        raise OutlineTooLarge(f"contours: outline has {outline.contour_count} contours, more than limits.max_subpaths={max_subpaths}")
    return outline


@router.post(
    "/rasterize",
    response_model=RasterizeResponse,
    summary="Rasterize an outline (contour JSON + font metrics)",
    responses={
        400: {"model": ErrorResponse, "description": "The body cannot be read as JSON at all (not UTF-8, nested too deep)."},
        413: {"model": ErrorResponse, "description": "Body larger than limits.max_body_bytes."},
        422: {"model": ErrorResponse, "description": "Malformed body or contours, or over the point/subpath limits."},
    },
)
async def rasterize(
    request: RasterizeRequest,
    snapshot: Annotated[Snapshot, Depends(get_snapshot)],
    settings: Annotated[RasterdSettings, Depends(get_settings)],
) -> Response:
    limits, policy = settings.limits, snapshot.raster_config
    outline = parse_request_outline(request.contours, limits.max_points, limits.max_subpaths, max(policy.max_points, limits.max_points) + 1)
    em_height = FontMetrics(file_hash="", **request.font.model_dump()).em_height if request.font else None
    mask, metadata = await run_in_threadpool(snapshot.rasterize, outline, em_height)
    grid = None
    if snapshot.primitives is not None:
        ids = snapshot.primitives.assigner.assign(mask)[0]
        grid = GridJson(grid_side=ids.shape[0], cell_size=snapshot.primitives.cell_size, centroid_hash=snapshot.primitives.hash, ids=ids.tolist())
    answer = RasterizeResponse(
        raster=RasterJson.from_mask(mask), grid=grid, metadata=metadata, em_height=em_height, raster_config_hash=config_hash(policy)
    )
    return Response(answer.model_dump_json(), media_type="application/json")
