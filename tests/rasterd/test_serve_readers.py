"""The service's readers without HTTP: a store, centroids and splits that appear while serving are
picked up by ``refresh()``; a store built from other inputs is reported stale and not used."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from glyph_core.paths import OutputLayout
from glyph_core.store import open_store
from rasterd.app.errors import CentroidsMissing
from rasterd.app.readers import Readers
from rasterd.app.settings import load_settings
from serve_fixtures import rasterizer_config, write_configs


def test_a_store_and_centroids_that_appear_are_served_after_refresh(served_build, small_glyphs_db, tmp_path):
    config = write_configs(tmp_path / "configs", rasterizer_config(small_glyphs_db, tmp_path / "outputs"))
    readers = Readers(load_settings(config))
    try:
        before = readers.snapshot
        assert before.store is None and before.statuses["rasters_store"].status == "missing"
        built_ids = open_store(served_build.layout.rasters_store, "rasters")["glyph_id"][:]
        glyph_id = int(built_ids[len(built_ids) // 2])
        row = before.row(glyph_id)
        rendered = before.packed(row).copy()
        assert before.metadata(row).source == "rendered" and before.metadata(row).split is None
        with pytest.raises(CentroidsMissing, match="glyph-train primitives"):
            before.require_primitives()
        assert readers.refresh() is False  # nothing changed

        target = OutputLayout.at(tmp_path / "outputs")
        shutil.copytree(served_build.layout.rasters_store, target.rasters_store)
        shutil.copytree(served_build.layout.meta, target.meta)
        target.primitives.mkdir(parents=True)
        shutil.copy(served_build.layout.centroids, target.centroids)
        assert readers.refresh() is True

        after = readers.snapshot
        assert after.statuses["rasters_store"].status == "ok" and after.content_tag == before.content_tag
        assert after.primitives is not None and after.statuses["grids_store"].status == "missing"
        row = after.row(glyph_id)
        assert after.is_built(row) and after.metadata(row).source == "store" and after.metadata(row).split is not None
        assert np.array_equal(after.packed(row), rendered)
        assert before.store is None  # the old snapshot is untouched: requests in flight keep their view
    finally:
        readers.close()


def test_a_store_from_other_inputs_is_stale_and_ignored(served_build, small_glyphs_db, tmp_path):
    ours = rasterizer_config(small_glyphs_db, tmp_path / "outputs")
    other = ours.model_copy(update={"labels": ours.labels.model_copy(update={"min_count": 4})})
    config = write_configs(tmp_path / "configs", other)
    shutil.copytree(served_build.layout.rasters_store, OutputLayout.at(tmp_path / "outputs").rasters_store)
    readers = Readers(load_settings(config))
    try:
        status = readers.snapshot.statuses["rasters_store"]
        assert status.status == "stale" and "rasterd build" in status.detail
        assert readers.snapshot.store is None and not (readers.snapshot.catalog.store_rows >= 0).any()
    finally:
        readers.close()
