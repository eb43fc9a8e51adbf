"""Writes a new glyphs.db: built in a temporary file beside the target, then linked into place.

An existing database is never overwritten, and a failed write leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

from glyph_core import schema
from rasterd.ingest.extract import FaceResult

INSERT_BATCH = 5000


class DatabaseExistsError(FileExistsError):
    """The target database already exists; ingest only ever writes a new file."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"{path} already exists: rasterd ingest never overwrites a database. "
            "Delete it or set `database` in the ingest config to a new path."
        )


def ensure_new_database(target: Path) -> None:
    """Raise :class:`DatabaseExistsError` when ``target`` exists (checked before the work starts, too)."""
    if target.exists():
        raise DatabaseExistsError(target)


def _glyph_rows(faces: Sequence[FaceResult]) -> Iterator[dict[str, Any]]:
    glyph_id = 0
    for face in faces:
        for glyph in face.glyphs:
            glyph_id += 1
            yield {"glyph_id": glyph_id, "f_id": face.font.file_hash, **dataclasses.asdict(glyph)}


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _fast_unsafe_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The file is private until it is linked into place, so a crash only loses the temporary file.
    dbapi_connection.execute("PRAGMA journal_mode=OFF")
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_database(target: Path, faces: Sequence[FaceResult]) -> None:
    """Create ``target`` with the schema's tables and indexes, fonts and glyphs in the given order.

    glyph_id counts from 1 in that order, so the same faces always give the same database content.
    """
    ensure_new_database(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the database is not
    try:
        engine = create_engine(f"sqlite:///{temporary}")
        event.listen(engine, "connect", _fast_unsafe_pragmas)
        try:
            with engine.begin() as connection:
                schema.create_schema(connection)
                if faces:
                    connection.execute(schema.fonts.insert(), [dataclasses.asdict(face.font) for face in faces])
                for batch in _batches(_glyph_rows(faces), INSERT_BATCH):
                    connection.execute(schema.glyphs.insert(), batch)
        finally:
            engine.dispose()
        try:
            os.link(temporary, target)  # unlike rename, refuses to replace a file created meanwhile
        except FileExistsError:
            raise DatabaseExistsError(target) from None
    finally:
        temporary.unlink(missing_ok=True)
