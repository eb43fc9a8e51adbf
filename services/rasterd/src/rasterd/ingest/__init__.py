"""Font files -> a new glyphs.db (docs/data.md): discover, shape, draw, label, write.

What a font contributes (one row per label; labels from ``glyph_core.label_names``):

- letters of the configured Unicode blocks in every positional form their joining type allows,
  shaped by HarfBuzz; a contextual form drawn exactly like the isolated one is left out;
- marks, digits, punctuation and symbols as their cmap glyph;
- the ``ligature_pairs`` in isolated and final context, and the Allah ligature (``include_allah``);
- basic Latin letters and digits only with ``include_latin``.

A shaped run of several glyphs is composed into one outline when ``compose_runs`` is on and left
out otherwise. Outlines with no contour (spaces, joiners) are left out. ``width`` is the run's
advance, ``lsb``/``rsb`` come from the exact outline bounds, ``joining_group`` is Unicode's (NULL for
non-letters and ligatures), and ``alt_label`` lists the other labels the font draws with identical
contours. Font metrics are stored as the font states them (Lemonada's typo descender is positive).
"""

from rasterd.ingest.run import IngestSummary, run_ingest

__all__ = ["IngestSummary", "run_ingest"]
