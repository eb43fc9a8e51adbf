"""Label frequency filter, class map, twin equivalence and merge candidates."""

import pytest

from glyph_core.labels import (
    LabelMap,
    count_labels,
    equivalent_labels,
    format_alt_labels,
    merge_candidates,
    parse_alt_labels,
    select_labels,
)


def test_alt_label_format_round_trips():
    assert format_alt_labels(["keheh_isol", "kaf_isol", "kaf_isol"]) == "kaf_isol,keheh_isol"
    assert format_alt_labels([]) is None
    assert parse_alt_labels("kaf_isol, keheh_isol") == {"kaf_isol", "keheh_isol"}
    assert parse_alt_labels(None) == frozenset()
    assert equivalent_labels("yeh_isol", "farsi_yeh_isol") == {"yeh_isol", "farsi_yeh_isol"}


def test_label_map_is_lexicographic_and_round_trips():
    m = LabelMap.from_labels(["teh_isol", "beh_isol", "alef_isol", "beh_isol"])
    assert m.labels == ("alef_isol", "beh_isol", "teh_isol")
    assert m.index("teh_isol") == 2 and m.get("nope") == -1 and "beh_isol" in m
    assert LabelMap.from_json(m.to_json()) == m
    assert m.hash == LabelMap.from_labels(["alef_isol", "beh_isol", "teh_isol"]).hash
    with pytest.raises(ValueError):
        LabelMap(("b", "a"))


def test_counts_by_rows_fonts_and_design_groups():
    rows = [("beh_isol", "f1"), ("beh_isol", "f2"), ("beh_isol", "f3"), ("teh_isol", "f1"), ("teh_isol", "f1")]
    groups = {"f1": "amiri", "f2": "amiri", "f3": "noto"}
    assert count_labels(rows, "rows") == {"beh_isol": 3, "teh_isol": 2}
    assert count_labels(rows, "fonts") == {"beh_isol": 3, "teh_isol": 1}
    assert count_labels(rows, "design_groups", groups) == {"beh_isol": 2, "teh_isol": 1}
    with pytest.raises(ValueError):
        count_labels(rows, "design_groups")


def test_select_applies_min_count_and_drops_shaped_forms():
    counts = {"beh_isol": 9, "beh_init": 9, "beh_medi": 9, "beh_final": 9, "fatha": 5, "rare_isol": 4}
    assert select_labels(counts, 5, drop_shaped=False).labels == ("beh_final", "beh_init", "beh_isol", "beh_medi", "fatha")
    assert select_labels(counts, 5, drop_shaped=True).labels == ("beh_isol", "fatha")


def test_merge_candidates_report_pairs_identical_in_most_fonts():
    rows = []
    for font in ("f1", "f2", "f3", "f4"):
        rows += [(font, "kaf_isol", "keheh_isol"), (font, "keheh_isol", "kaf_isol")]
    rows += [("f5", "kaf_isol", None), ("f5", "keheh_isol", None)]  # one font draws them apart
    rows += [("f1", "yeh_isol", "farsi_yeh_isol"), ("f1", "farsi_yeh_isol", "yeh_isol")]
    for font in ("f2", "f3", "f4"):
        rows += [(font, "yeh_isol", None), (font, "farsi_yeh_isol", None)]
    out = merge_candidates(rows, min_share=0.5)
    assert [(c.label_a, c.label_b, c.identical, c.shared) for c in out] == [("kaf_isol", "keheh_isol", 4, 5)]
    assert out[0].share == pytest.approx(0.8)
