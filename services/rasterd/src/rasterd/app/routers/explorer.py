"""`GET /`: the glyph explorer, a static page (no build step) that uses the JSON and image routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["explorer"])


@router.get("/", include_in_schema=False)
async def explorer() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")
