"""Read-only access to a glyphs database through SQLAlchemy Core.

Tolerates the plan's variations (docs/data.md): ``id`` instead of ``glyph_id``, extra columns, missing
or NULL optional columns, NULL/0 typographic metrics. Rows stream in id order in batches.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, MetaData, Table, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

GLYPH_REQUIRED = ("f_id", "label", "contours")
GLYPH_OPTIONAL = ("joining_group", "char_class", "width", "lsb", "rsb", "alt_label")
FONT_OPTIONAL = (
    "upem", "ascent", "descent", "typo_ascent", "typo_descent", "x_height", "cap_height", "line_gap",
    "family_name", "style", "weight",
)  # fmt: skip


class DatabaseError(RuntimeError):
    """The database is missing, unreadable, or lacks a required table or column."""


@dataclass(frozen=True)
class FontMetrics:
    """One ``fonts`` row; absent optional columns are None."""

    file_hash: str
    upem: int | None = None
    ascent: int | None = None
    descent: int | None = None
    typo_ascent: int | None = None
    typo_descent: int | None = None
    x_height: int | None = None
    cap_height: int | None = None
    line_gap: int | None = None
    family_name: str | None = None
    style: str | None = None
    weight: int | None = None

    @property
    def em_height(self) -> float | None:
        """Vertical EM span (docs/raster-policy.md): typo metrics, else ascent/descent, else None (use the bbox)."""
        typo_bottom = checked_descender(self.typo_descent, (self.descent,))
        for top, bottom in ((self.typo_ascent, typo_bottom), (self.ascent, self.descent)):
            if top is None or bottom is None:
                continue
            # Descent is normally negative; some producers store its magnitude instead.
            span = top - bottom if bottom <= 0 else top + bottom
            if span > 0:
                return float(span)
        return None


def checked_descender(descender: int | None, evidence: Iterable[int | None]) -> int | None:
    """A descender metric with its sign checked against the font's other metrics.

    Descenders are negative (below the baseline). A positive one is a sign error when any other
    metric of the same font reaches below the baseline (hhea descent, the glyphs' lowest y): it is
    then read as its negation. Without such evidence it is kept as the font states it.
    """
    if descender is None or descender <= 0:
        return descender
    return -descender if any(value is not None and value < 0 for value in evidence) else descender


@dataclass(frozen=True)
class GlyphRow:
    """One ``glyphs`` row; absent optional columns are None."""

    glyph_id: int
    f_id: str | None
    label: str
    contours: str
    joining_group: str | None = None
    char_class: str | None = None
    width: int | None = None
    lsb: int | None = None
    rsb: int | None = None
    alt_label: str | None = None


def sqlite_file(target: str) -> Path | None:
    """The file path if ``target`` names a SQLite database (plain path or sqlite:/// URL)."""
    if "://" not in target:
        return Path(target)
    try:
        url = make_url(target)
    except ArgumentError:
        return None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def _engine(target: str) -> Engine:
    path = sqlite_file(target)
    if path is None:
        return create_engine(target)
    if not path.is_file():
        raise DatabaseError(f"glyph database not found: {path} (build one with `make dataset` or `rasterd ingest`)")
    uri = path.resolve().as_uri() + "?mode=ro"
    # mode=ro: the pipeline never writes the input database (docs/outputs.md).
    # A queue pool, not the SingletonThreadPool that SQLAlchemy gives a bare "sqlite://": that one keeps one
    # connection per thread for at most 5 threads and closes the others' while they may be in use (the
    # service's thread pool has dozens of threads). No limit on overflow: each extra connection is closed when returned.
    return create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=QueuePool, pool_size=8, max_overflow=-1,
    )  # fmt: skip


class GlyphDatabase:
    """A read-only glyphs database: font metrics, streamed glyph rows, single-row lookups."""

    def __init__(self, target: str | Path, batch_size: int = 2000) -> None:
        self.target = str(target)
        self.batch_size = batch_size
        self.engine = _engine(self.target)
        meta = MetaData()
        try:
            meta.reflect(self.engine, only=["fonts", "glyphs"])
        except SQLAlchemyError as exc:
            raise DatabaseError(f"{self.target}: cannot read tables fonts and glyphs ({exc.__class__.__name__}: {exc})") from None
        self.fonts_table: Table = meta.tables["fonts"]
        self.glyphs_table: Table = meta.tables["glyphs"]
        glyph_cols = set(self.glyphs_table.c.keys())
        id_name = "glyph_id" if "glyph_id" in glyph_cols else "id" if "id" in glyph_cols else None
        missing = [c for c in GLYPH_REQUIRED if c not in glyph_cols]
        if id_name is None or missing:
            missing = (["glyph_id (or id)"] if id_name is None else []) + missing
            raise DatabaseError(f"{self.target}: table glyphs lacks required column(s): {', '.join(missing)}")
        if "file_hash" not in self.fonts_table.c:
            raise DatabaseError(f"{self.target}: table fonts lacks required column file_hash")
        self.id_column = self.glyphs_table.c[id_name]
        self._glyph_columns = [self.id_column.label("glyph_id")] + [
            self.glyphs_table.c[c] for c in GLYPH_REQUIRED + GLYPH_OPTIONAL if c in glyph_cols
        ]
        self._font_columns = [self.fonts_table.c[c] for c in ("file_hash",) + FONT_OPTIONAL if c in self.fonts_table.c]

    @property
    def sqlite_path(self) -> Path | None:
        return sqlite_file(self.target)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> GlyphDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fonts(self) -> dict[str, FontMetrics]:
        """All font rows by file hash (the fonts table is small)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(*self._font_columns)).mappings().all()
        return {row["file_hash"]: FontMetrics(**row) for row in rows}

    def count(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.glyphs_table)).scalar_one())

    def iter_rows(
        self,
        columns: Sequence[str] | None = None,
        batch_size: int | None = None,
        id_range: tuple[int, int] | None = None,
    ) -> Iterator[GlyphRow]:
        """Glyph rows in id order, fetched in keyset-paginated batches (never the whole table).

        ``columns`` restricts the columns fetched (glyph_id is always included; columns not fetched
        are None, ``contours`` the empty string); ``id_range`` limits ids to [first, last].
        """
        cols = self._glyph_columns
        if columns is not None:
            wanted = set(columns) | {"glyph_id"}
            cols = [c for c in cols if c.key in wanted or c.name in wanted]
        size = batch_size or self.batch_size
        last: int | None = None
        with self.engine.connect() as conn:
            while True:
                query = select(*cols).order_by(self.id_column).limit(size)
                if id_range is not None:
                    query = query.where(self.id_column.between(*id_range))
                if last is not None:
                    query = query.where(self.id_column > last)
                batch = conn.execute(query).mappings().all()
                if not batch:
                    return
                for row in batch:
                    yield _glyph_row(row)
                last = batch[-1]["glyph_id"]

    def get(self, glyph_id: int) -> GlyphRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*self._glyph_columns).where(self.id_column == glyph_id)).mappings().first()
        return None if row is None else _glyph_row(row)

    def content_hash(self) -> str:
        """sha256 of the SQLite file (or of the URL for other backends): the stores' source tag."""
        path = self.sqlite_path
        if path is None:
            return hashlib.sha256(self.target.encode()).hexdigest()
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


def _glyph_row(row: object) -> GlyphRow:
    data = dict(row)  # type: ignore[call-overload]
    # Columns not fetched (or NULL) become empty strings for the required text fields.
    for name in ("label", "contours"):
        data[name] = data.get(name) or ""
    data.setdefault("f_id", None)
    return GlyphRow(**data)
