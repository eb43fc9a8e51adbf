"""The glyphs the service can answer for (in the store, or only in the database), with the codes the
listing filters search: built from the database index and the store view."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from glyph_core.splits import SPLIT_NAMES

from rasterd.app.readers.database import DatabaseIndex
from rasterd.app.readers.store_view import StoreView


@dataclass(frozen=True, eq=False)
class GlyphIndex:
    """Every servable glyph, in glyph id order, as parallel arrays (filters are vector ops)."""

    ids: np.ndarray
    label_codes: np.ndarray
    labels: tuple[str, ...]
    font_codes: np.ndarray
    fonts: tuple[str, ...]
    class_codes: np.ndarray
    classes: tuple[str, ...]
    split_codes: np.ndarray  # index into SPLIT_NAMES, -1 when the font is in no split
    store_rows: np.ndarray  # row in the rasters store, -1 when not built
    label_index: dict[str, int] = field(init=False)
    font_index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_index", {name: i for i, name in enumerate(self.labels)})
        object.__setattr__(self, "font_index", {name: i for i, name in enumerate(self.fonts)})

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, glyph_id: int) -> int | None:
        i = int(np.searchsorted(self.ids, glyph_id))
        return i if i < len(self.ids) and int(self.ids[i]) == glyph_id else None

    def select(
        self, label: str | None, font_codes: list[int] | None, char_class: str | None, split: str | None, after: int | None, limit: int
    ) -> tuple[np.ndarray, int, bool]:
        """Rows matching every given filter with glyph id > ``after``: (page rows, total, more pages)."""
        mask = np.ones(len(self.ids), dtype=bool)
        if label is not None:
            mask &= self.label_codes == self.label_index.get(label, -2)
        if font_codes is not None:
            mask &= np.isin(self.font_codes, font_codes)
        if char_class is not None:
            code = self.classes.index(char_class) if char_class in self.classes else -2
            mask &= self.class_codes == code
        if split is not None:
            mask &= self.split_codes == SPLIT_NAMES.index(split)
        rows = np.flatnonzero(mask)
        start = 0 if after is None else int(np.searchsorted(self.ids[rows], after, side="right"))
        page = rows[start : start + limit]
        return page, len(rows), start + limit < len(rows)




def glyph_index(database: DatabaseIndex | None, store: StoreView | None, font_splits: dict[str, tuple[str, str | None]]) -> GlyphIndex:
    if database is not None:
        ids, label_codes, labels = database.ids, database.label_codes, database.labels
        font_codes, fonts = database.font_codes, database.font_hashes
        class_codes, classes = database.class_codes, database.classes
    elif store is not None:
        a = store.arrays
        ids, label_codes, labels = a["glyph_id"], a["label"], tuple(store.attrs["labels"])
        font_codes, fonts = a["font"], tuple(store.attrs["fonts"])
        classes = tuple(store.attrs["char_classes"])
        class_codes = a["char_class"].astype(np.int32)
    else:
        empty = np.zeros(0, dtype=np.int64)
        return GlyphIndex(empty, empty, (), empty, (), empty, (), empty.astype(np.int8), empty)
    store_rows = np.full(len(ids), -1, dtype=np.int64)
    if store is not None:
        positions = np.searchsorted(ids, store.arrays["glyph_id"])
        store_rows[positions] = np.arange(store.count)
    split_of_font = np.array([SPLIT_NAMES.index(font_splits[f][0]) if f in font_splits else -1 for f in fonts], dtype=np.int8)
    split_codes = split_of_font[font_codes] if len(fonts) else np.full(len(ids), -1, dtype=np.int8)
    return GlyphIndex(ids, label_codes, labels, font_codes, fonts, class_codes, classes, split_codes, store_rows)
