"""The one-stage baseline (PLAN §8.3): MobileNetV3Small on the 128x128 raster, straight to glyph labels."""
