"""What routes are given: the readers and settings, parameters as small classes, the paging cursor,
and HTTP caching (strong ETags, Cache-Control, 304 on If-None-Match)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import Response
from glyph_core.api_models import CharClass, SplitName

from rasterd.app.errors import BadCursor
from rasterd.app.readers.snapshot import Snapshot
from rasterd.app.settings import RasterdSettings

# Part of every ETag: bumped whenever an encoder's output bytes change for the same data.
ENCODING_VERSION = "e2"


# Dependencies are coroutines: FastAPI would run plain functions in the thread pool (a thread hop each).
async def get_settings(request: Request) -> RasterdSettings:
    return request.app.state.settings


async def get_snapshot(request: Request) -> Snapshot:
    """The readers' current snapshot, taken once per request so one answer never mixes two builds."""
    return request.app.state.readers.snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
SettingsDep = Annotated[RasterdSettings, Depends(get_settings)]
GlyphId = Annotated[int, Path(ge=0, le=2**63 - 1, description="A glyph id of glyphs.db.", examples=[1])]


@dataclass(frozen=True)
class GlyphFilters:
    """Filters of the glyph listing; every given one must match."""

    label: str | None
    font: str | None
    char_class: CharClass | None
    split: SplitName | None

    def fingerprint(self) -> str:
        text = json.dumps([self.label, self.font, self.char_class, self.split])
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


async def glyph_filters(
    label: Annotated[str | None, Query(max_length=200, description="Exact label, e.g. beh_isol.", examples=["beh_isol"])] = None,
    font: Annotated[
        str | None, Query(max_length=200, description="A font's file hash, or a family name (every style of it, case-insensitive).")
    ] = None,
    char_class: Annotated[CharClass | None, Query(description="Character class.")] = None,
    split: Annotated[SplitName | None, Query(description="Split of the glyph's font (design group).")] = None,
) -> GlyphFilters:
    return GlyphFilters(label, font, char_class, split)


def encode_cursor(after: int, filters: GlyphFilters) -> str:
    payload = json.dumps({"a": after, "q": filters.fingerprint()}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, filters: GlyphFilters) -> int:
    """The last glyph id of the previous page; BadCursor if the cursor is not ours or not for these filters."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, query = payload["a"], payload["q"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise BadCursor("cursor is not one this service issued: pass the next_cursor of a previous page") from None
    if not isinstance(after, int) or isinstance(after, bool) or query != filters.fingerprint():
        raise BadCursor("cursor belongs to another query: keep the filters of the page that gave it")
    return after


@dataclass(frozen=True)
class HttpCache:
    """Caching headers of one resource: a strong ETag and Cache-Control."""

    etag: str
    max_age: int

    @property
    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Cache-Control": f"public, max-age={self.max_age}"}

    def matches(self, request: Request) -> bool:
        """True when If-None-Match names this ETag (weak comparison, as RFC 9110 asks for it)."""
        header = request.headers.get("if-none-match")
        if not header:
            return False
        tags = [t.strip() for t in header.split(",")]
        return "*" in tags or any((t[2:] if t.startswith("W/") else t) == self.etag for t in tags)

    def not_modified(self) -> Response:
        return Response(status_code=304, headers=self.headers)

    def response(self, body: bytes, media_type: str, filename: str | None = None) -> Response:
        headers = self.headers
        if filename:
            headers = {**headers, "Content-Disposition": f'inline; filename="{filename}"'}
        return Response(body, media_type=media_type, headers=headers)


@dataclass(frozen=True)
class GlyphRequest:
    """One glyph's request: its catalog row in the snapshot taken for this request (404 when unknown),
    and HTTP caching for each of its resources."""

    glyph_id: int
    row: int
    snapshot: Snapshot
    request: Request
    max_age: int

    def http_cache(self, resource: str) -> HttpCache:
        """Rasters and metadata never change within a store build, so the build id, the glyph and the
        resource name (format included) make a strong ETag."""
        tag = (self.snapshot.content_tag or "none")[:16]
        return HttpCache(f'"{tag}-{self.glyph_id}-{resource}-{ENCODING_VERSION}"', self.max_age)


async def glyph_request(glyph_id: GlyphId, request: Request) -> GlyphRequest:
    snapshot: Snapshot = request.app.state.readers.snapshot
    return GlyphRequest(glyph_id, snapshot.row(glyph_id), snapshot, request, request.app.state.settings.cache.max_age_s)
