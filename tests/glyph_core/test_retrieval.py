"""The retrieval index's ranking: cosine alone, or cosine plus the query's belief in each glyph's label."""

from __future__ import annotations

import numpy as np
import pytest

from glyph_core.retrieval import RetrievalIndex, label_belief, ranking_scores


def small_index() -> RetrievalIndex:
    features = np.array([[1, 0], [0.8, 0.6], [0.6, 0.8], [0, 1]], dtype=np.float32)
    return RetrievalIndex(
        glyph_id=np.arange(4), font=np.array([0, 1, 1, 2]), split=np.array([0, 0, 1, 0]), label=np.array([5, 7, 7, 9]),
        twin_labels=np.full((4, 1), -1), features=features, top=np.zeros((4, 2), np.int64), top_probability=np.zeros((4, 2), np.float32),
        font_hashes=np.array(["a", "b", "c"]),
    )  # fmt: skip


def test_label_belief_reads_each_querys_top_k_and_is_zero_outside_it():
    belief = label_belief(np.array([[7, 5], [9, 7]]), np.array([[0.6, 0.3], [0.9, 0.05]]), np.array([5, 7, 9, 4]))
    np.testing.assert_allclose(belief, [[0.3, 0.6, 0.0, 0.0], [0.0, 0.05, 0.9, 0.0]])
    similarity = np.array([0.5, 0.4])
    assert ranking_scores(similarity, None, 2.0) is similarity and ranking_scores(similarity, np.ones(2), 0) is similarity
    np.testing.assert_allclose(ranking_scores(similarity, np.array([0.1, 0.5]), 0.5), [0.55, 0.65])


def test_nearest_ranks_by_cosine_or_by_cosine_plus_the_weighted_belief():
    index, query = small_index(), np.array([1.0, 0.0], np.float32)
    rows, similarity, score = index.nearest(query, 3)
    assert rows.tolist() == [0, 1, 2] and np.array_equal(similarity, score)
    # The query is sure it sees label 9: glyph 3 (cosine 0) overtakes the others at weight 2, not at 0.5.
    top = (np.array([9, 7]), np.array([0.9, 0.1], np.float32))
    rows, similarity, score = index.nearest(query, 2, query_top=top, label_weight=2.0)
    assert rows.tolist() == [3, 0] and score.tolist() == pytest.approx([1.8, 1.0]) and similarity[0] == pytest.approx(0.0)
    assert index.nearest(query, 2, query_top=top, label_weight=0.5)[0].tolist() == [0, 1]
    rows, _, _ = index.nearest(query, 4, exclude_font=1, splits=[0], query_top=top, label_weight=2.0)
    assert rows.tolist() == [3, 0]
    assert [len(a) for a in index.nearest(query, 3, exclude_font=0, splits=[2])] == [0, 0, 0]
