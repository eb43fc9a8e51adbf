"""Distillation from the pixel baseline: the softened, cut teacher targets, their batches, the loss and
the refusals of a teacher that cannot teach this run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from glyph_core.paths import OutputLayout
from glyph_train.errors import TrainingInputError
from glyph_train.phase2.heads import MarginCrossEntropy
from glyph_train.phase2.teacher import TeacherTargets, soften, teacher_checkpoint
from glyph_train.training import BEST, LAST, TrainingState


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_soften_keeping_every_label_is_the_tempered_softmax():
    logits = np.random.default_rng(0).normal(size=(5, 9)) * 3
    ids, probs = soften(logits, 2.0, 9)
    dense = np.zeros_like(logits)
    np.put_along_axis(dense, ids, probs, axis=1)
    np.testing.assert_allclose(dense, softmax(logits / 2.0), rtol=1e-5, atol=1e-7)
    assert (np.diff(probs, axis=1) <= 0).all()  # most likely first


def test_soften_keeps_the_top_k_in_their_proportions_and_renormalizes():
    logits = np.array([[0.0, 3.0, 1.0, 2.0, -1.0]])
    ids, probs = soften(logits, 1.0, 2)
    assert ids.tolist() == [[1, 3]]
    assert probs.sum() == pytest.approx(1.0)
    assert probs[0, 0] / probs[0, 1] == pytest.approx(math.e)


def test_dense_targets_follow_the_glyph_or_the_variant_drawn_in_its_place():
    # Two train rows (store rows 4 and 7), then two variants of each.
    ids = np.array([[0, 1], [2, 1], [3, 0], [3, 1], [1, 0], [2, 3]], dtype=np.int32)
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.5, 0.5], [0.8, 0.2], [0.55, 0.45]], dtype=np.float32)
    entry = np.full(10, -1, dtype=np.int64)
    entry[[4, 7]] = [0, 1]
    teacher = TeacherTargets(ids, probs, entry, variants_at=2, classes=4, model_hash="h")
    out = teacher.dense(np.array([4, 7, 4]), chosen=np.array([2]), picks=np.array([1]))
    np.testing.assert_allclose(out, [[0.9, 0.1, 0, 0], [0, 0.4, 0.6, 0], [0, 0.5, 0, 0.5]])
    with pytest.raises(KeyError, match="only train rows"):
        teacher.dense(np.array([5]), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


def test_distillation_loss_mixes_the_label_loss_with_the_tempered_kl_and_validation_gets_the_label_loss():
    rng = np.random.default_rng(3)
    student = rng.normal(size=(4, 6)).astype(np.float32)
    teacher = softmax(rng.normal(size=(4, 6)) / 2.0).astype(np.float32)
    sets = np.array([[0, -1], [1, 2], [3, -1], [5, -1]], dtype=np.int32)
    label_only = MarginCrossEntropy(6, 1.0, twin_aware=True)
    distilled = MarginCrossEntropy(6, 1.0, twin_aware=True, distill_weight=0.3, distill_temperature=2.0)
    plain = np.asarray(label_only(sets, student, sample_weight=None))
    log_q = np.log(softmax(student / 2.0))
    kl = (teacher * (np.log(teacher) - log_q)).sum(axis=1).mean()
    targets = np.concatenate([sets.astype(np.float32), teacher], axis=1)
    assert float(distilled(targets, student)) == pytest.approx(0.7 * float(plain) + 0.3 * 4.0 * kl, rel=1e-5)
    assert float(distilled(sets, student)) == pytest.approx(float(plain), rel=1e-6)  # no teacher columns: the label loss
    # Matching the teacher exactly leaves only the label part.
    exact = np.concatenate([sets.astype(np.float32), softmax(student / 2.0).astype(np.float32)], axis=1)
    assert float(distilled(exact, student)) == pytest.approx(0.7 * float(plain), rel=1e-5)
    assert MarginCrossEntropy.from_config(distilled.get_config()).distill_weight == 0.3


def _write_state(folder, finished: bool, **identity: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LAST).write_bytes(b"")
    (folder / BEST).write_bytes(b"")
    TrainingState(identity=identity, epoch=3, finished=finished).save(folder)


class _Source:
    build_id, label_map_hash = "build-a", "labels-a"


def test_a_teacher_is_refused_unless_it_is_a_finished_baseline_of_these_rasters(tmp_path):
    layout = OutputLayout.at(tmp_path)
    folder = layout.checkpoints("baseline")
    with pytest.raises(TrainingInputError, match="holds none: run `glyph-train baseline` first"):
        teacher_checkpoint(layout, _Source())
    _write_state(folder, finished=False, rasters_build_id="build-a", label_map_hash="labels-a")
    with pytest.raises(TrainingInputError, match="has not finished training"):
        teacher_checkpoint(layout, _Source())
    _write_state(folder, finished=True, rasters_build_id="build-b", label_map_hash="labels-a")
    with pytest.raises(TrainingInputError, match="rasters_build_id build-b, these rasters have build-a"):
        teacher_checkpoint(layout, _Source())
    _write_state(folder, finished=True, rasters_build_id="build-a", label_map_hash="labels-a")
    assert teacher_checkpoint(layout, _Source()) == folder / BEST
    assert json.loads((folder / "state.json").read_text())["finished"] is True
