"""rasterd: Glyphgrid's dataset service (ingest fonts, build raster stores, tokenize, serve)."""

__version__ = "0.1.0"
