"""The bundle contract without models: manifest reading and its refusals, store matching, the runtime's
pure helpers (the LiteRT round trip itself is tested on a trained small store, in glyph_train)."""

import json

import numpy as np
import pytest

from glyph_core.bundle import MANIFEST, BundleError, BundleManifest, RasterPolicy, read_manifest, store_mismatches
from glyph_core.cues import SIDE_FEATURES
from glyph_core.recognizer import softmax, unit_rows


def manifest() -> BundleManifest:
    return BundleManifest(
        name="b", created="2026-12-02T00:00:00Z",
        raster=RasterPolicy(canvas_size=128, cell_size=8, grid_side=16, side_features=list(SIDE_FEATURES)),
        classes=3, primitives=8, feature_dim=4, rasters_build_id="build", label_map_hash="labels", centroid_hash="cents",
        phase1_model_hash="p1", phase2_model_hash="p2", precisions={},
    )  # fmt: skip


def test_manifest_round_trips_and_bad_ones_are_refused_with_the_reason(tmp_path):
    with pytest.raises(BundleError, match="no bundle .* run `glyph-train export`"):
        read_manifest(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(BundleError, match="unreadable"):
        read_manifest(tmp_path)
    data = manifest().model_dump(mode="json")
    (tmp_path / MANIFEST).write_text(json.dumps(data))
    assert read_manifest(tmp_path) == manifest()
    (tmp_path / MANIFEST).write_text(json.dumps(data | {"surprise": 1}))
    with pytest.raises(BundleError, match="surprise"):
        read_manifest(tmp_path)


def test_store_mismatches_name_every_difference():
    attrs = {"build_id": "build", "label_map_hash": "labels", "canvas_size": 128, "cell_size": 8}
    assert store_mismatches(manifest(), attrs, "cents") == []
    problems = store_mismatches(manifest(), attrs | {"label_map_hash": "other", "canvas_size": 64}, "else")
    assert [p.split(":")[0] for p in problems] == ["label_map_hash", "canvas_size", "centroid_hash"]
    assert "the bundle has 128, the store 64" in problems[1]


def test_softmax_and_unit_rows():
    p = softmax(np.array([[0.0, 0.0], [1000.0, 0.0]], np.float32))
    np.testing.assert_allclose(p, [[0.5, 0.5], [1.0, 0.0]], atol=1e-6)
    u = unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(u, [[0.6, 0.8], [0.0, 0.0]])
