"""Glyph-level inputs: size cues, token noise, the resumable stream (the augmented variants: test_variants.py)."""

from __future__ import annotations

import numpy as np
import pytest

from glyph_train.data.glyph_stream import GlyphBatches, add_token_noise
from glyph_train.data.glyphs import size_cues


def test_size_cues_by_hand():
    # A tall bar 100 units wide, 700 high, from -50 to 650, in a font whose em height is 1000.
    bbox = np.array([[10.0, -50.0, 110.0, 650.0], [0.0, 0.0, 0.0, 0.0]])
    cues = size_cues(bbox, np.array([0.7, 0.0]), np.array([False, True]))
    np.testing.assert_allclose(cues[0], [0.7, np.log((100 + 1) / (700 + 1)), -0.05, 0.65, 0.0], rtol=1e-5)
    assert np.isfinite(cues[1]).all() and cues[1, 4] == 1.0  # an empty outline gives finite cues


def test_token_noise_touches_only_ink_cells_at_the_asked_rate():
    rng = np.random.default_rng(0)
    grids = np.zeros((200, 16, 16), dtype=np.int32)
    grids[:, :8] = rng.integers(1, 100, (200, 8, 16))
    noisy = add_token_noise(grids, 0.02, 0.05, 100, np.random.default_rng(1))
    changed = noisy != grids
    assert not changed[grids == 0].any()
    assert 0.015 < changed.sum() / (grids != 0).sum() < 0.05
    assert noisy.min() >= 0 and noisy.max() < 100 and (noisy[grids != 0] != 0).all()
    assert add_token_noise(grids, 0.0, 0.0, 100, rng) is grids


def test_the_stream_is_seeded_and_resumes_at_the_same_batch():
    rows = np.arange(100, 150)
    prepare = lambda r, rng: (r.copy(), rng.integers(0, 1000))  # noqa: E731
    full = GlyphBatches(rows, 8, seed=3, prepare=prepare)
    first = [b for _, b in zip(range(14), full)]
    again = [b for _, b in zip(range(14), GlyphBatches(rows, 8, seed=3, prepare=prepare))]
    resumed = [b for _, b in zip(range(4), GlyphBatches(rows, 8, seed=3, prepare=prepare, start_batch=10))]
    for x, y in zip(first, again):
        assert np.array_equal(x[0], y[0]) and x[1] == y[1]
    for x, y in zip(first[10:], resumed):
        assert np.array_equal(x[0], y[0]) and x[1] == y[1]
    per_pass = np.concatenate([b[0] for b in first[:6]])  # 6 batches of 8 per pass of 50 rows
    assert len(np.unique(per_pass)) == 48
    with pytest.raises(ValueError, match="cannot fill one batch"):
        GlyphBatches(rows[:4], 8, seed=0, prepare=prepare)


def test_token_noise_draws_from_phase1s_measured_confusions():
    from glyph_train.data.token_confusion import measure_confusions

    rng = np.random.default_rng(3)
    vocab = 50
    exact = rng.integers(1, vocab, (300, 16, 16)).astype(np.int32)
    exact[:, 8:] = 0
    predicted = exact.copy()
    # Phase 1 turns 7 into 8 (three times in four) or 9, never anything else; 20 it never gets wrong.
    sevens = np.argwhere(exact == 7)
    for i, (g, r, c) in enumerate(sevens):
        predicted[g, r, c] = 9 if i % 4 == 0 else 8
    predicted[exact == 11] = 0  # a cell lost to empty is no token swap
    confusions = measure_confusions(exact, predicted, vocab)
    assert confusions.confused_share == pytest.approx(len(sevens) / (exact != 0).sum())
    grids = np.zeros((400, 16, 16), np.int32)
    grids[:, :4] = 7
    grids[:, 4:8] = 20
    noisy = add_token_noise(grids, 0.2, 0.3, vocab, np.random.default_rng(4), confusions)
    from_seven = noisy[(grids == 7) & (noisy != grids)]
    assert set(np.unique(from_seven)) == {8, 9}
    assert 0.68 < (from_seven == 8).mean() < 0.82
    from_twenty = noisy[(grids == 20) & (noisy != grids)]  # never confused: any other non-empty id
    assert len(np.unique(from_twenty)) > 30 and not (from_twenty == 20).any() and from_twenty.min() >= 1
    assert (noisy[grids == 0] == 0).all()
