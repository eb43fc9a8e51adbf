"""The store contract on real zarr stores on disk."""

import numpy as np
import pytest
import zarr

from glyph_core.store import (
    StoreError,
    create_store,
    finalize,
    open_store,
    pack_masks,
    read_masks,
    temporary_path,
    unpack_masks,
)

RASTER_ATTRS = {
    "config_hash": "c", "source_db_hash": "d", "build_id": "b1", "labels": ["a", "b"], "label_map_hash": "h",
    "fonts": ["f"], "char_classes": ["isol"], "canvas_size": 16, "cell_size": 8, "chunk_size": 4,
}  # fmt: skip


def test_pack_and_unpack_masks_round_trip():
    rng = np.random.default_rng(0)
    masks = (rng.random((5, 16, 16)) > 0.5).astype(np.uint8) * 255
    packed = pack_masks(masks)
    assert packed.shape == (5, 16, 2) and packed.dtype == np.uint8
    assert np.array_equal(unpack_masks(packed), masks)
    assert np.array_equal(unpack_masks(packed, value=1), masks // 255)


def test_store_is_invisible_until_finalized_and_then_validates(tmp_path):
    final = tmp_path / "rasters.zarr"
    temp = temporary_path(final)
    group = create_store(temp, "rasters", count=10, chunk_size=4, attrs=RASTER_ATTRS)
    masks = np.zeros((10, 16, 16), np.uint8)
    masks[:, 0, :3] = 255
    group["raster"][:] = pack_masks(masks)
    assert group["raster"].chunks == (4, 16, 2)
    with pytest.raises(StoreError, match="interrupted build"):
        open_store(final, "rasters")
    with pytest.raises(StoreError, match="not complete"):
        open_store(temp, "rasters")
    finalize(temp, final)
    assert not temp.exists()
    store = open_store(final, "rasters", expect={"build_id": "b1"})
    assert np.array_equal(read_masks(store, 2, 5), masks[2:5])


def test_finalize_drops_the_partial_file_a_killed_writer_left(tmp_path):
    final = tmp_path / "rasters.zarr"
    temp = temporary_path(final)
    group = create_store(temp, "rasters", count=4, chunk_size=4, attrs=RASTER_ATTRS)
    group["raster"][:] = pack_masks(np.zeros((4, 16, 16), np.uint8))
    stray = temp / "raster" / "c" / "0.5f3a.partial"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"half a chunk")
    finalize(temp, final)
    assert not list(final.rglob("*.partial"))
    assert open_store(final, "rasters")["raster"].shape == (4, 16, 2)


def test_mismatches_are_refused_with_what_differs(tmp_path):
    final = tmp_path / "rasters.zarr"
    create_store(temporary_path(final), "rasters", 3, 4, RASTER_ATTRS)
    finalize(temporary_path(final), final)
    with pytest.raises(StoreError, match=r"label_map_hash is 'h', expected 'other'"):
        open_store(final, "rasters", expect={"label_map_hash": "other"})
    with pytest.raises(StoreError, match="kind is 'rasters', expected 'grids'"):
        open_store(final, "grids")
    group = zarr.open_group(str(final), mode="r+")
    group.attrs["schema_version"] = 99
    with pytest.raises(StoreError, match="schema_version is 99"):
        open_store(final, "rasters")


def test_wrong_array_shape_and_missing_attrs_are_refused(tmp_path):
    with pytest.raises(StoreError, match="needs attrs: centroid_hash"):
        create_store(tmp_path / "g.zarr", "grids", 3, 4, {"rasters_build_id": "b", "label_map_hash": "h", "grid_side": 2, "cell_size": 8})
    final = tmp_path / "r.zarr"
    group = create_store(temporary_path(final), "rasters", 3, 4, RASTER_ATTRS)
    del group["bbox"]
    group.create_array("bbox", shape=(3, 2), dtype="float64")
    finalize(temporary_path(final), final)
    with pytest.raises(StoreError, match=r"array 'bbox' is float64\(3, 2\), expected float64\(3, 4\)"):
        open_store(final, "rasters")
