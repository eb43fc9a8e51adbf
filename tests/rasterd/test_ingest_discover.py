"""Font inputs: files, folders (recursive) and globs."""

import pytest

from rasterd.ingest.discover import FontInputError, discover_fonts


@pytest.fixture
def tree(tmp_path):
    for name in ("a.ttf", "sub/b.OTF", "sub/deeper/c.woff2", "sub/d.ttc", "e.woff", "notes.txt", "sub/f.pfb"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path


def names(paths):
    return [path.name for path in paths]


def test_folder_is_searched_recursively_for_font_extensions(tree):
    found = discover_fonts([str(tree)])
    assert names(found) == ["a.ttf", "e.woff", "b.OTF", "d.ttc", "c.woff2"]
    assert found == sorted(found)


def test_glob_and_explicit_file(tree):
    assert names(discover_fonts([str(tree / "*.ttf")])) == ["a.ttf"]
    assert names(discover_fonts([str(tree / "**" / "*.woff2")])) == ["c.woff2"]
    assert names(discover_fonts([str(tree / "notes.txt")])) == ["notes.txt"]  # named explicitly: taken


def test_repeats_are_dropped(tree):
    assert len(discover_fonts([str(tree), str(tree / "a.ttf"), str(tree / "sub" / "..")])) == 5


@pytest.mark.parametrize("entry", ["missing.ttf", "nothing-*.ttf", "empty"])
def test_entry_that_names_no_font_is_an_error(tree, entry):
    (tree / "empty").mkdir()
    with pytest.raises(FontInputError, match="fonts entry"):
        discover_fonts([str(tree / entry)])


def test_order_follows_the_entries_then_relative_paths_not_the_location(tmp_path):
    """Where the fonts (or the checkout, for npm fonts) live must not change the order, nor glyph ids."""
    for root in (tmp_path / "zzz-late", tmp_path / "aaa-early"):
        for name in ("b/x.ttf", "a.ttf"):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(root.name.encode())
    late, early = tmp_path / "zzz-late", tmp_path / "aaa-early"
    found = discover_fonts([str(late), str(early / "*.ttf"), str(early / "b" / "x.ttf")])
    assert [str(p.relative_to(tmp_path)) for p in found] == [
        "zzz-late/a.ttf", "zzz-late/b/x.ttf", "aaa-early/a.ttf", "aaa-early/b/x.ttf",
    ]  # fmt: skip
    moved = tmp_path / "elsewhere" / "deeper"
    moved.mkdir(parents=True)
    (late).rename(moved / "zzz-late")
    again = discover_fonts([str(moved / "zzz-late"), str(early / "*.ttf"), str(early / "b" / "x.ttf")])
    assert [p.name for p in again] == [p.name for p in found]
