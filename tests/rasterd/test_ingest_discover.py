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
