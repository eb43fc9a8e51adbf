"""Typed httpx clients of the rasterd HTTP API, sync (:class:`GlyphgridClient`) and async
(:class:`AsyncGlyphgridClient`), shared by glyph-train, the tests and users' scripts.

    with GlyphgridClient("http://127.0.0.1:8000") as api:
        for glyph in api.iter_glyphs(label="beh_isol"):
            mask = api.raster(glyph.glyph_id)          # uint8 (128, 128), ink = 255
            ids = api.grid(glyph.glyph_id)             # uint16 (16, 16) primitive ids

Every call is described once (:class:`Call`: method, path, parameters, how to decode the answer);
the two clients only differ in how they send it. An error answer raises :class:`GlyphgridError`
with the service's status, code and message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, TypeVar

import httpx
import numpy as np
from pydantic import ValidationError

from glyph_core.api_call import Call, decode_bytes, decode_model, decode_npy
from glyph_core.api_models import (
    ErrorResponse,
    FontList,
    FontMetricsIn,
    GlyphMetadata,
    GlyphPage,
    GlyphSummary,
    GridJson,
    Health,
    LabelList,
    PrimitiveCatalog,
    RasterizeRequest,
    RasterizeResponse,
    RasterJson,
)
from glyph_core.client_recognition import AsyncRecognitionMethods, RecognitionMethods

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8000"


class GlyphgridError(RuntimeError):
    """An error answer of the service: HTTP ``status``, stable ``code`` and the service's ``detail``."""

    def __init__(self, status: int, code: str, detail: str, errors: list[Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail, self.errors = status, code, detail, errors


def _check(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        error = ErrorResponse.model_validate_json(response.content)
        raise GlyphgridError(response.status_code, error.code, error.detail, error.errors)
    except ValidationError:
        raise GlyphgridError(response.status_code, f"http_{response.status_code}", response.text[:500]) from None


def _glyph_filters(**filters: Any) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v is not None}


class Calls:
    """Every call of the API, without I/O (the clients below send them)."""

    @staticmethod
    def health() -> Call[Health]:
        return Call("GET", "/healthz", decode_model(Health))

    @staticmethod
    def list_glyphs(**filters: Any) -> Call[GlyphPage]:
        return Call("GET", "/v1/glyphs", decode_model(GlyphPage), _glyph_filters(**filters))

    @staticmethod
    def glyph(glyph_id: int) -> Call[GlyphMetadata]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}", decode_model(GlyphMetadata))

    @staticmethod
    def raster(glyph_id: int) -> Call[np.ndarray]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/raster.npy", decode_npy)

    @staticmethod
    def raster_json(glyph_id: int) -> Call[RasterJson]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/raster.json", decode_model(RasterJson))

    @staticmethod
    def raster_png(glyph_id: int) -> Call[bytes]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/raster.png", decode_bytes)

    @staticmethod
    def grid(glyph_id: int) -> Call[np.ndarray]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/grid.npy", decode_npy)

    @staticmethod
    def grid_json(glyph_id: int) -> Call[GridJson]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/grid.json", decode_model(GridJson))

    @staticmethod
    def grid_png(glyph_id: int) -> Call[bytes]:
        return Call("GET", f"/v1/glyphs/{int(glyph_id)}/grid.png", decode_bytes)

    @staticmethod
    def labels() -> Call[LabelList]:
        return Call("GET", "/v1/labels", decode_model(LabelList))

    @staticmethod
    def fonts() -> Call[FontList]:
        return Call("GET", "/v1/fonts", decode_model(FontList))

    @staticmethod
    def primitives() -> Call[PrimitiveCatalog]:
        return Call("GET", "/v1/primitives", decode_model(PrimitiveCatalog))

    @staticmethod
    def primitive_centroids() -> Call[np.ndarray]:
        return Call("GET", "/v1/primitives.npy", decode_npy)

    @staticmethod
    def primitives_png() -> Call[bytes]:
        return Call("GET", "/v1/primitives.png", decode_bytes)

    @staticmethod
    def rasterize(contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None) -> Call[RasterizeResponse]:
        metrics = FontMetricsIn.model_validate(font) if font is not None else None
        body = RasterizeRequest(contours=contours, font=metrics).model_dump(mode="json", exclude_none=True)
        return Call("POST", "/v1/rasterize", decode_model(RasterizeResponse), json=body)


class GlyphgridClient(RecognitionMethods):
    """Synchronous client; pass ``transport`` (e.g. ``httpx.MockTransport``) or ``http`` to customise."""

    def __init__(self, base_url: str = DEFAULT_URL, *, timeout: float = 30.0, http: httpx.Client | None = None, **client_options: Any) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout, **client_options)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GlyphgridClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, call: Call[T]) -> T:
        response = self.http.request(call.method, call.path, params=call.params, json=call.json)
        return call.decode(_check(response))

    def health(self) -> Health:
        return self.send(Calls.health())

    def list_glyphs(
        self, *, label: str | None = None, font: str | None = None, char_class: str | None = None,
        split: str | None = None, limit: int | None = None, cursor: str | None = None,
    ) -> GlyphPage:  # fmt: skip
        return self.send(Calls.list_glyphs(label=label, font=font, char_class=char_class, split=split, limit=limit, cursor=cursor))

    def iter_glyphs(
        self, *, label: str | None = None, font: str | None = None, char_class: str | None = None,
        split: str | None = None, limit: int | None = None,
    ) -> Iterator[GlyphSummary]:  # fmt: skip
        """Every matching glyph, following the cursor page after page."""
        cursor = None
        while True:
            page = self.list_glyphs(label=label, font=font, char_class=char_class, split=split, limit=limit, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def glyph(self, glyph_id: int) -> GlyphMetadata:
        return self.send(Calls.glyph(glyph_id))

    def raster(self, glyph_id: int) -> np.ndarray:
        """uint8 (S, S) mask, ink = 255."""
        return self.send(Calls.raster(glyph_id))

    def raster_json(self, glyph_id: int) -> RasterJson:
        return self.send(Calls.raster_json(glyph_id))

    def raster_png(self, glyph_id: int) -> bytes:
        return self.send(Calls.raster_png(glyph_id))

    def grid(self, glyph_id: int) -> np.ndarray:
        """uint16 (G, G) primitive ids (0 = empty cell)."""
        return self.send(Calls.grid(glyph_id))

    def grid_json(self, glyph_id: int) -> GridJson:
        return self.send(Calls.grid_json(glyph_id))

    def grid_png(self, glyph_id: int) -> bytes:
        return self.send(Calls.grid_png(glyph_id))

    def labels(self) -> LabelList:
        return self.send(Calls.labels())

    def fonts(self) -> FontList:
        return self.send(Calls.fonts())

    def primitives(self) -> PrimitiveCatalog:
        return self.send(Calls.primitives())

    def primitive_centroids(self) -> np.ndarray:
        return self.send(Calls.primitive_centroids())

    def primitives_png(self) -> bytes:
        return self.send(Calls.primitives_png())

    def rasterize(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None) -> RasterizeResponse:
        return self.send(Calls.rasterize(contours, font))


class AsyncGlyphgridClient(AsyncRecognitionMethods):
    """Asynchronous client with the same methods as :class:`GlyphgridClient`, awaited."""

    def __init__(
        self, base_url: str = DEFAULT_URL, *, timeout: float = 30.0, http: httpx.AsyncClient | None = None, **client_options: Any
    ) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=timeout, **client_options)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncGlyphgridClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send(self, call: Call[T]) -> T:
        response = await self.http.request(call.method, call.path, params=call.params, json=call.json)
        return call.decode(_check(response))

    async def health(self) -> Health:
        return await self.send(Calls.health())

    async def list_glyphs(
        self, *, label: str | None = None, font: str | None = None, char_class: str | None = None,
        split: str | None = None, limit: int | None = None, cursor: str | None = None,
    ) -> GlyphPage:  # fmt: skip
        return await self.send(Calls.list_glyphs(label=label, font=font, char_class=char_class, split=split, limit=limit, cursor=cursor))

    async def iter_glyphs(
        self, *, label: str | None = None, font: str | None = None, char_class: str | None = None,
        split: str | None = None, limit: int | None = None,
    ) -> AsyncIterator[GlyphSummary]:  # fmt: skip
        cursor = None
        while True:
            page = await self.list_glyphs(label=label, font=font, char_class=char_class, split=split, limit=limit, cursor=cursor)
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def glyph(self, glyph_id: int) -> GlyphMetadata:
        return await self.send(Calls.glyph(glyph_id))

    async def raster(self, glyph_id: int) -> np.ndarray:
        return await self.send(Calls.raster(glyph_id))

    async def raster_json(self, glyph_id: int) -> RasterJson:
        return await self.send(Calls.raster_json(glyph_id))

    async def raster_png(self, glyph_id: int) -> bytes:
        return await self.send(Calls.raster_png(glyph_id))

    async def grid(self, glyph_id: int) -> np.ndarray:
        return await self.send(Calls.grid(glyph_id))

    async def grid_json(self, glyph_id: int) -> GridJson:
        return await self.send(Calls.grid_json(glyph_id))

    async def grid_png(self, glyph_id: int) -> bytes:
        return await self.send(Calls.grid_png(glyph_id))

    async def labels(self) -> LabelList:
        return await self.send(Calls.labels())

    async def fonts(self) -> FontList:
        return await self.send(Calls.fonts())

    async def primitives(self) -> PrimitiveCatalog:
        return await self.send(Calls.primitives())

    async def primitive_centroids(self) -> np.ndarray:
        return await self.send(Calls.primitive_centroids())

    async def primitives_png(self) -> bytes:
        return await self.send(Calls.primitives_png())

    async def rasterize(self, contours: list[Any] | str, font: FontMetricsIn | Mapping[str, Any] | None = None) -> RasterizeResponse:
        return await self.send(Calls.rasterize(contours, font))
