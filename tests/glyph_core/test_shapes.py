"""Core-letter shape similarity on hand-made masks."""

import numpy as np
import pytest

from glyph_core.shapes import CORE_LETTERS, shape_scores


def square(size: int, top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[top : top + side, left : left + side] = True
    return mask


LETTERS = ("a_isol", "b_isol", "c_isol")


def test_core_letters_are_the_28_isolated_letters():
    assert len(CORE_LETTERS) == len(set(CORE_LETTERS)) == 28
    assert all(label.endswith("_isol") for label in CORE_LETTERS)


def test_mean_iou_over_shared_letters():
    full = square(8, 0, 0, 4)  # 16 pixels
    half = square(8, 0, 0, 4)
    half[2:, :] = False  # 8 of them: IoU 0.5
    masks = {
        "x": {"a_isol": full, "b_isol": full, "c_isol": full},
        "y": {"a_isol": full, "b_isol": half},  # draws two of the three letters
        "z": {"a_isol": square(8, 4, 4, 4), "b_isol": square(8, 4, 4, 4), "c_isol": full},
    }
    scores = shape_scores(masks, min_letters=2, letters=LETTERS)
    assert scores.fonts == ("x", "y", "z")
    x, y, z = 0, 1, 2
    assert scores.score[x, y] == pytest.approx((1.0 + 0.5) / 2)  # c_isol is not shared
    assert scores.shared[x, y] == 2 and scores.shared[x, z] == 3
    assert scores.score[x, z] == pytest.approx((0 + 0 + 1) / 3)  # disjoint squares score 0
    assert np.array_equal(scores.score, scores.score.T) and np.all(np.diag(scores.score) == 0)


def test_too_few_shared_letters_never_score():
    full = square(8, 0, 0, 4)
    masks = {"x": {"a_isol": full, "b_isol": full}, "y": {"a_isol": full}}
    assert shape_scores(masks, min_letters=2, letters=LETTERS).score[0, 1] == 0
    assert shape_scores(masks, min_letters=1, letters=LETTERS).score[0, 1] == 1


def test_pairs_at_least_and_nearest_other_group():
    full, other = square(8, 0, 0, 4), square(8, 0, 0, 3)  # IoU 9/16
    masks = {"a": {"a_isol": full}, "b": {"a_isol": full}, "c": {"a_isol": other}}
    scores = shape_scores(masks, min_letters=1, letters=LETTERS)
    assert scores.pairs_at_least(0.9) == [("a", "b", 1.0, 1)]
    assert [p[:2] for p in scores.pairs_at_least(0.5)] == [("a", "b"), ("a", "c"), ("b", "c")]
    nearest = scores.nearest_other_group({"a": "ab", "b": "ab", "c": "c"})
    assert nearest == {"ab": (pytest.approx(9 / 16), "c"), "c": (pytest.approx(9 / 16), "ab")}
