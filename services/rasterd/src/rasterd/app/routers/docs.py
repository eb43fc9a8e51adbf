"""`/docs` and `/redoc` with their JavaScript and CSS served by rasterd itself.

FastAPI's default pages load Swagger UI and ReDoc from a CDN and are blank offline (and on the
closed networks rasterd often runs in); the assets come from the installed ``fastapi-offline``
package instead.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

router = APIRouter(include_in_schema=False)


def _prefix(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    prefix = _prefix(request)
    return get_swagger_ui_html(
        openapi_url=prefix + request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url=prefix + OAUTH2_REDIRECT_URL,
        swagger_js_url=f"{prefix}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{prefix}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{prefix}{ASSETS_URL}/favicon.png",
    )


@router.get(OAUTH2_REDIRECT_URL, response_class=HTMLResponse)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    prefix = _prefix(request)
    return get_redoc_html(
        openapi_url=prefix + request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{prefix}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{prefix}{ASSETS_URL}/favicon.png",
        with_google_fonts=False,
    )
