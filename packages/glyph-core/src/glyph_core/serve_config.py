"""`rasterd serve`'s config (configs/rasterd.yaml): where it listens, request limits, caches and the
model bundle it classifies with."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from glyph_core.config import StrictModel


class RecognitionConfig(StrictModel):
    """The model bundle `rasterd serve` classifies with (docs/export.md, docs/serve.md). Without one
    (no folder there) the service runs as before and the recognition routes answer 409."""

    bundle: str | None = Field(
        "end_to_end",
        description="A bundle name under the served outputs root's export/ folder (what `glyph-train export` writes), "
        "or a folder path; null turns recognition off. A bundle made from another store build, label map or "
        "centroids than the served ones is refused, with what differs.",
    )
    precision: Literal["float32", "int8"] = Field("float32", description="Which of the bundle's LiteRT models to run.")
    threads: int = Field(2, ge=1, le=64, description="LiteRT interpreter threads per worker process.")
    max_batch: int = Field(64, ge=1, le=4096, description="Most glyphs one `POST /v1/classify` may hold (413 above it).")
    default_top_k: int = Field(5, ge=1, le=100, description="Labels per answer when the request does not say.")
    max_k: int = Field(100, ge=1, le=1000, description="Largest top_k, similar-glyph k and review page accepted.")
    index: bool = Field(True, description="Load the bundle's retrieval index (similar glyphs, the review queue).")


class ServerConfig(StrictModel):
    """Where and how uvicorn listens (`rasterd serve`)."""

    host: str = Field("127.0.0.1", description="Bind address; 0.0.0.0 inside a container.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0 picks a free one).")
    workers: int = Field(1, ge=1, description="Worker processes; one is right on two cores (DESIGN).")
    http: Literal["httptools", "h11"] = Field(
        "httptools", description="HTTP parser; httptools avoids the ~44 ms delayed-ACK stall of multi-worker h11."
    )
    loop: Literal["uvloop", "asyncio"] = "uvloop"
    backlog: int = Field(2048, ge=1, description="Pending connections the listening socket queues.")
    keep_alive_timeout_s: int = Field(5, ge=1, description="Idle keep-alive connections close after this.")
    graceful_shutdown_timeout_s: int = Field(
        10, ge=1, description="On SIGTERM, in-flight requests get this long to finish."
    )
    access_log: bool = False
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    root_path: str = Field("", description="URL prefix when served behind a proxy under a sub-path.")


class RequestLimits(StrictModel):
    """Bounds on what one request may ask for; over them the answer is 413 or 422, never work."""

    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest POST body (413 above it).")
    max_points: int = Field(20_000, ge=16, description="Most outline points `POST /v1/rasterize` accepts (422).")
    max_subpaths: int = Field(1_000, ge=1, description="Most contours `POST /v1/rasterize` accepts (422).")
    default_page_size: int = Field(100, ge=1, description="Glyphs per page of `/v1/glyphs` when limit is not given.")
    max_page_size: int = Field(1_000, ge=1, description="Largest limit `/v1/glyphs` accepts.")


class HttpCacheConfig(StrictModel):
    """Client caching headers and the service's in-memory caches."""

    max_age_s: int = Field(86_400, ge=0, description="Cache-Control max-age of glyph resources (ETags revalidate).")
    store_chunks: int = Field(
        256, ge=1, description="Decoded raster chunks of the store kept in memory (2 MB each at 1024 glyphs; the built-in corpus has 105)."
    )
    rendered_glyphs: int = Field(4096, ge=1, description="Glyphs rasterized on the fly kept in memory.")
    refresh_interval_s: float = Field(
        2.0, gt=0, description="How often the service looks for a rebuilt store, new centroids or splits."
    )


class RasterdConfig(StrictModel):
    """`rasterd serve`: the HTTP service over glyphs.db and the stores `rasterd build`/`tokenize` write."""

    env_prefix: ClassVar[str | None] = "RASTERD_"

    rasterizer_config: str = Field(
        "configs/rasterizer.yaml",
        description="The build's config: database, outputs root and raster policy are read from it, so the "
        "service serves exactly what `rasterd build` writes and renders missing glyphs the same way.",
    )
    server: ServerConfig = ServerConfig()
    limits: RequestLimits = RequestLimits()
    cache: HttpCacheConfig = HttpCacheConfig()
    recognition: RecognitionConfig = RecognitionConfig()
