"""Ranking and strict shares shared by Phase 2, the joint model and the baseline."""

import numpy as np

from glyph_train.predict import format_share, predict_logits, strict_shares, top_k


def test_top_k_ranks_best_first_and_breaks_ties_by_the_lower_id():
    logits = np.array([[0.1, 0.9, 0.5, 0.9], [3.0, 2.0, 1.0, 0.0]])
    assert top_k(logits, 3).tolist() == [[1, 3, 2], [0, 1, 2]]
    assert top_k(logits, 10).shape == (2, 4)  # k is capped at the class count


def test_top_k_agrees_with_argmax_and_a_stable_sort_on_heavily_tied_scores():
    # int8 models quantize their outputs: many scores tie, also at the k-th place.
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, (500, 60)).astype(np.float32)
    ranked = top_k(scores, 5)
    assert np.array_equal(ranked[:, 0], scores.argmax(axis=1))
    assert np.array_equal(ranked, np.argsort(-scores, axis=1, kind="stable")[:, :5])


def test_strict_shares_count_only_the_true_label():
    ranked = np.array([[3, 1, 2], [0, 3, 4], [5, 6, 7]])
    assert strict_shares(ranked, np.array([3, 3, 1])) == {"glyphs": 3, "top1_strict": 1 / 3, "top3_strict": 2 / 3}
    assert strict_shares(ranked[:0], np.array([], dtype=np.int64)) == {"glyphs": 0, "top1_strict": None, "top3_strict": None}
    assert (format_share(None), format_share(0.25)) == ("-", "0.2500")


def _doubler(dict_io: bool):
    """A real Keras model whose logits are twice its input (a fixed Dense layer)."""
    import keras

    inp = keras.Input((2,), name="x")
    dense = keras.layers.Dense(2, kernel_initializer=keras.initializers.Identity(2.0), bias_initializer="zeros")
    out = dense(inp)
    if dict_io:
        return keras.Model({"x": inp}, {"logits": out, "aux": keras.layers.Dense(1)(out)})
    return keras.Model(inp, out)


def test_predict_logits_batches_arrays_and_dicts_in_order():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    plain = _doubler(False)
    assert np.allclose(predict_logits(plain, x, 3), x * 2)
    assert np.allclose(predict_logits(_doubler(True), {"x": x}, 4), x * 2)  # the dict's `logits` entry
    assert predict_logits(plain, x[:0], 3).shape == (0, 0)
