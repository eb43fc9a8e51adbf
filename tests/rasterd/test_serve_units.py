"""Pure parts of `rasterd serve` on hand-made inputs: encoders, cursor, ETags, settings, errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from starlette.requests import Request

from glyph_core.api_models import RasterJson, mask_from_rows, rows_from_mask
from glyph_core.config import ConfigError, RasterizerConfig, load_config
from glyph_core.serve_config import RasterdConfig
from rasterd.app.dependencies import GlyphFilters, HttpCache, decode_cursor, encode_cursor
from rasterd.app.encoders import grid_picture, npy_bytes, png_from_packed, png_gray, primitive_sheet
from rasterd.app.errors import BadCursor, GlyphNotFound, PayloadTooLarge, status_and_code
from rasterd.app.readers.cache import LruCache
from rasterd.app.settings import load_settings

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
# An L with a hole-free stem, drawn by hand: rows of '1' are ink.
L_SHAPE = ["10000000", "10000000", "10000000", "11111111"] + ["00000000"] * 4


def test_one_bit_png_from_packed_rows_decodes_to_the_mask():
    mask = mask_from_rows(L_SHAPE)
    image = Image.open(io.BytesIO(png_from_packed(np.packbits(mask != 0, axis=-1), 8)))
    assert image.mode == "1" and image.size == (8, 8)
    assert np.array_equal(np.array(image.convert("L")), mask)  # ink stays white (255)
    odd = np.zeros((3, 13), dtype=np.uint8)
    odd[1, 12] = 255  # a width that is not a multiple of 8 pads the last byte
    assert np.array_equal(np.array(Image.open(io.BytesIO(png_from_packed(np.packbits(odd != 0, axis=-1), 13))).convert("L")), odd)


def test_gray_png_and_npy_round_trip():
    image = np.arange(64, dtype=np.uint8).reshape(4, 16) * 4
    assert np.array_equal(np.array(Image.open(io.BytesIO(png_gray(image)))), image)
    ids = np.arange(256, dtype=np.uint16).reshape(16, 16)
    back = np.load(io.BytesIO(npy_bytes(ids)))
    assert back.dtype == np.uint16 and np.array_equal(back, ids)


def test_raster_json_rows_round_trip():
    mask = mask_from_rows(L_SHAPE)
    assert rows_from_mask(mask) == L_SHAPE
    assert np.array_equal(RasterJson.from_mask(mask, 5).to_mask(), mask)


def test_grid_picture_writes_ids_only_in_non_empty_cells():
    mask = np.zeros((16, 16), dtype=np.uint8)
    mask[:8, :8] = 255
    ids = np.array([[7, 0], [0, 0]], dtype=np.uint16)
    picture = np.array(Image.open(io.BytesIO(grid_picture(mask, ids, pixel_scale=4))).convert("RGB"))
    red = (picture == (170, 0, 0)).all(axis=-1)
    assert picture.shape == (64, 64, 3) and red[:32, :32].any() and not red[32:, :].any() and not red[:, 32:].any()


def test_primitive_sheet_places_tile_k_at_row_k_over_columns():
    centroids = np.zeros((5, 4), dtype=np.float32)
    centroids[2] = 1.0  # primitive id 3 is solid ink
    sheet = np.array(Image.open(io.BytesIO(primitive_sheet(centroids, 2, columns=4, pixel_scale=2, gap=1))))
    tile = 2 * 2 + 1
    assert sheet.shape == (2 * tile, 4 * tile)
    assert (sheet[0:4, 3 * tile : 3 * tile + 4] == 255).all() and (sheet[0:4, 0:4] == 0).all()


def test_cursor_is_opaque_and_bound_to_its_filters():
    filters = GlyphFilters("beh_isol", None, "isol", "train")
    cursor = encode_cursor(1234, filters)
    assert "1234" not in cursor and decode_cursor(cursor, filters) == 1234
    with pytest.raises(BadCursor, match="another query"):
        decode_cursor(cursor, GlyphFilters("beh_isol", None, "isol", "val"))
    for junk in ("", "%%%", "bm90IGpzb24", "eyJhIjoidHdvIiwicSI6IngifQ"):
        with pytest.raises(BadCursor):
            decode_cursor(junk, filters)


def _request(if_none_match: str | None) -> Request:
    headers = [(b"if-none-match", if_none_match.encode())] if if_none_match else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""})


@pytest.mark.parametrize(
    ("header", "matches"),
    [(None, False), ('"a-1"', True), ('W/"a-1"', True), ('"b", "a-1"', True), ("*", True), ('"a-2"', False), ("a-1", False)],
)
def test_if_none_match_uses_weak_comparison(header, matches):
    cache = HttpCache('"a-1"', 60)
    assert cache.matches(_request(header)) is matches
    assert cache.headers == {"ETag": '"a-1"', "Cache-Control": "public, max-age=60"}


def test_error_table_maps_exceptions_to_status_and_code():
    from glyph_core.contours import ContourError

    assert status_and_code(GlyphNotFound("x")) == (404, "glyph_not_found")
    assert status_and_code(BadCursor("x")) == (400, "bad_cursor")
    assert status_and_code(PayloadTooLarge(10)) == (413, "payload_too_large")
    assert status_and_code(ContourError("x")) == (422, "invalid_contours")
    assert status_and_code(RuntimeError("x")) is None


def test_lru_cache_evicts_the_least_recently_used():
    cache = LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_settings_come_from_the_yaml_and_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "rasterd.yaml"
    path.write_text(yaml.safe_dump({"server": {"port": 9001, "workers": 2}}))
    assert load_settings(path).server.port == 9001
    monkeypatch.setenv("RASTERD_SERVER__PORT", "9100")
    monkeypatch.setenv("RASTERD_LIMITS__MAX_POINTS", "500")
    settings = load_settings(path)
    assert (settings.server.port, settings.server.workers, settings.limits.max_points) == (9100, 2, 500)
    assert RasterdConfig.model_validate(settings.model_dump()) == RasterdConfig(
        server={"port": 9100, "workers": 2}, limits={"max_points": 500}
    )
    monkeypatch.setenv("RASTERD_SERVER__PROT", "1")
    with pytest.raises(ConfigError, match=r"server\.prot: unknown key(.|\n)*RASTERD_SERVER__PROT"):
        load_settings(path)
    monkeypatch.delenv("RASTERD_SERVER__PROT")
    monkeypatch.setenv("RASTERD_SERVERS__PORT", "1")
    with pytest.raises(ConfigError, match="RASTERD_SERVERS__PORT names no key"):
        load_settings(path)


def test_environment_points_a_build_at_a_dask_cluster(monkeypatch):
    assert load_config(CONFIGS / "rasterizer.yaml", RasterizerConfig, env_prefix="RASTERIZER_").dask.scheduler_address is None
    monkeypatch.setenv("RASTERIZER_DASK__SCHEDULER_ADDRESS", "tcp://dask-scheduler:8786")
    config = load_config(CONFIGS / "rasterizer.yaml", RasterizerConfig, env_prefix="RASTERIZER_")
    assert type(config) is RasterizerConfig and config.dask.scheduler_address == "tcp://dask-scheduler:8786"
    assert load_config(CONFIGS / "rasterizer.yaml", RasterizerConfig).dask.scheduler_address is None  # only with a prefix
    for unset in ("", "null"):  # docker-compose passes an unset variable as ""
        monkeypatch.setenv("RASTERIZER_DASK__SCHEDULER_ADDRESS", unset)
        assert load_config(CONFIGS / "rasterizer.yaml", RasterizerConfig, env_prefix="RASTERIZER_").dask.scheduler_address is None
    monkeypatch.setenv("RASTERIZER_RASTER__CANVAS_SIZE", "100")
    with pytest.raises(ConfigError, match="not a multiple of cell_size"):
        load_config(CONFIGS / "rasterizer.yaml", RasterizerConfig, env_prefix="RASTERIZER_")
