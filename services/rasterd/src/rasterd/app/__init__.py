"""rasterd's HTTP service (`rasterd serve`): FastAPI app factory, routers per resource, readers for
the database and stores, pure encoders, metrics and the glyph explorer page."""

from rasterd.app.main import create_app

__all__ = ["create_app"]
