"""`glyph-train ablate`: pipeline variants side by side (docs/ablations.md)."""
