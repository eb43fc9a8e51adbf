"""One validating pass over a glyphs database (PLAN §3.1 integrity checks, §9.1 steps 1-3).

The catalog holds the light columns of every good row (no contours), the per-font outline identity
keys that design grouping needs, and sends every bad row to the audit log with its reason. It is
what `rasterd build` plans its work from and what `glyph-train` reports are joined against.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
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
    """Accepted rows in id order, fonts that have rows, outline identity keys per font."""

    fonts: dict[str, FontMetrics]
    entries: list[CatalogEntry] = field(default_factory=list)
    outline_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    rows_read: int = 0

    @property
    def rejected(self) -> int:
        return self.rows_read - len(self.entries)


def check_row(row: GlyphRow, fonts: Mapping[str, FontMetrics], max_points: int) -> str | None:
    """Why a row cannot be used (orphan, empty label or contours, unparseable), or None if it is good."""
    if row.f_id not in fonts:
        return f"orphan: font {row.f_id!r} is not in the fonts table"
    if not row.label:
        return "empty label"
    if not row.contours:
        return "empty contours"
    try:
        parse_contours(row.contours, max_points=max_points)
    except ContourError as exc:
        return f"unparseable contours: {exc}"
    return None


def outline_key(label: str, contours: str) -> str:
    """Identity of a (label, contours) pair, compared across fonts to find copies of one design."""
    return hashlib.blake2b(f"{label}\0{contours}".encode(), digest_size=12).hexdigest()


def scan_database(
    db: GlyphDatabase,
    audit: AuditLog,
    max_points: int,
    progress: Callable[[int], None] | None = None,
) -> Catalog:
    """Validate every row once; bad rows go to ``audit`` (kind = first word of the reason)."""
    catalog = Catalog(fonts=db.fonts())
    for row in db.iter_rows():
        catalog.rows_read += 1
        reason = check_row(row, catalog.fonts, max_points)
        if reason is not None:
            audit.reject(reason.split(":")[0].replace(" ", "_"), row.glyph_id, reason, font=row.f_id, label=row.label)
        else:
            catalog.entries.append(
                CatalogEntry(row.glyph_id, row.f_id, row.label, row.char_class, row.joining_group, row.alt_label)
            )
            catalog.outline_keys[row.f_id].add(outline_key(row.label, row.contours))
        if progress is not None:
            progress(1)
    return catalog
