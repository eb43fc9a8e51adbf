"""The one-stage baseline (docs/evaluation.md): a CNN (Phase 2's on CPU, MobileNetV3Small on GPU) on the 128x128 raster, straight to glyph labels."""
