"""One font file -> rows, on real fonts: forms, composition, outlines, metrics, twins, WOFF2 and TTC."""

import math
from collections import Counter

import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTCollection, TTFont

from glyph_core.config import IngestConfig
from glyph_core.contours import parse_contours
from glyph_core.labels import parse_alt_labels
from rasterd.ingest.extract import GlyphRecord, extract_file, with_twins

DEFAULT = IngestConfig()
NOT_COMPOSED = IngestConfig(compose_runs=False)


def rows_of(path, config=DEFAULT) -> dict[str, GlyphRecord]:
    result = extract_file(str(path), config)
    assert not result.failures
    (face,) = result.faces
    return {row.label: row for row in face.glyphs}


@pytest.fixture(scope="module")
def amiri_rows(amiri):
    return rows_of(amiri)


def test_amiri_beh_has_four_distinct_forms(amiri_rows):
    forms = [amiri_rows[f"beh_{form}"] for form in ("isol", "init", "medi", "final")]
    assert len({row.contours for row in forms}) == 4
    assert [row.char_class for row in forms] == ["isol", "init", "medi", "final"]
    assert all(row.joining_group == "BEH" for row in forms)


def test_amiri_right_joining_letters_have_no_initial_or_medial_form(amiri_rows):
    assert {"alef_isol", "alef_final"} <= amiri_rows.keys()
    assert not {"alef_init", "alef_medi", "reh_init"} & amiri_rows.keys()


def test_amiri_marks_digits_punctuation_and_ligatures(amiri_rows):
    classes = {row.char_class for row in amiri_rows.values()}
    assert classes == {"isol", "init", "medi", "final", "diacritic", "digit", "punctuation", "ligature"}
    assert amiri_rows["fatha"].joining_group is None
    assert amiri_rows["allah"].char_class == "ligature"
    assert {"lam_alef_isol", "lam_alef_final", "lam_alef_with_hamza_above_isol"} <= amiri_rows.keys()
    assert list(amiri_rows) == sorted(amiri_rows)


def test_amiri_lam_alef_exists_only_through_composition(amiri, amiri_rows):
    plain = rows_of(amiri, NOT_COMPOSED)
    assert "lam_alef_isol" not in plain and "allah" not in plain
    assert parse_contours(amiri_rows["lam_alef_isol"].contours).contour_count >= 2
    assert plain["beh_isol"] == amiri_rows["beh_isol"]  # one glyph: the same either way


def test_width_is_the_advance_and_bearings_come_from_the_exact_bounds(amiri, amiri_rows):
    font = TTFont(amiri)
    glyph_set = font.getGlyphSet()
    name = font.getBestCmap()[0x0628]
    bounds = BoundsPen(glyph_set)
    glyph_set[name].draw(bounds)
    x_min, _, x_max, _ = bounds.bounds
    advance = font["hmtx"][name][0]
    row = amiri_rows["beh_isol"]
    assert (row.width, row.lsb, row.rsb) == (advance, math.floor(x_min), advance - math.ceil(x_max))


def test_cff_font_rows_use_cubic_curves(lemonada):
    rows = rows_of(lemonada)
    assert len(rows) > 200
    assert all('"qCurveTo"' not in row.contours for row in rows.values())
    assert '"cubicTo"' in rows["beh_isol"].contours
    assert all(parse_contours(row.contours).contour_count > 0 for row in rows.values())


def test_kacst_one(kacst_one):
    rows = rows_of(kacst_one)
    counts = Counter(row.char_class for row in rows.values())
    assert counts["init"] > 20 and counts["medi"] > 20 and counts["digit"] == 20
    assert '"qCurveTo"' in rows["beh_isol"].contours
    assert all(row.width >= 0 for row in rows.values())


def test_nastaliq_needs_composed_runs(nastaliq):
    composed = Counter(row.char_class for row in rows_of(nastaliq).values())
    plain = Counter(row.char_class for row in rows_of(nastaliq, NOT_COMPOSED).values())
    for form in ("isol", "init", "medi", "final"):
        assert composed[form] > 2 * plain[form] and composed[form] > 50
    assert composed["digit"] == plain["digit"] == 20  # cmap glyphs do not depend on composition


def test_twins_are_symmetric_and_identical(nastaliq):
    rows = rows_of(nastaliq)
    assert "keheh_isol" in parse_alt_labels(rows["kaf_isol"].alt_label)
    twins = [row for row in rows.values() if row.alt_label]
    assert twins
    for row in twins:
        for twin in parse_alt_labels(row.alt_label):
            assert rows[twin].contours == row.contours
            assert row.label in parse_alt_labels(rows[twin].alt_label)


def test_twins_from_hand_made_rows():
    def row(label, contours):
        return GlyphRecord(label, contours, None, "isol", 10, 0, 0)

    rows = with_twins([row("kaf_isol", "A"), row("keheh_isol", "A"), row("gaf_isol", "B"), row("x_isol", "A")])
    assert [r.alt_label for r in rows] == ["keheh_isol,x_isol", "kaf_isol,x_isol", None, "kaf_isol,keheh_isol"]


def test_woff2_gives_the_rows_of_the_plain_font(kacst_one, tmp_path):
    font = TTFont(kacst_one)
    font.flavor = "woff2"
    woff2 = tmp_path / "KacstOne.woff2"
    font.save(woff2)
    plain, compressed = extract_file(str(kacst_one), DEFAULT), extract_file(str(woff2), DEFAULT)
    assert compressed.faces[0].glyphs == plain.faces[0].glyphs
    assert compressed.faces[0].font.file_hash != plain.faces[0].font.file_hash


def test_collection_faces_are_numbered(kacst_one, kacst_one_bold, tmp_path):
    collection = TTCollection()
    collection.fonts = [TTFont(kacst_one), TTFont(kacst_one_bold)]
    ttc = tmp_path / "KacstOne.ttc"
    collection.save(ttc)
    result = extract_file(str(ttc), DEFAULT)
    hashes = [face.font.file_hash for face in result.faces]
    assert [h[-2:] for h in hashes] == ["#0", "#1"] and hashes[0][:-2] == hashes[1][:-2]
    assert [face.font.weight for face in result.faces] == [400, 700]
    regular = extract_file(str(kacst_one), DEFAULT).faces[0]
    assert result.faces[0].glyphs == regular.glyphs


def test_font_without_the_required_code_point_is_skipped(latin_only_font):
    result = extract_file(str(latin_only_font), DEFAULT)
    assert (result.faces, result.skipped, result.failures) == ((), 1, ())


def test_latin_only_with_include_latin(lemonada):
    without = rows_of(lemonada)
    with_latin = rows_of(lemonada, IngestConfig(include_latin=True))
    added = with_latin.keys() - without.keys()
    assert "latin_small_letter_a" in added and "digit_one" in added
    assert with_latin["latin_small_letter_a"].char_class == "latin"
    assert with_latin["digit_one"].char_class == "digit"
    assert not any(label.startswith(("latin_", "digit_")) for label in without)
