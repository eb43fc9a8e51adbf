"""One font file -> its ``fonts`` rows and labelled glyph rows (the unit of work of a worker process).

Per face: letters in each positional form their joining type allows (HarfBuzz-shaped), marks, digits
and punctuation straight from the cmap, the configured ligatures and the Allah ligature; then twins.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from fontTools.ttLib import TTFont

from glyph_core.config import IngestConfig
from glyph_core.label_names import (
    ALLAH_LABEL,
    LIGATURE_CLASS,
    Form,
    char_class_for,
    character_kind,
    label_for,
    ligature_label,
)
from glyph_core.labels import format_alt_labels
from rasterd.ingest.fonts import FontFace, FontRecord, font_record, open_faces
from rasterd.ingest.outlines import GlyphOutline, OutlineRecorder
from rasterd.ingest.shaping import JoiningTable, ShapedRun, Shaper

ALLAH_TEXT = "\u0627\u0644\u0644\u0647"  # alef lam lam heh
LIGATURE_FORMS: tuple[Form, ...] = ("isol", "final")
# fontTools warns about harmless oddities of real fonts (old timestamps, padded tables) by the hundred.
logging.getLogger("fontTools").setLevel(logging.ERROR)
LATIN_CODEPOINTS = tuple(range(0x30, 0x3A)) + tuple(range(0x41, 0x5B)) + tuple(range(0x61, 0x7B))


@dataclass(frozen=True)
class GlyphRecord:
    """A ``glyphs`` row before its font and glyph_id are attached."""

    label: str
    contours: str
    joining_group: str | None
    char_class: str
    width: int
    lsb: int
    rsb: int
    alt_label: str | None = None


@dataclass(frozen=True)
class FaceResult:
    """A face that has the required code point, with its rows sorted by label, and a note per font
    metric the ingest corrected (see ``font_record``)."""

    path: str
    index: int
    font: FontRecord
    glyphs: tuple[GlyphRecord, ...]
    corrections: tuple[str, ...] = ()

    def form_counts(self) -> dict[str, int]:
        """Rows per kind: isolated letters, contextual forms, ligatures, marks, other (digits, punctuation)."""
        counts = dict.fromkeys(("isolated", "contextual", "ligatures", "marks", "other"), 0)
        for glyph in self.glyphs:
            counts[_FORM_KIND.get(glyph.char_class, "other")] += 1
        return counts


_FORM_KIND = {
    "isol": "isolated", "init": "contextual", "medi": "contextual", "final": "contextual",
    LIGATURE_CLASS: "ligatures", "diacritic": "marks",
}  # fmt: skip


@dataclass(frozen=True)
class FileResult:
    """Everything a worker learned from one file: usable faces, faces skipped, faces that failed."""

    path: str
    faces: tuple[FaceResult, ...] = ()
    skipped: int = 0
    failures: tuple[tuple[str, str], ...] = ()
    """(face identifier, reason) for each face that could not be read."""


@functools.lru_cache(maxsize=4)
def _joining_table(path: str) -> JoiningTable:
    return JoiningTable.load(path)


def extract_file(path: str, config: IngestConfig) -> FileResult:
    """Read every face of one file; a face that fails is reported, never raised."""
    joining = _joining_table(config.arabic_shaping)
    faces: list[FaceResult] = []
    failures: list[tuple[str, str]] = []
    skipped = 0
    try:
        for face in open_faces(Path(path)):
            try:
                result = extract_face(face, config, joining)
            except Exception as exc:  # a damaged font raises anything from struct.error to KeyError
                failures.append((face.ident, _reason(exc)))
                continue
            if result is None:
                skipped += 1
            else:
                faces.append(result)
    except Exception as exc:  # not a font at all, or truncated before its table directory ends
        failures.append((path, _reason(exc)))
    return FileResult(path, tuple(faces), skipped, tuple(failures))


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or "no details"
    return f"{type(exc).__name__}: {text}"


def _codepoints(config: IngestConfig, cmap: dict[int, str]) -> Iterator[int]:
    wanted = {cp for low, high in config.unicode_blocks for cp in range(low, high + 1)}
    if config.include_latin:
        wanted.update(LATIN_CODEPOINTS)
    yield from sorted(wanted.intersection(cmap))


def extract_face(face: FontFace, config: IngestConfig, joining: JoiningTable) -> FaceResult | None:
    """The rows of one face, or None when its cmap lacks ``require_codepoint``."""
    font = face.font
    cmap = font.getBestCmap()
    if not cmap:
        raise ValueError("no Unicode cmap")
    if config.require_codepoint not in cmap:
        return None
    drawer = _FaceDrawer(face, config.compose_runs)
    rows: dict[str, GlyphRecord] = {}
    for codepoint in _codepoints(config, cmap):
        kind = character_kind(codepoint)
        if kind is None:
            continue
        if kind == "letter":
            group = joining.joining(codepoint).group
            runs = drawer.forms(chr(codepoint), joining.forms(codepoint))
            for form, run in runs:
                drawer.add_run(rows, label_for(codepoint, form), run, group, char_class_for(codepoint, form))
        else:
            drawer.add_glyph(rows, label_for(codepoint), cmap[codepoint], char_class_for(codepoint))
    for pair in config.ligature_pairs:
        text = "".join(pair)
        if all(ord(char) in cmap for char in text):
            codepoints = [ord(char) for char in text]
            for form, run in drawer.forms(text, LIGATURE_FORMS):
                drawer.add_run(rows, ligature_label(codepoints, form), run, None, LIGATURE_CLASS)
    if config.include_allah and all(ord(char) in cmap for char in ALLAH_TEXT):
        for _, run in drawer.forms(ALLAH_TEXT, ("isol",)):
            drawer.add_run(rows, ALLAH_LABEL, run, None, LIGATURE_CLASS)
    glyphs = with_twins(rows[label] for label in sorted(rows))
    record, corrections = font_record(face)
    return FaceResult(str(face.path), face.index, record, glyphs, tuple(corrections))


class _FaceDrawer:
    """Shapes and draws inside one face, turning outlines into rows."""

    def __init__(self, face: FontFace, compose_runs: bool) -> None:
        font: TTFont = face.font
        self._font = font
        self._shaper = Shaper(face.harfbuzz_bytes, face.index)
        self._outlines = OutlineRecorder(font.getGlyphSet(), font.getGlyphOrder())
        self._compose_runs = compose_runs

    def forms(self, text: str, forms: Iterable[Form]) -> list[tuple[Form, ShapedRun]]:
        """Shaped runs of ``text`` per form; contextual forms the font draws like isol are left out."""
        isolated = self._shaper.shape(text, "isol")
        runs: list[tuple[Form, ShapedRun]] = []
        for form in forms:
            run = isolated if form == "isol" else self._shaper.shape(text, form)
            if form == "isol" or run.glyphs != isolated.glyphs:
                runs.append((form, run))
        return runs

    def add_run(
        self, rows: dict[str, GlyphRecord], label: str, run: ShapedRun, group: str | None, char_class: str
    ) -> None:
        if not run.glyphs or run.has_missing_glyph:
            return
        if len(run.glyphs) > 1 and not self._compose_runs:
            return
        self._add(rows, label, self._outlines.run(run.glyphs), run.advance, group, char_class)

    def add_glyph(self, rows: dict[str, GlyphRecord], label: str, glyph_name: str, char_class: str) -> None:
        glyph_id = self._font.getGlyphID(glyph_name)
        advance = self._font["hmtx"][glyph_name][0]
        self._add(rows, label, self._outlines.glyph(glyph_id), advance, None, char_class)

    @staticmethod
    def _add(
        rows: dict[str, GlyphRecord],
        label: str,
        outline: GlyphOutline | None,
        advance: int,
        group: str | None,
        char_class: str,
    ) -> None:
        if outline is None:
            return
        rows[label] = GlyphRecord(
            label=label,
            contours=outline.contours,
            joining_group=group,
            char_class=char_class,
            width=advance,
            lsb=outline.x_min,
            rsb=advance - outline.x_max,
        )


def with_twins(rows: Iterable[GlyphRecord]) -> tuple[GlyphRecord, ...]:
    """Rows of one font with ``alt_label`` set to the other labels drawn with identical contours.

    Shaped runs and single glyphs are drawn at the origin, so two labels on the same glyph always
    have identical contours; identical contours also catch distinct glyphs with the same drawing.
    """
    rows = tuple(rows)
    labels_by_contours: dict[str, list[str]] = {}
    for row in rows:
        labels_by_contours.setdefault(row.contours, []).append(row.label)
    return tuple(
        replace(row, alt_label=format_alt_labels(set(labels_by_contours[row.contours]) - {row.label}))
        for row in rows
    )
