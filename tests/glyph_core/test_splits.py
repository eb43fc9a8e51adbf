"""Design groups and group-disjoint splits."""

import pytest

from glyph_core.splits import FontSplit, design_groups, normalize_family, split_groups


def test_normalize_family_removes_instance_words():
    assert normalize_family("Noto Sans Arabic UI") == "noto sans arabic"
    assert normalize_family("Noto Sans Arabic ExtraCondensed SemiBold") == "noto sans arabic"
    assert normalize_family("Noto Sans Arabic Extra Condensed Semi Bold") == "noto sans arabic"
    assert normalize_family("Amiri Quran") == "amiri quran"
    assert normalize_family("Bold") is None and normalize_family(None) is None


def test_groups_merge_by_family_and_by_outline_identity():
    families = {"a1": "Amiri", "a2": "Amiri Bold", "q": "Amiri Quran", "n": "Noto Naskh Arabic", "x": None, "y": None}
    keys = {
        "a1": {"k1", "k2", "k3", "k4"},
        "a2": {"b1", "b2"},
        "q": {"k1", "k2", "k3", "z9"},  # three of four outlines identical to Amiri -> same design
        "n": {"n1", "n2", "k1"},  # one shared outline of three is not enough
        "x": {"x1", "x2"},
        "y": {"x1", "x2", "y3"},  # no family names: identity alone
    }
    groups = design_groups(families, keys, identity_share=0.5).groups
    assert groups["a1"] == groups["a2"] == groups["q"] == "amiri"
    assert groups["n"] == "noto naskh arabic"
    assert groups["x"] == groups["y"] and groups["x"].startswith("font ")
    assert len(set(groups.values())) == 3


def test_split_is_seeded_group_disjoint_and_round_trips():
    font_groups = {f"font{i}": f"design{i // 3}" for i in range(60)}  # 20 designs of 3 fonts
    split = split_groups(font_groups, (0.8, 0.1, 0.1), seed=7)
    assert [len(split.groups[s]) for s in ("train", "val", "test")] == [16, 2, 2]
    assert split == split_groups(font_groups, (0.8, 0.1, 0.1), seed=7)
    assert split != split_groups(font_groups, (0.8, 0.1, 0.1), seed=8)
    owner = split.split_of_font()
    for font, group in font_groups.items():
        assert all(owner[other] == owner[font] for other, g in font_groups.items() if g == group)
    assert FontSplit.from_json(split.to_json()) == split


def test_small_sets_still_fill_every_split_and_overlap_is_refused():
    split = split_groups({"a": "g1", "b": "g2", "c": "g3"}, (0.8, 0.1, 0.1), seed=0)
    assert all(len(split.groups[s]) == 1 for s in ("train", "val", "test"))
    bad = FontSplit(seed=0, groups={"train": {"g1": ["a"]}, "val": {"g1": ["b"]}, "test": {}})
    with pytest.raises(ValueError, match="design group 'g1' is in both train and val"):
        bad.check_disjoint()
    bad = FontSplit(seed=0, groups={"train": {"g1": ["a"]}, "val": {"g2": ["a"]}, "test": {}})
    with pytest.raises(ValueError, match="font 'a' is in both"):
        bad.check_disjoint()


def test_shape_pairs_merge_and_every_merge_says_why():
    families = {"alk": "Alkalami", "alk_l": "Alkalami Light", "ruw": "Ruwudu", "amiri": "Amiri", "q": "Amiri Quran"}
    keys = {"alk": {"k1"}, "alk_l": {"k2"}, "ruw": {"k3"}, "amiri": {"a1", "a2"}, "q": {"a1", "a2"}}
    shapes = [("alk_l", "ruw", 0.97, 28), ("alk", "ruw", 0.45, 28)]  # only pairs above the threshold are passed
    designs = design_groups(families, keys, identity_share=0.5, shape_pairs=shapes[:1])
    assert designs.groups["alk"] == designs.groups["alk_l"] == designs.groups["ruw"] == "alkalami"
    assert designs.groups["amiri"] == designs.groups["q"] == "amiri"
    by_rule = {m.rule: m for m in designs.merges}
    assert by_rule.keys() == {"name", "outlines", "shape"} and len(designs.merges) == 3  # one per join of two groups
    assert by_rule["shape"].fonts == ("alk_l", "ruw") and by_rule["shape"].score == 0.97
    assert by_rule["shape"].to_json() == {
        "fonts": ["alk_l", "ruw"], "families": ["Alkalami Light", "Ruwudu"], "rule": "shape", "score": 0.97, "letters": 28,
    }  # fmt: skip
    assert by_rule["outlines"].score == 1.0
    assert set(designs.merges_by_group()) == {"alkalami", "amiri"}
    # A pair already joined by name adds no merge of its own.
    again = design_groups(families, keys, identity_share=0.5, shape_pairs=[("alk", "alk_l", 0.9, 28), *shapes[:1]])
    assert [m.rule for m in again.merges].count("shape") == 1


def test_merges_survive_the_manifest_round_trip():
    split = split_groups({"f1": "g1", "f2": "g1", "f3": "g2", "f4": "g3"}, (0.34, 0.33, 0.33), seed=1)
    merges = {"g1": [{"fonts": ["f1", "f2"], "families": ["A", "A Bold"], "rule": "name", "score": 1.0}]}
    with_merges = FontSplit(split.seed, split.groups, merges)
    assert FontSplit.from_json(with_merges.to_json()) == with_merges
    assert FontSplit.from_json(split.to_json()).merges == {}
