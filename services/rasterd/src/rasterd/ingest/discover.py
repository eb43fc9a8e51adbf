"""Font inputs of the ingest config -> a sorted list of font files.

Each entry is a file, a folder (searched recursively), a glob pattern, or ``npm:<package.json>``.
Folders and globs yield files with a font extension only; a file named explicitly is taken whatever
its extension. An npm entry yields, for every dependency of that package.json, the files of its
``files/`` folder that match the ingest's ``npm_files`` glob (the Arabic WOFF2 subsets: each has a
``.woff`` twin of the same font, which must never be read as a second font), and checks that the
installed version is the pinned one.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable
from pathlib import Path

FONT_EXTENSIONS = frozenset({".ttf", ".otf", ".ttc", ".woff", ".woff2"})
NPM_PREFIX = "npm:"


class FontInputError(FileNotFoundError):
    """A ``fonts`` entry of the ingest config that names no font file."""


def _is_font_file(path: Path) -> bool:
    return path.suffix.lower() in FONT_EXTENSIONS and path.is_file()


def _in_folder(folder: Path) -> list[Path]:
    found = []
    for root, _dirs, files in os.walk(folder, followlinks=True):
        found.extend(path for name in files if _is_font_file(path := Path(root) / name))
    return found


def _fixed_prefix(pattern: Path) -> Path:
    """The folder a glob pattern starts from: its leading parts without wildcards."""
    parts = []
    for part in pattern.parts:
        if glob.has_magic(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def npm_font_files(package_json: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` in ``files/`` of every package ``package_json`` depends on.

    ``{package}`` in the pattern stands for the package's name without its scope: the subset files
    of ``@fontsource/playpen-sans-arabic`` are ``playpen-sans-arabic-<subset>-...``, so a bare
    ``*-arabic-*`` would also take its Latin, math and emoji subsets.

    Raises :class:`FontInputError` when the file is missing, a package is not installed (``npm ci``
    has not run), its installed version is not the pinned one, or it has no matching file.
    """
    if not package_json.is_file():
        raise FontInputError(f"fonts entry {NPM_PREFIX}{package_json}: no such file")
    dependencies: dict[str, str] = json.loads(package_json.read_text(encoding="utf-8")).get("dependencies", {})
    modules = package_json.parent / "node_modules"
    found: list[Path] = []
    for name, pinned in sorted(dependencies.items()):
        manifest = modules / name / "package.json"
        if not manifest.is_file():
            raise FontInputError(
                f"npm font package {name}@{pinned} is not installed under {modules}: "
                f"run `make install` (or `npm ci` in {package_json.parent})"
            )
        installed = json.loads(manifest.read_text(encoding="utf-8")).get("version")
        if installed != pinned:
            raise FontInputError(
                f"npm font package {name}: {installed} is installed, {pinned} is pinned; run `npm ci` in {package_json.parent}"
            )
        wanted = pattern.replace("{package}", name.rsplit("/", 1)[-1])
        files = sorted(path for path in (modules / name / "files").glob(wanted) if path.is_file())
        if not files:
            raise FontInputError(f"npm font package {name}@{pinned}: no files/{wanted}")
        found.extend(files)
    return found


def discover_fonts(entries: Iterable[str], npm_files: str = "{package}-arabic-*.woff2") -> list[Path]:
    """Font files named by ``entries``, resolved, without repeats, in a canonical order: entry by
    entry as the config lists them, and inside an entry by path relative to it. The order (and so
    every glyph id) does not depend on where the fonts or the checkout are on disk.

    Raises :class:`FontInputError` for an entry that matches nothing, naming the entry.
    """
    found: dict[Path, None] = {}
    for entry in entries:
        path = Path(entry).expanduser()
        base = path
        if entry.startswith(NPM_PREFIX):
            package_json = Path(entry[len(NPM_PREFIX) :]).expanduser()
            files, base = npm_font_files(package_json, npm_files), package_json.parent / "node_modules"
        elif glob.has_magic(entry):
            base = _fixed_prefix(path)
            matches = [Path(m) for m in glob.glob(str(path), recursive=True)]
            files = [m for m in matches if _is_font_file(m)]
            files += [f for m in matches if m.is_dir() for f in _in_folder(m)]
        elif path.is_dir():
            files = _in_folder(path)
        elif path.is_file():
            files, base = [path], path.parent
        else:
            raise FontInputError(f"fonts entry {entry!r}: no such file or folder")
        if not files:
            raise FontInputError(f"fonts entry {entry!r}: no font files ({', '.join(sorted(FONT_EXTENSIONS))})")
        for file in sorted(files, key=lambda f: f.relative_to(base) if f.is_relative_to(base) else f):
            found.setdefault(file.resolve(), None)
    return list(found)
