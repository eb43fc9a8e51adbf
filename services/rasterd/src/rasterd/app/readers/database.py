"""The database side of the service: the light columns of every glyph row of glyphs.db, loaded once
per database version (read-only)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from glyph_core.db import FontMetrics, GlyphDatabase


def codes(values: list[str | None]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Values -> int32 codes into their sorted distinct non-null values (-1 for None)."""
    names = tuple(sorted({v for v in values if v is not None}))
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[v] if v is not None else -1 for v in values], dtype=np.int32), names


@dataclass(eq=False)
class DatabaseIndex:
    """The light columns of every glyphs.db row (no contours), in glyph id order, plus the fonts."""

    db: GlyphDatabase
    key: Hashable
    content_hash: str
    fonts: dict[str, FontMetrics]
    ids: np.ndarray
    label_codes: np.ndarray
    labels: tuple[str, ...]
    font_codes: np.ndarray
    font_hashes: tuple[str, ...]
    class_codes: np.ndarray
    classes: tuple[str, ...]
    joining_groups: list[str | None]
    alt_labels: list[str | None]

    @classmethod
    def load(cls, target: str, key: Hashable) -> DatabaseIndex:
        db = GlyphDatabase(target)
        rows = list(db.iter_rows(columns=["f_id", "label", "char_class", "joining_group", "alt_label"]))
        label_codes, labels = codes([r.label for r in rows])
        font_codes, font_hashes = codes([r.f_id for r in rows])
        class_codes, classes = codes([r.char_class for r in rows])
        return cls(
            db=db, key=key, content_hash=db.content_hash(), fonts=db.fonts(),
            ids=np.array([r.glyph_id for r in rows], dtype=np.int64),
            label_codes=label_codes, labels=labels, font_codes=font_codes, font_hashes=font_hashes,
            class_codes=class_codes, classes=classes,
            joining_groups=[r.joining_group for r in rows], alt_labels=[r.alt_label for r in rows],
        )  # fmt: skip

    def close(self) -> None:
        self.db.close()
