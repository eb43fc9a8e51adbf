"""Font files: their faces, the bytes HarfBuzz reads, and each face's ``fonts`` row (metrics, names)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from glyph_core.db import checked_descender


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: ``file_hash`` is the file's sha256, plus ``#<index>`` inside a collection."""

    path: Path
    index: int
    file_hash: str
    font: TTFont
    harfbuzz_bytes: bytes
    in_collection: bool = False

    @property
    def ident(self) -> str:
        """How the audit log names the face: its path, plus ``#<index>`` inside a collection."""
        return f"{self.path}#{self.index}" if self.in_collection else str(self.path)


@dataclass(frozen=True)
class FontRecord:
    """A ``fonts`` row (docs/data.md plus family_name, style, weight)."""

    file_hash: str
    upem: int
    ascent: int | None
    descent: int | None
    typo_ascent: int | None
    typo_descent: int | None
    x_height: int
    cap_height: int
    line_gap: int | None
    family_name: str | None
    style: str | None
    weight: int | None


def _is_collection(data: bytes) -> bool:
    return data[:4] == b"ttcf"


def open_faces(path: Path) -> Iterator[FontFace]:
    """Every face of a ttf/otf/ttc/woff/woff2 file (lazily loaded); fontTools errors propagate."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if _is_collection(data):
        collection = TTCollection(io.BytesIO(data), lazy=True)
        for index, font in enumerate(collection.fonts):
            yield FontFace(path, index, f"{digest}#{index}", font, data, in_collection=True)
        return
    font = TTFont(io.BytesIO(data), lazy=True)
    yield FontFace(path, 0, digest, font, _uncompressed(font, data))


def _uncompressed(font: TTFont, data: bytes) -> bytes:
    """HarfBuzz cannot read WOFF/WOFF2: re-save those as plain sfnt bytes."""
    if font.flavor is None:
        return data
    plain = TTFont(io.BytesIO(data))
    plain.flavor = None
    out = io.BytesIO()
    plain.save(out)
    return out.getvalue()


def _name(font: TTFont, *name_ids: int) -> str | None:
    if "name" not in font:
        return None
    for name_id in name_ids:
        value = font["name"].getDebugName(name_id)
        if value:
            return value.strip()
    return None


def font_record(face: FontFace) -> tuple[FontRecord, list[str]]:
    """Metrics and names of a face, and a note per metric corrected on the way.

    Optional tables that are missing leave their columns empty (or 0). A positive OS/2 typo
    descender is a sign error when the hhea descent or the glyphs' lowest point lie below the
    baseline (Lemonada stores +653 beside an hhea descent of -653): the row gets it negated.
    """
    font = face.font
    head = font["head"]
    hhea = font["hhea"] if "hhea" in font else None
    os2 = font["OS/2"] if "OS/2" in font else None
    has_heights = os2 is not None and os2.version >= 2
    stated = os2.sTypoDescender if os2 else None
    typo_descent = checked_descender(stated, (hhea.descent if hhea else None, getattr(head, "yMin", None)))
    notes = []
    if typo_descent != stated:
        notes.append(
            f"OS/2 sTypoDescender {stated} is above the baseline while hhea descent "
            f"{hhea.descent if hhea else None} and glyph yMin {getattr(head, 'yMin', None)} are below it: stored as {typo_descent}"
        )
    return FontRecord(
        file_hash=face.file_hash,
        upem=head.unitsPerEm,
        ascent=hhea.ascent if hhea else None,
        descent=hhea.descent if hhea else None,
        typo_ascent=os2.sTypoAscender if os2 else None,
        typo_descent=typo_descent,
        x_height=os2.sxHeight if has_heights else 0,
        cap_height=os2.sCapHeight if has_heights else 0,
        line_gap=hhea.lineGap if hhea else None,
        family_name=_name(font, 16, 1),
        style=_name(font, 17, 2),
        weight=os2.usWeightClass if os2 else None,
    ), notes
