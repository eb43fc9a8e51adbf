"""The error report's pure pieces: attribution, families, intervals, worst labels and the store checks."""

import numpy as np
import pytest

from glyph_train.analysis import errors, qa


def test_every_error_is_phase1_noise_or_composition_and_the_counts_add_up():
    end_to_end = np.array([1, 0, 0, 1, 0, 0, 1], bool)
    exact = np.array([1, 1, 0, 0, 0, 1, 1], bool)
    found = errors.attribute(end_to_end, exact)
    assert found.errors.tolist() == [1, 2, 4, 5]
    assert found.phase1_noise.tolist() == [1, 5] and found.composition.tolist() == [2, 4] and found.rescued.tolist() == [3]
    classes = np.array([0, 0, 1, 1, -1, 1, 0])
    table = errors.per_class_counts(found, classes, ["letter", "diacritic"])
    assert sum(r["errors"] for r in table) == 4
    assert all(r["errors"] == r[errors.PHASE1_NOISE] + r[errors.COMPOSITION] for r in table)
    assert {r["char_class"]: r["errors"] for r in table} == {"letter": 1, "diacritic": 2, "(unknown)": 1}


def test_alt_right_accepts_a_twin_and_never_the_padding():
    sets = np.array([[3, -1], [3, 5], [2, -1]])
    assert errors.alt_right(np.array([3, 5, -1]), sets).tolist() == [True, True, False]


def test_spherical_kmeans_finds_well_separated_directions_and_families_sort_by_size():
    rng = np.random.default_rng(0)
    directions = np.eye(3)
    truth = np.repeat([0, 1, 2], [10, 6, 3])
    features = directions[truth] + 0.05 * rng.standard_normal((len(truth), 3))
    assign = errors.spherical_kmeans(features, 3, seed=1)
    assert len({tuple(np.unique(assign[truth == t])) for t in range(3)}) == 3  # each true group in one cluster of its own
    labels = ["a", "b", "c", "d"]
    found = errors.families(assign, truth, (truth + 1) % 4, labels)
    assert [f["size"] for f in found] == [10, 6, 3]
    assert found[0]["pairs"] == [{"true": "a", "predicted": "b", "count": 10}]
    assert errors.spherical_kmeans(features[:2], 5, seed=1).max() <= 1  # never more clusters than rows
    assert errors.spherical_kmeans(np.zeros((0, 3)), 4, seed=1).shape == (0,)


def test_wilson_interval_matches_the_closed_form_and_stays_in_bounds():
    low, high = errors.wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert errors.wilson(0, 5)[0] == 0.0 and errors.wilson(5, 5)[1] == 1.0
    assert errors.wilson(0, 0) is None


def test_per_design_and_worst_labels_sort_worst_first():
    right = np.array([1, 1, 0, 0, 1, 0], bool)
    design = np.array([0, 0, 1, 1, 1, 0])
    rows = errors.per_design(right, design, ["naskh", "kufi"])
    assert [r["design"] for r in rows] == ["kufi", "naskh"] and rows[0]["glyphs"] == 3
    true = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 0, 2, 2, 1, 0])
    worst = errors.worst_labels(right, true, predicted, ["alef", "beh", "teh"], top=5, min_glyphs=2)
    assert [w["label"] for w in worst] == ["beh", "alef"]  # teh has one glyph: left out
    assert worst[0]["most_often_read_as"] == {"label": "teh", "count": 2} and worst[1]["most_often_read_as"] is None


def ring(size: int = 16, hole: bool = True) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    mask[3:12, 3:12] = 1
    if hole:
        mask[6:9, 6:9] = 0
    return mask


def test_counters_are_holes_that_do_not_reach_the_border():
    open_c = ring()
    open_c[6:9, 9:] = 0  # a gap to the outside: a bay, not a hole
    edge = np.zeros((16, 16), np.uint8)
    edge[0:5, 0:5] = 1
    edge[0, 2] = 0  # background on the border inside the ink box is still outside
    assert qa.counter_holes(np.stack([ring(), ring(hole=False), open_c, edge])).tolist() == [1, 0, 0, 0]
    two = ring(24)
    two[3:20, 3:20] = 1
    two[5:8, 5:8] = 0
    two[12:15, 12:15] = 0
    assert qa.counter_holes(two[None]).tolist() == [2]


def test_sizes_are_checked_against_each_rows_target():
    masks = np.zeros((3, 16, 16), np.uint8)
    masks[0, :16, 2:5] = 1  # spans the canvas
    masks[1, 0:8, 0:3] = 1  # a mark of target 8
    masks[2, 0:11, 0:2] = 1  # a glyph that should span 16 but spans 11
    extent = qa.ink_extent(masks)
    assert extent.tolist() == [16, 8, 11]
    assert qa.ink_extent(np.zeros((1, 4, 4), np.uint8)).tolist() == [0]
    check = qa.size_check(extent, np.array([16, 8, 16]), np.array([False, True, False]), tolerance=2)
    assert check["marks"] == {"glyphs": 1, "share_ok": 1.0, "targets": [8], "min": 8, "max": 8}
    assert check["glyphs"]["share_ok"] == 0.5 and check["glyphs"]["min"] == 11


def test_split_integrity_names_groups_and_fonts_in_two_splits():
    manifest = {"splits": {"train": {"naskh": ["f1", "f2"]}, "val": {"kufi": ["f3"]}, "test": {"sans": ["f4"]}}}
    clean = qa.split_integrity(manifest, [("f1", "train"), ("f2", "train"), ("f3", "val"), ("f4", "test")])
    assert clean["ok"] and clean["groups"] == {"test": 1, "train": 1, "val": 1} and clean["fonts"] == 4
    leaky = {"splits": {**manifest["splits"], "test": {"sans": ["f4"], "naskh": ["f5"]}}}
    found = qa.split_integrity(leaky, [("f1", "train"), ("f3", "val"), ("f3", "test"), ("f2", "val")])
    assert not found["ok"]
    assert found["groups_in_two_splits"] == ["naskh"] and found["fonts_in_two_splits"] == ["f3"]
    assert found["fonts_off_their_manifest_split"] == ["f2", "f3"]
