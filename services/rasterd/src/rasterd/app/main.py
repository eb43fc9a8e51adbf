"""The application factory: settings in, a FastAPI app out (readers opened in its lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from rasterd import __version__
from rasterd.app.errors import install_error_handlers
from rasterd.app.metrics import Metrics, MetricsMiddleware
from rasterd.app.middleware import BodyLimitMiddleware
from rasterd.app.readers import Readers
from rasterd.app.routers import catalog, docs, explorer, glyphs, health, rasterize, recognize
from rasterd.app.routers.explorer import STATIC
from rasterd.app.settings import RasterdSettings, settings_from_environment

log = logging.getLogger("rasterd.app")

DESCRIPTION = """Glyph rasters, primitive grids and metadata of the Glyphgrid dataset.

* Rasters are 128x128 binary masks (ink = 1/255), by extension: `.png`, `.npy`, `.json`.
* A glyph in the rasters store is read from it; one only in glyphs.db is rasterized on request with
  the build's raster policy, giving the same bytes `rasterd build` would store.
* Rasters never change within a store build: responses carry a strong `ETag`; send it back in
  `If-None-Match` for a `304`.
* Every error is `{"detail": ..., "code": ...}`.
* With a model bundle (`glyph-train export`), `/v1/classify`, `/v1/similar`, `/v1/review` and a stored
  glyph's `/prediction` and `/similar` recognize glyphs; without one they answer 409.
* `GET /` is a glyph explorer for people.
"""


async def _refresh_loop(readers: Readers, interval: float) -> None:
    """Pick up a rebuilt store, new centroids or splits without a restart."""
    while True:
        await asyncio.sleep(interval)
        try:
            if await run_in_threadpool(readers.refresh):
                gc.freeze()  # the new snapshot, like the first
                log.info("inputs changed: now serving build %s", readers.snapshot.content_tag)
        except Exception:  # a half-written file must not stop the loop; the next round retries
            log.exception("refreshing the readers failed")


def create_app(settings: RasterdSettings | None = None, readers: Readers | None = None) -> FastAPI:
    """The rasterd app. ``readers`` may be injected (tests); otherwise they are opened at startup."""
    settings = settings or RasterdSettings()
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = readers or await run_in_threadpool(Readers.open, settings)
        opened.set_observer(metrics)
        app.state.readers = opened
        # Everything loaded so far lives as long as the process: keep it out of the cyclic collector,
        # whose occasional full passes over it (50-150 ms here) stall every request in flight.
        gc.freeze()
        refresher = asyncio.create_task(_refresh_loop(opened, settings.cache.refresh_interval_s))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            if readers is None:
                opened.close()

    app = FastAPI(
        title="rasterd",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        root_path=settings.server.root_path,
        docs_url=None,  # served by routers/docs.py with local assets, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.limits.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for module in (health, glyphs, rasterize, recognize, catalog, explorer, docs):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(docs.ASSETS_URL, StaticFiles(directory=docs.ASSETS), name="docs-assets")
    return app


def create_app_from_environment() -> FastAPI:
    """The factory uvicorn's worker processes call (`rasterd serve` names the config file)."""
    return create_app(settings_from_environment())
