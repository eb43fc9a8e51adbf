"""`/healthz` (versions and the state of every input) and `/metrics` (Prometheus)."""

from __future__ import annotations

import platform
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from glyph_core.api_models import Health

from rasterd import __version__
from rasterd.app.dependencies import get_snapshot
from rasterd.app.readers.snapshot import Snapshot

router = APIRouter(tags=["health"])


@cache
def versions() -> dict[str, str]:
    out = {"rasterd": __version__, "python": platform.python_version()}
    for package in ("glyph-core", "fastapi", "starlette", "uvicorn", "pydantic", "numpy", "zarr"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


@router.get(
    "/healthz",
    response_model=Health,
    summary="Versions and the state of the database, stores and centroids",
    responses={503: {"model": Health, "description": "Neither a glyph database nor a rasters store is available."}},
)
async def healthz(snapshot: Annotated[Snapshot, Depends(get_snapshot)]) -> Response:
    s = snapshot.statuses
    if s["database"].status != "ok" and s["rasters_store"].status != "ok":
        status = "unavailable"
    elif all(c.status == "ok" or (name == "bundle" and c.status in ("off", "missing")) for name, c in s.items()):
        status = "ok"
    else:
        status = "degraded"
    health = Health(
        status=status, versions=versions(), database=s["database"], rasters_store=s["rasters_store"],
        centroids=s["centroids"], grids_store=s["grids_store"], bundle=s.get("bundle"),
    )  # fmt: skip
    return Response(health.model_dump_json(), status_code=503 if status == "unavailable" else 200, media_type="application/json")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format."}},
)
async def metrics(request: Request) -> Response:
    body, content_type = request.app.state.metrics.exposition()
    return Response(body, media_type=content_type)
