"""Glyph metrics on a hand-made prediction set whose every number is worked out below."""

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from glyph_train.evaluate.metrics import (
    CHAR_CLASS,
    DESIGN,
    MARKS,
    FONT,
    LIGATURES,
    UNKNOWN_GROUP,
    Grouping,
    design_intervals,
    glyph_metrics,
    map_labels,
    split_unknown,
    to_label_space,
    twin_counts,
)

NUM_CLASSES = 7  # labels 0..3 are true somewhere; 4, 5, 6 are only ever predicted
# row: true, top-5 best first, twins        | strict1 alt1 strict5 alt5 | twins
ROWS = [
    (0, [0, 1, 2, 3, 4], [-1, -1]),  # 0      |   1      1      1     1   | 0
    (0, [1, 0, 2, 3, 4], [1, -1]),  # 1       |   0      1      1     1   | 1  (twin predicted)
    (1, [0, 2, 3, 4, 1], [0, -1]),  # 2       |   0      1      1     1   | 1  (twin predicted)
    (1, [2, 3, 4, 5, 6], [0, 3]),  # 3        |   0      0      0     1   | 2  (twin 3 in the top 5)
    (2, [2, 0, 1, 3, 4], [-1, -1]),  # 4      |   1      1      1     1   | 0
    (2, [4, 5, 6, 0, 1], [-1, -1]),  # 5      |   0      0      0     0   | 0
    (3, [2, 0, 1, 4, 5], [-1, -1]),  # 6      |   0      0      0     0   | 0
    (3, [3, 0, 1, 2, 4], [2, 2]),  # 7        |   1      1      1     1   | 1  (one twin, listed twice)
    (1, [2, 1, 0, 3, 4], [-1, -1]),  # 8      |   0      0      1     1   | 0
    (0, [5, 6, 4, 0, 1], [-1, -1]),  # 9      |   0      0      1     1   | 0
]
TRUE = np.array([r[0] for r in ROWS])
TOPK = np.array([r[1] for r in ROWS])
TWINS = np.array([r[2] for r in ROWS])
FONTS = Grouping(np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1]), ["Amiri", "Noto", "Scheherazade"])
DESIGNS = Grouping(np.array([0, 0, 0, 0, 1, 1, 1, -1, -1, 0]), ["naskh", "kufi"])
CLASSES = Grouping(np.array([0, 0, 0, 1, 0, 0, 1, 1, 0, -1]), ["letter", "diacritic", "ligature"])


def metrics(topk=TOPK, min_group_size=3, top_confusions=3):
    return glyph_metrics(
        topk, TRUE, TWINS, NUM_CLASSES,
        breakdowns={CHAR_CLASS: CLASSES, FONT: FONTS, DESIGN: DESIGNS},
        subsets={MARKS: CLASSES.ids == 1, LIGATURES: CLASSES.ids == 2},
        min_group_size=min_group_size, top_confusions=top_confusions,
    )  # fmt: skip


