"""The glyphs.db schema (docs/data.md plus DESIGN's additive font columns), as SQLAlchemy Core tables.

`rasterd ingest` creates databases from these definitions; readers (``glyph_core.db``) tolerate the
plan's variations and never require more than the required columns.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, Index, Integer, MetaData, Table, Text
from sqlalchemy.schema import CreateIndex, CreateTable

metadata = MetaData()

fonts = Table(
    "fonts",
    metadata,
    Column("file_hash", Text, primary_key=True),
    Column("upem", Integer),
    Column("ascent", Integer),
    Column("descent", Integer),
    Column("typo_ascent", Integer),
    Column("typo_descent", Integer),
    Column("x_height", Integer),
    Column("cap_height", Integer),
    Column("line_gap", Integer),
    # Additive columns the plan names as future fields.
    Column("family_name", Text),
    Column("style", Text),
    Column("weight", Integer),
)

glyphs = Table(
    "glyphs",
    metadata,
    Column("glyph_id", Integer, primary_key=True),
    Column("f_id", Text, ForeignKey("fonts.file_hash"), nullable=False),
    Column("label", Text, nullable=False),
    Column("contours", Text, nullable=False),
    Column("joining_group", Text),
    Column("char_class", Text),
    Column("width", Integer),
    Column("lsb", Integer),
    Column("rsb", Integer),
    Column("alt_label", Text),
    Index("idx_glyphs_fid", "f_id"),
    Index("idx_glyphs_label", "label"),
    Index("idx_glyphs_joining_group", "joining_group"),
)



def create_schema(connection: Connection) -> None:
    """Create every table, then its indexes by name.

    ``MetaData.create_all`` emits a table's indexes in the order of a set, which changes with
    Python's hash seed: two ingests of the same fonts would differ in bytes, and the stores take the
    file's sha256 as their source tag (docs/data.md, "The database").
    """
    for table in metadata.sorted_tables:
        connection.execute(CreateTable(table))
        for index in sorted(table.indexes, key=lambda index: str(index.name)):
            connection.execute(CreateIndex(index))


CHAR_CLASSES = ("isol", "init", "medi", "final", "diacritic", "ligature", "digit", "punctuation", "latin")
