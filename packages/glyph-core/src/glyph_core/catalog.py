"""One validating pass over a glyphs database (the integrity checks of docs/data.md).

The catalog holds the light columns of every good row (no contours), the per-font outline identity
keys that design grouping needs, and sends every bad row to the audit log with its reason. It is
what `rasterd build` plans its work from and what `glyph-train` reports are joined against.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from glyph_core.audit import AuditLog
from glyph_core.contours import ContourError, parse_contours
from glyph_core.db import FontMetrics, GlyphDatabase, GlyphRow


@dataclass(frozen=True)
class CatalogEntry:
    """The light columns of one accepted glyph row."""

    glyph_id: int
    font_hash: str
    label: str
    char_class: str | None
    joining_group: str | None
    alt_label: str | None


@dataclass
class Catalog:
    """Accepted rows in id order, fonts that have rows, outline identity keys per font, and the
    contours of the labels the design-shape rule compares (font -> label -> contour JSON)."""

    fonts: dict[str, FontMetrics]
    entries: list[CatalogEntry] = field(default_factory=list)
    outline_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    shape_contours: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    rows_read: int = 0

    @property
    def rejected(self) -> int:
        return self.rows_read - len(self.entries)


ContourValidator = Callable[[Sequence[str], int], list[str | None]]


def contour_problems(texts: Sequence[str], max_points: int) -> list[str | None]:
    """Why each contour string cannot be parsed (None when it can): the reference validator."""
    problems: list[str | None] = []
    for text in texts:
        try:
            parse_contours(text, max_points=max_points)
            problems.append(None)
        except ContourError as exc:
            problems.append(str(exc))
    return problems


def row_problem(row: GlyphRow, fonts: Mapping[str, FontMetrics]) -> str | None:
    """Why a row cannot be used before its contours are even parsed (orphan, empty fields)."""
    if row.f_id not in fonts:
        return f"orphan: font {row.f_id!r} is not in the fonts table"
    if not row.label:
        return "empty label"
    if not row.contours:
        return "empty contours"
    return None


def outline_key(label: str, contours: str) -> str:
    """Identity of a (label, contours) pair, compared across fonts to find copies of one design."""
    return hashlib.blake2b(f"{label}\0{contours}".encode(), digest_size=12).hexdigest()


def scan_database(
    db: GlyphDatabase,
    audit: AuditLog,
    max_points: int,
    progress: Callable[[int], None] | None = None,
    validate: ContourValidator = contour_problems,
    shape_labels: Collection[str] = (),
) -> Catalog:
    """Validate every row once; bad rows go to ``audit`` (kind = first words of the reason).

    ``validate`` checks a batch of contour strings; rasterd passes its C parser, which must agree
    with :func:`contour_problems` (the definition). The contours of accepted rows whose label is
    in ``shape_labels`` are kept for the design-shape rule.
    """
    catalog = Catalog(fonts=db.fonts())
    keep = frozenset(shape_labels)
    batch: list[GlyphRow] = []

    def flush() -> None:
        early = [row_problem(row, catalog.fonts) for row in batch]
        to_parse = [i for i, problem in enumerate(early) if problem is None]
        for i, problem in zip(to_parse, validate([batch[i].contours for i in to_parse], max_points), strict=True):
            early[i] = None if problem is None else f"unparseable contours: {problem}"
        for row, reason in zip(batch, early, strict=True):
            _record(catalog, audit, row, reason, keep)
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for row in db.iter_rows():
        batch.append(row)
        if len(batch) >= db.batch_size:
            flush()
    flush()
    return catalog


def _record(catalog: Catalog, audit: AuditLog, row: GlyphRow, reason: str | None, keep: frozenset[str]) -> None:
    catalog.rows_read += 1
    if reason is not None:
        audit.reject(reason.split(":")[0].replace(" ", "_"), row.glyph_id, reason, font=row.f_id, label=row.label)
        return
    catalog.entries.append(CatalogEntry(row.glyph_id, row.f_id, row.label, row.char_class, row.joining_group, row.alt_label))
    catalog.outline_keys[row.f_id].add(outline_key(row.label, row.contours))
    if row.label in keep:
        catalog.shape_contours[row.f_id][row.label] = row.contours
