"""Unicode joining data (ArabicShaping.txt) and HarfBuzz shaping of letters in each positional form.

A letter's positional forms are what HarfBuzz makes of it between zero-width joiners: ``X`` (isol),
``X ZWJ`` (init), ``ZWJ X ZWJ`` (medi), ``ZWJ X`` (final). The joiners are dropped from the output
with the remove-default-ignorables flag, so the run holds only the letter's own glyphs.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb

from glyph_core.label_names import Form

ZWJ = "\u200d"

_CONTEXTS: dict[Form, tuple[str, str]] = {
    "isol": ("", ""),
    "init": ("", ZWJ),
    "medi": (ZWJ, ZWJ),
    "final": (ZWJ, ""),
}

_FORMS_BY_JOINING_TYPE: dict[str, tuple[Form, ...]] = {
    "D": ("isol", "init", "medi", "final"),  # dual joining
    "C": ("isol", "init", "medi", "final"),  # join causing (tatweel)
    "R": ("isol", "final"),  # joins to the preceding letter only
    "L": ("isol", "init"),  # joins to the following letter only
}


@dataclass(frozen=True)
class Joining:
    """Joining type (U, D, R, L, C, T) and joining group (None for No_Joining_Group) of a code point."""

    type: str
    group: str | None


class JoiningTable:
    """ArabicShaping.txt: code points it lists, with the Unicode defaults for the rest."""

    def __init__(self, entries: dict[int, Joining]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, path: str | Path) -> JoiningTable:
        """Parse ``code point; name; joining type; joining group`` lines; comments and blanks are skipped."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FileNotFoundError(
                f"{path}: cannot read the Unicode joining data ({exc.strerror}); "
                "install Debian's unicode-data package or set arabic_shaping in the ingest config"
            ) from None
        entries: dict[int, Joining] = {}
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = [field.strip() for field in line.split(";")]
            if len(fields) != 4:
                raise ValueError(f"{path}:{number}: expected 4 fields separated by ';', got {len(fields)}")
            group = fields[3].replace(" ", "_")
            entries[int(fields[0], 16)] = Joining(fields[2], None if group == "No_Joining_Group" else group)
        if not entries:
            raise ValueError(f"{path}: no joining data found")
        return cls(entries)

    def joining(self, codepoint: int) -> Joining:
        """Listed values, or the defaults: transparent for marks and format characters, else non-joining."""
        found = self._entries.get(codepoint)
        if found is not None:
            return found
        category = unicodedata.category(chr(codepoint))
        return Joining("T" if category in ("Mn", "Me", "Cf") else "U", None)

    def forms(self, codepoint: int) -> tuple[Form, ...]:
        """Positional forms a letter can take: isol always, the others as its joining type allows."""
        return _FORMS_BY_JOINING_TYPE.get(self.joining(codepoint).type, ("isol",))


@dataclass(frozen=True)
class PlacedGlyph:
    """One glyph of a shaped run, at its position relative to the start of the run (font units)."""

    glyph_id: int
    x: int
    y: int


@dataclass(frozen=True)
class ShapedRun:
    """What HarfBuzz made of a text: glyphs in visual order at their positions, and the total advance."""

    glyphs: tuple[PlacedGlyph, ...]
    advance: int

    @property
    def has_missing_glyph(self) -> bool:
        return any(glyph.glyph_id == 0 for glyph in self.glyphs)


def context_text(text: str, form: Form) -> str:
    """``text`` between the joiners that put it in ``form``."""
    before, after = _CONTEXTS[form]
    return f"{before}{text}{after}"


class Shaper:
    """HarfBuzz over one font face (TrueType/OpenType bytes: WOFF must be decompressed first)."""

    def __init__(self, font_bytes: bytes, face_index: int = 0) -> None:
        self._font = hb.Font(hb.Face(hb.Blob(font_bytes), face_index))

    def shape(self, text: str, form: Form = "isol") -> ShapedRun:
        """Shape ``text`` right-to-left as Arabic in the context of ``form``, joiners removed."""
        buffer = hb.Buffer()
        buffer.add_str(context_text(text, form))
        buffer.direction = "rtl"
        buffer.script = "Arab"
        buffer.flags = hb.BufferFlags.REMOVE_DEFAULT_IGNORABLES
        hb.shape(self._font, buffer)
        glyphs = []
        pen_x = pen_y = 0
        for info, position in zip(buffer.glyph_infos, buffer.glyph_positions):
            glyphs.append(PlacedGlyph(info.codepoint, pen_x + position.x_offset, pen_y + position.y_offset))
            pen_x += position.x_advance
            pen_y += position.y_advance
        return ShapedRun(tuple(glyphs), pen_x)
