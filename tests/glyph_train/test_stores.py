"""Reading stores through glyph-core's contract: what differs is named, and the remedy too."""

import json

import numpy as np
import pytest
import zarr

from glyph_core.store import StoreError

from glyph_train.data.stores import check_identity
from glyph_core.rasters import open_rasters
from glyph_core.primitives import load_centroids


def test_open_rasters_reads_the_contract(rasters_layout):
    source = open_rasters(rasters_layout)
    assert source.count == len(source.split) == len(source.is_diacritic) > 1000
    assert source.grid_side == 16 and source.chunk_size == 256
    assert sum(len(source.rows_of(s)) for s in ("train", "val", "test")) == source.count
    rows, masks = next(source.iter_rows(source.rows_of("val")))
    assert masks.shape == (len(rows), 128, 128) and set(np.unique(masks)) <= {0, 1}


def test_a_store_of_another_schema_or_build_is_refused(rasters_layout):
    group = zarr.open_group(str(rasters_layout.rasters_store), mode="r+")
    build = group.attrs["build_id"]
    with pytest.raises(StoreError, match="build_id is"):
        open_rasters(rasters_layout, expect={"build_id": "0" * 32})
    group.attrs["schema_version"] = 99
    with pytest.raises(StoreError, match="schema_version is 99"):
        open_rasters(rasters_layout, expect={"build_id": build})


def test_a_label_map_of_another_build_is_refused(rasters_layout):
    labels = json.loads(rasters_layout.label_map.read_text())
    labels["zzz_not_in_store"] = len(labels)
    rasters_layout.label_map.write_text(json.dumps(labels))
    with pytest.raises(StoreError, match="label_map.json .*differs from the rasters store's.*rasterd build"):
        open_rasters(rasters_layout)
    group = zarr.open_group(str(rasters_layout.rasters_store), mode="r+")
    group.attrs["labels"] = group.attrs["labels"][:-1]
    with pytest.raises(StoreError, match="labels hash to"):
        open_rasters(rasters_layout)


def test_missing_or_misshapen_centroids_name_the_command(rasters_layout):
    with pytest.raises(FileNotFoundError, match="glyph-train primitives"):
        load_centroids(rasters_layout.centroids, 8)
    rasters_layout.primitives.mkdir(parents=True)
    np.save(rasters_layout.centroids, np.zeros((31, 16), dtype=np.float32))
    with pytest.raises(StoreError, match=r"\(31, 16\) do not fit .* 8x8 cells"):
        load_centroids(rasters_layout.centroids, 8)


def test_identity_mismatch_names_each_difference():
    with pytest.raises(StoreError, match="centroid_hash is aaa, expected bbb; set resume"):
        check_identity("checkpoint x", {"centroid_hash": "aaa", "rasters_build_id": "1"},
                       {"centroid_hash": "bbb", "rasters_build_id": "1"}, "set resume: false")  # fmt: skip
