"""Unicode joining data and HarfBuzz positional forms."""

import pytest

from rasterd.ingest.shaping import ZWJ, JoiningTable, Shaper, context_text

SAMPLE = """\
# A hand-made excerpt in ArabicShaping.txt's format.
0627; ALEF; R; ALEF
0628; BEH; D; BEH
0629; TEH MARBUTA; R; TEH MARBUTA
0621; HAMZA; U; No_Joining_Group
0640; TATWEEL; C; No_Joining_Group

A872; PHAGS-PA SUPERFIXED LETTER RA; L; No_Joining_Group
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "ArabicShaping.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    return JoiningTable.load(path)


def test_joining_types_and_groups(table):
    assert table.joining(0x0628).type == "D" and table.joining(0x0628).group == "BEH"
    assert table.joining(0x0629).group == "TEH_MARBUTA"  # spaces become underscores, as in the property value
    assert table.joining(0x0621).group is None


def test_unlisted_code_points_take_the_unicode_defaults(table):
    assert table.joining(0x064E).type == "T"  # a mark (fatha)
    assert table.joining(0x0661).type == "U"  # a digit


def test_forms_follow_the_joining_type(table):
    assert table.forms(0x0628) == ("isol", "init", "medi", "final")
    assert table.forms(0x0627) == ("isol", "final")
    assert table.forms(0xA872) == ("isol", "init")
    assert table.forms(0x0640) == ("isol", "init", "medi", "final")
    assert table.forms(0x0621) == ("isol",)


def test_malformed_line_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("0627; ALEF; R\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:1: expected 4 fields"):
        JoiningTable.load(path)


def test_missing_file_says_what_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="unicode-data"):
        JoiningTable.load(tmp_path / "absent.txt")


def test_debian_file_parses():
    path = "/usr/share/unicode/ArabicShaping.txt"
    try:
        table = JoiningTable.load(path)
    except FileNotFoundError:
        pytest.skip(f"{path} is missing (Debian package unicode-data)")
    assert table.joining(0x06A9).group == "GAF"  # keheh
    assert table.forms(0x0627) == ("isol", "final")


def test_contexts_surround_with_joiners():
    assert context_text("\u0628", "medi") == f"{ZWJ}\u0628{ZWJ}"
    assert context_text("\u0628", "isol") == "\u0628"


def test_amiri_draws_beh_in_four_glyphs_and_drops_the_joiners(amiri):
    shaper = Shaper(amiri.read_bytes())
    runs = {form: shaper.shape("\u0628", form) for form in ("isol", "init", "medi", "final")}
    assert all(len(run.glyphs) == 1 for run in runs.values())
    assert len({run.glyphs[0].glyph_id for run in runs.values()}) == 4
    assert all(run.advance > 0 and not run.has_missing_glyph for run in runs.values())


def test_amiri_lam_alef_is_a_run_of_two_glyphs_laid_out_left_to_right(amiri):
    shaper = Shaper(amiri.read_bytes())
    run = shaper.shape("\u0644\u0627", "isol")
    plain = {shaper.shape(letter).glyphs[0].glyph_id for letter in ("\u0644", "\u0627")}
    assert len(run.glyphs) == 2
    assert not plain & {glyph.glyph_id for glyph in run.glyphs}  # ligature halves, not the plain letters
    assert run.glyphs[0].x == 0 < run.glyphs[1].x < run.advance
