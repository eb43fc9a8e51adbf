"""Font inputs of the ingest config -> a sorted list of font files.

Each entry is a file, a folder (searched recursively) or a glob pattern. Folders and globs yield
files with a font extension only; a file named explicitly is taken whatever its extension.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path

FONT_EXTENSIONS = frozenset({".ttf", ".otf", ".ttc", ".woff", ".woff2"})


class FontInputError(FileNotFoundError):
    """A ``fonts`` entry of the ingest config that names no font file."""


def _is_font_file(path: Path) -> bool:
    return path.suffix.lower() in FONT_EXTENSIONS and path.is_file()


def _in_folder(folder: Path) -> list[Path]:
    found = []
    for root, _dirs, files in os.walk(folder, followlinks=True):
        found.extend(path for name in files if _is_font_file(path := Path(root) / name))
    return found


def discover_fonts(entries: Iterable[str]) -> list[Path]:
    """Font files named by ``entries``, resolved, without repeats, sorted by path.

    Raises :class:`FontInputError` for an entry that matches nothing, naming the entry.
    """
    found: set[Path] = set()
    for entry in entries:
        path = Path(entry).expanduser()
        if glob.has_magic(entry):
            matches = [Path(m) for m in glob.glob(str(path), recursive=True)]
            files = [m for m in matches if _is_font_file(m)]
            files += [f for m in matches if m.is_dir() for f in _in_folder(m)]
        elif path.is_dir():
            files = _in_folder(path)
        elif path.is_file():
            files = [path]
        else:
            raise FontInputError(f"fonts entry {entry!r}: no such file or folder")
        if not files:
            raise FontInputError(f"fonts entry {entry!r}: no font files ({', '.join(sorted(FONT_EXTENSIONS))})")
        found.update(file.resolve() for file in files)
    return sorted(found)
