"""Glyphgrid's training client: the primitive vocabulary and the Phase 1 cell classifier, fed from zarr stores."""

__version__ = "0.1.0"
