"""One router per resource: health, glyphs, rasterize, catalog (labels, fonts, primitives), explorer."""
