"""The one-stage baseline (docs/evaluation.md): MobileNetV3Small on the 128x128 raster, straight to glyph labels."""
