"""Errors of the HTTP service: one table from exception class to (status, code), one JSON shape
(``glyph_core.api_models.ErrorResponse``) for every error, including FastAPI's own 404/405/422.

A request a user can get wrong answers 4xx with a message naming what was wrong; nothing a client
sends reaches the 500 handler.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from glyph_core.api_models import ErrorResponse, FieldError
from glyph_core.contours import ContourError
from glyph_core.db import DatabaseError
from glyph_core.store import StoreError
from starlette.exceptions import HTTPException

from rasterd.raster import RasterError

log = logging.getLogger("rasterd.app")


class ServiceError(Exception):
    """Base of the service's own errors; the table below gives each its status and code."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadCursor(ServiceError):
    """A `cursor` that this service did not issue, or issued for other filters."""


class GlyphNotFound(ServiceError):
    pass


class CentroidsMissing(ServiceError):
    """Grids need primitive centroids, and there are none (or they do not fit the rasters)."""


class BundleUnavailable(ServiceError):
    """Recognition needs a model bundle that matches the served store, and there is none."""


class BatchTooLarge(ServiceError):
    """More glyphs in one classify request than `recognition.max_batch`."""


class GlyphNotRasterizable(ServiceError):
    """A database row whose contours the rasterizer rejects (the build's audit log lists it)."""


class OutlineTooLarge(ServiceError):
    """More points or subpaths than `limits` allows."""


class NothingToServe(ServiceError):
    """Neither a glyph database nor a rasters store is available."""


class PayloadTooLarge(HTTPException):
    """A request body over `limits.max_body_bytes` (an HTTPException so FastAPI's body reader lets it through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes (limits.max_body_bytes)")


ERROR_TABLE: dict[type[Exception], tuple[int, str]] = {
    BadCursor: (400, "bad_cursor"),
    GlyphNotFound: (404, "glyph_not_found"),
    CentroidsMissing: (409, "centroids_missing"),
    BundleUnavailable: (409, "bundle_unavailable"),
    BatchTooLarge: (413, "batch_too_large"),
    PayloadTooLarge: (413, "payload_too_large"),
    RequestValidationError: (422, "validation_error"),
    ContourError: (422, "invalid_contours"),
    RasterError: (422, "invalid_outline"),
    OutlineTooLarge: (422, "outline_too_large"),
    GlyphNotRasterizable: (422, "glyph_not_rasterizable"),
    NothingToServe: (503, "nothing_to_serve"),
    StoreError: (503, "store_unavailable"),
    DatabaseError: (503, "database_unavailable"),
}
# Starlette's own HTTP errors (unknown route, wrong method, ...) keep their status; code by status.
HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large"}


# Declared on every router: the one error shape replaces FastAPI's default 422 schema in OpenAPI.
VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorResponse, "description": "A parameter or the body is malformed; `detail` names the field."}
}


def error_response(status: int, code: str, detail: str, errors: list[FieldError] | None = None, headers: dict[str, str] | None = None) -> Response:
    body = ErrorResponse(detail=detail, code=code, errors=errors).model_dump_json(exclude_none=True)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _location(loc: tuple[str | int, ...] | list[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_response(exc: RequestValidationError) -> Response:
    errors = [FieldError(loc=list(e.get("loc", ())), msg=str(e.get("msg", "")), type=str(e.get("type", ""))) for e in exc.errors()]
    detail = "; ".join(f"{_location(e.loc)}: {e.msg}" for e in errors) or "invalid request"
    return error_response(422, "validation_error", detail, errors)


def status_and_code(exc: Exception) -> tuple[int, str] | None:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            return ERROR_TABLE[cls]
    return None


async def handle_error(request: Request, exc: Exception) -> Response:
    """Every exception the app raises ends here (registered for Exception and HTTPException)."""
    if isinstance(exc, RequestValidationError):
        return _validation_response(exc)
    mapped = status_and_code(exc)
    if mapped is not None:
        detail = getattr(exc, "detail", None) or str(exc)
        return error_response(mapped[0], mapped[1], str(detail))
    if isinstance(exc, HTTPException):
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error (the service log has the traceback)")


def install_error_handlers(app: FastAPI) -> None:
    for exc_class in (*ERROR_TABLE, HTTPException, Exception):
        app.add_exception_handler(exc_class, handle_error)