def plain_json_types(value) -> bool:
    """True when the value holds only what json writes natively (no numpy scalars, no NaN)."""
    if isinstance(value, dict):
        return all(type(k) is str and plain_json_types(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_json_types(v) for v in value)
    if type(value) is float:
        return value == value
    return type(value) in (int, str, bool, type(None))


def test_accuracies_and_ceilings():
    m = metrics()
    assert m["count"] == 10
    assert m["top1_strict"] == pytest.approx(3 / 10)
    assert m["top1_alt"] == pytest.approx(5 / 10)
    assert m["top5_strict"] == pytest.approx(7 / 10)
    assert m["top5_alt"] == pytest.approx(8 / 10)
    assert m["twin_free_share"] == pytest.approx(6 / 10)
    assert m["expected_strict_ceiling"] == pytest.approx((6 * 1 + 3 * 1 / 2 + 1 / 3) / 10)


def test_twin_counts_ignore_padding_repeats_and_the_true_label():
    assert twin_counts(TRUE, TWINS).tolist() == [0, 1, 1, 2, 0, 0, 0, 1, 0, 0]
    assert twin_counts(np.array([4]), np.array([[4, 7, -1]])).tolist() == [1]


def test_top5_uses_what_there_is_when_k_is_smaller():
    m = metrics(topk=TOPK[:, :2])
    assert m["top5_strict"] == pytest.approx(5 / 10)  # rows 0, 1, 4, 7, 8
    assert m["top5_alt"] == pytest.approx(7 / 10)  # and rows 2, 3 by a twin
    assert m["top1_alt"] == pytest.approx(5 / 10)


def test_f1_by_hand_and_against_sklearn():
    m = metrics()
    # strict top-1 = [0,1,0,2,2,4,2,3,2,5]: F1 per class 0..3 = 2/5, 0, 1/3, 2/3 (support 3, 3, 2, 2)
    assert m["macro_f1"] == pytest.approx((0.4 + 0 + 1 / 3 + 2 / 3) / 4)
    assert m["weighted_f1"] == pytest.approx((3 * 0.4 + 3 * 0 + 2 / 3 + 4 / 3) / 10)
    # twins forgiven (rows 1 and 2): F1 = 4/5, 1/2, 1/3, 2/3
    assert m["macro_f1_alt"] == pytest.approx((0.8 + 0.5 + 1 / 3 + 2 / 3) / 4)
    top1, present = TOPK[:, 0], np.unique(TRUE)
    assert m["macro_f1"] == pytest.approx(f1_score(TRUE, top1, labels=present, average="macro"))
    assert m["weighted_f1"] == pytest.approx(f1_score(TRUE, top1, average="weighted", zero_division=0))
    forgiven = np.array([0, 0, 1, 2, 2, 4, 2, 3, 2, 5])
    assert m["macro_f1_alt"] == pytest.approx(f1_score(TRUE, forgiven, labels=present, average="macro"))


def test_breakdowns_list_present_groups_and_summarize_large_known_ones():
    m = metrics()
    fonts = m["breakdowns"][FONT]
    assert fonts["groups"] == [  # Scheherazade has no row here, so no group
        {"name": "Amiri", "count": 5, "top1_strict": pytest.approx(1 / 5), "top1_alt": pytest.approx(3 / 5)},
        {"name": "Noto", "count": 5, "top1_strict": pytest.approx(2 / 5), "top1_alt": pytest.approx(2 / 5)},
    ]
    designs = m["breakdowns"][DESIGN]
    assert [(g["name"], g["count"], g["top1_alt"]) for g in designs["groups"]] == [
        ("naskh", 5, pytest.approx(3 / 5)), ("kufi", 3, pytest.approx(1 / 3)), (UNKNOWN_GROUP, 2, pytest.approx(1 / 2)),
    ]  # fmt: skip
    # the unknown design is never a design of the spread
    assert designs["summary"] == {
        "groups": 2, "min_group_size": 3, "mean": pytest.approx((3 / 5 + 1 / 3) / 2),
        "std": pytest.approx((3 / 5 - 1 / 3) / 2), "min": pytest.approx(1 / 3), "max": pytest.approx(3 / 5),
    }  # fmt: skip
    classes = m["breakdowns"][CHAR_CLASS]["groups"]
    assert [(g["name"], g["count"], g["top1_strict"], g["top1_alt"]) for g in classes] == [
        ("letter", 6, pytest.approx(2 / 6), pytest.approx(4 / 6)),
        ("diacritic", 3, pytest.approx(1 / 3), pytest.approx(1 / 3)),
        (UNKNOWN_GROUP, 1, 0.0, 0.0),
    ]


def test_summary_leaves_out_small_groups_and_is_none_without_any():
    assert metrics(min_group_size=4)["breakdowns"][DESIGN]["summary"] == {
        "groups": 1, "min_group_size": 4, "mean": pytest.approx(3 / 5), "std": 0.0, "min": pytest.approx(3 / 5), "max": pytest.approx(3 / 5),
    }  # fmt: skip
    summary = metrics(min_group_size=6)["breakdowns"][DESIGN]["summary"]
    assert summary == {"groups": 0, "min_group_size": 6, "mean": None, "std": None, "min": None, "max": None}


def test_subsets_and_none_when_empty():
    m = metrics()
    assert m["subsets"][MARKS] == {
        "count": 3, "top1_strict": pytest.approx(1 / 3), "top1_alt": pytest.approx(1 / 3), "top5_alt": pytest.approx(2 / 3),
    }  # fmt: skip
    assert m["subsets"][LIGATURES] == {"count": 0, "top1_strict": None, "top1_alt": None, "top5_alt": None}


def test_per_class_alt_accuracy():
    assert metrics()["per_class"] == {
        "label": [0, 1, 2, 3],
        "count": [3, 3, 2, 2],
        "top1_alt": [pytest.approx(2 / 3), pytest.approx(1 / 3), 0.5, 0.5],
    }


def test_top_confusions_skip_twin_predictions_and_sort_by_count_then_ids():
    # alt-aware errors: (1,2) rows 3 and 8; (2,4), (3,2), (0,5) once; rows 1 (0->1) and 2 (1->0) are twins
    assert metrics(top_confusions=3)["top_confusions"] == [
        {"true": 1, "predicted": 2, "count": 2},
        {"true": 0, "predicted": 5, "count": 1},
        {"true": 2, "predicted": 4, "count": 1},
    ]
    assert len(metrics(top_confusions=10)["top_confusions"]) == 4


def test_result_is_plain_json():
    m = metrics()
    assert plain_json_types(m)
    json.dumps(m, allow_nan=False)


def test_empty_split_gives_none_not_nan():
    m = glyph_metrics(np.zeros((0, 5), dtype=int), np.zeros(0, dtype=int), np.zeros((0, 2), dtype=int), NUM_CLASSES,
                      breakdowns={FONT: Grouping(np.zeros(0, dtype=int), ["Amiri"])}, subsets={MARKS: np.zeros(0, dtype=bool)},
                      min_group_size=1, top_confusions=5)  # fmt: skip
    assert m["count"] == 0
    for key in ("top1_strict", "top1_alt", "top5_strict", "top5_alt", "twin_free_share", "expected_strict_ceiling", "macro_f1", "weighted_f1", "macro_f1_alt"):
        assert m[key] is None, key
    assert m["breakdowns"][FONT]["groups"] == [] and m["top_confusions"] == []
    assert plain_json_types(m)


def test_labels_of_an_external_store_in_the_model_space():
    names_from = ["b", "zz", "a", "c", "yy", "xx"]
    mapping = map_labels(names_from, ["a", "b", "c"])
    assert mapping.tolist() == [1, -1, 0, 2, -1, -1]
    true_from = np.array([0, 1, 2, 4, 1, 5, 3, 4])
    known, unknown = split_unknown(true_from, mapping, names_from)
    assert known.tolist() == [True, False, True, False, False, False, True, False]
    assert unknown["rows"] == 5
    assert list(unknown["labels"].items()) == [("yy", 2), ("zz", 2), ("xx", 1)]  # count desc, then name
    assert to_label_space(true_from[known], mapping).tolist() == [1, 0, 2]
    twins_from = np.array([[1, -1], [4, 2], [5, 0]])
    assert to_label_space(twins_from, mapping).tolist() == [[-1, -1], [-1, 0], [-1, 1]]


def test_design_intervals_resample_designs_not_glyphs():
    # Three designs of 100 glyphs at 90%, 50% and 10%: the overall 50% is very uncertain at the design level.
    design = np.repeat([0, 1, 2], 100)
    hits = np.concatenate([np.arange(100) < 90, np.arange(100) < 50, np.arange(100) < 10]).astype(float)
    out = design_intervals(design, {"top1": hits}, resamples=2000, seed=1)
    low, high = out["top1"]
    assert out["designs"] == 3 and low < 0.25 and high > 0.75  # a glyph-level interval would be about +-6 points
    same = design_intervals(design, {"top1": np.ones(300)}, resamples=200)
    assert same["top1"] == [1.0, 1.0]
    assert design_intervals(np.zeros(10, int), {"top1": np.ones(10)}, resamples=200)["top1"] is None  # one design: no interval
    again = design_intervals(design, {"top1": hits}, resamples=2000, seed=1)
    assert again == out  # seeded


def test_metrics_carry_intervals_over_the_design_breakdown():
    m = metrics()
    assert m["intervals"]["designs"] == 3  # naskh, kufi and the unknown design
    for key in ("top1_strict", "top1_alt", "top5_strict", "top5_alt"):
        low, high = m["intervals"][key]
        assert 0 <= low <= m[key] <= high <= 1
