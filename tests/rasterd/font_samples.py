"""Real glyph outlines for tests and benchmarks: Arabic letters of the fonts installed under
/usr/share/fonts, drawn through fontTools into contour JSON (docs/data.md)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from glyph_core.contours import ContourJsonPen

FONT_ROOT = Path("/usr/share/fonts")
# Independent designs first, so that a small sample already covers several of them.
PREFERRED_FONTS = (
    "Amiri-Regular.ttf",
    "KacstOne.ttf",
    "NotoSansArabic-Regular.ttf",
    "NotoNaskhArabic-Regular.ttf",
    "Scheherazade-Regular.ttf",
    "Lateef-Regular.ttf",
    "Harmattan-Regular.ttf",
    "NotoKufiArabic-Regular.ttf",
    "DejaVuSans.ttf",
    "FreeFarsi.ttf",
    "Lemonada-Regular.otf",
    "AwamiNastaliq-Regular.ttf",
    "NotoNastaliqUrdu-Regular.ttf",
    "ae_AlArabiya.ttf",
    "Thabit.ttf",
    "KacstBook.ttf",
    "Alkalami-Regular.ttf",
    "PakType Naskh Basic.ttf",
)
ARABIC_BLOCK = range(0x0600, 0x0700)
# Letters whose isolated forms have counters (holes): meem, heh, sad, dad, tah, zah, waw, feh,
# qaf, ain (open in most fonts), teh marbuta, heh goal, ae.
LETTERS_WITH_COUNTERS = (0x0645, 0x0647, 0x0635, 0x0636, 0x0637, 0x0638, 0x0648, 0x0641, 0x0642, 0x0629, 0x06C1, 0x06D5)


@dataclass(frozen=True)
class GlyphSample:
    font: str
    codepoint: int
    glyph_name: str
    contours: str  # contour JSON text
    em_height: float  # typo ascender - typo descender (hhea as fallback), font units
    units_per_em: int


@functools.cache
def available_fonts() -> tuple[Path, ...]:
    """The preferred fonts that are installed, in preference order."""
    found = {path.name: path for path in FONT_ROOT.rglob("*") if path.suffix.lower() in (".ttf", ".otf")}
    return tuple(found[name] for name in PREFERRED_FONTS if name in found)


def em_height(font: TTFont) -> float:
    os2 = font.get("OS/2")
    if os2 is not None and os2.sTypoAscender - os2.sTypoDescender > 0:
        return float(os2.sTypoAscender - os2.sTypoDescender)
    hhea = font["hhea"]
    return float(hhea.ascent - hhea.descent)


@functools.cache
def font_samples(path: Path, codepoints: tuple[int, ...] = tuple(ARABIC_BLOCK)) -> tuple[GlyphSample, ...]:
    """One sample per code point the font maps to a glyph with at least one contour."""
    font = TTFont(str(path), lazy=True)
    glyph_set = font.getGlyphSet()
    cmap = font.getBestCmap() or {}
    em = em_height(font)
    upem = int(font["head"].unitsPerEm)
    samples = []
    for codepoint in codepoints:
        name = cmap.get(codepoint)
        if name is None:
            continue
        recording = DecomposingRecordingPen(glyph_set)
        glyph_set[name].draw(recording)
        pen = ContourJsonPen()
        recording.replay(pen)
        if pen.subpaths:
            samples.append(GlyphSample(path.name, codepoint, name, pen.to_json(), em, upem))
    return tuple(samples)


def sample_glyphs(fonts: int = 5, per_font: int | None = None) -> list[GlyphSample]:
    """Glyph samples from the first ``fonts`` available fonts (at most ``per_font`` from each)."""
    samples: list[GlyphSample] = []
    for path in available_fonts()[:fonts]:
        samples.extend(font_samples(path)[:per_font])
    return samples
