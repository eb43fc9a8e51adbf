"""Font files -> a new glyphs.db (PLAN §3.1): discover, shape, draw, label, write."""

from rasterd.ingest.run import IngestSummary, run_ingest

__all__ = ["IngestSummary", "run_ingest"]
