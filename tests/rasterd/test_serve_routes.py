"""`rasterd serve` over a real build, through a real uvicorn on loopback: every route and format,
ETag/304, errors, metrics, and the on-the-fly path giving the store's bytes."""

from __future__ import annotations

import io
import re

import httpx
import numpy as np
import pytest
from PIL import Image

from glyph_core.api_models import GlyphMetadata, GridJson, RasterJson
from glyph_core.client import GlyphgridClient, GlyphgridError
from glyph_core.db import GlyphDatabase
from glyph_core.primitives import assign_primitives
from glyph_core.store import open_store, read_masks


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def client(server):
    with GlyphgridClient(server.url) as api:
        yield api


@pytest.fixture(scope="module")
def store(served_build):
    return open_store(served_build.layout.rasters_store, "rasters")


@pytest.fixture(scope="module")
def store_ids(store):
    return store["glyph_id"][:]


@pytest.fixture(scope="module")
def unbuilt_id(served_build, store_ids):
    """A glyph in the database whose label the build filtered out."""
    with GlyphDatabase(served_build.rasterizer.database) as db:
        ids = [r.glyph_id for r in db.iter_rows(columns=["label"])]
    missing = sorted(set(ids) - set(store_ids.tolist()))
    assert missing, "the small build should leave some labels out of the store"
    return missing[len(missing) // 2]


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) <= {"detail", "code", "errors"} and body["detail"] and body["code"], body
    return body


def test_healthz_reports_versions_and_every_input(http, served_build):
    health = http.get("/healthz").json()
    assert health["status"] == "ok"
    assert {"rasterd", "glyph-core", "fastapi", "uvicorn", "python"} <= set(health["versions"])
    assert health["database"]["status"] == "ok" and health["database"]["glyphs"] > 1000
    store = open_store(served_build.layout.rasters_store, "rasters")
    assert health["rasters_store"]["build_id"] == store.attrs["build_id"]
    assert health["centroids"]["status"] == "ok" and health["grids_store"]["status"] == "ok"


def test_listing_pages_through_everything_with_an_opaque_cursor(client, http, store_ids):
    first = client.list_glyphs(limit=500)
    total = first.total
    assert total > len(store_ids)  # the database has rows the build filtered out
    seen = [g.glyph_id for g in client.iter_glyphs(limit=500)]
    assert len(seen) == total and seen == sorted(set(seen))
    built = {g.glyph_id for g in client.iter_glyphs(limit=1000) if g.built}
    assert built == set(store_ids.tolist())
    # A cursor that is not ours, or belongs to other filters, is a 400 naming the cursor.
    bad = http.get("/v1/glyphs", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_cursor"
    other = http.get("/v1/glyphs", params={"cursor": first.next_cursor, "split": "test"})
    assert other.status_code == 400 and "another query" in error_of(other)["detail"]


def test_listing_filters(client, http):
    page = client.list_glyphs(label="beh_isol", limit=100)
    assert page.total >= 5 and all(g.label == "beh_isol" for g in page.items)
    one_font = page.items[0].font_hash
    by_font = client.list_glyphs(font=one_font, limit=1000)
    assert by_font.total > 50 and {g.font_hash for g in by_font.items} == {one_font}
    family = page.items[0].family_name
    by_family = client.list_glyphs(font=family.upper(), limit=10)
    assert by_family.total >= by_font.total and all(g.family_name == family for g in by_family.items)
    digits = client.list_glyphs(char_class="digit", split="train", limit=50)
    assert digits.total > 0 and all(g.char_class == "digit" and g.split == "train" for g in digits.items)
    assert client.list_glyphs(label="no_such_label").total == 0
    wrong = http.get("/v1/glyphs", params={"char_class": "vowel"})
    assert wrong.status_code == 422 and "char_class" in error_of(wrong)["detail"]
    too_big = http.get("/v1/glyphs", params={"limit": 10**9})
    assert too_big.status_code == 422 and "limit" in error_of(too_big)["detail"]


def test_metadata_has_the_plan_fields_label_font_and_split(client, store, store_ids, served_build):
    row = len(store_ids) // 3
    meta = client.glyph(int(store_ids[row]))
    assert isinstance(meta, GlyphMetadata) and meta.source == "store"
    assert meta.label == store.attrs["labels"][int(store["label"][row])]
    assert meta.font_hash == store.attrs["fonts"][int(store["font"][row])]
    assert meta.split == ("train", "val", "test")[int(store["split"][row])]
    assert meta.class_index == int(store["label"][row]) and meta.design_group
    assert meta.scale_factor == pytest.approx(float(store["scale_factor"][row]))
    assert meta.original_bbox == pytest.approx(store["bbox"][row].tolist())
    assert meta.target_dim == int(store["target_dim"][row]) and meta.is_diacritic == bool(store["is_diacritic"][row])


def test_raster_formats_are_the_store_bytes(http, client, store, store_ids):
    row = 7
    glyph_id = int(store_ids[row])
    expected = read_masks(store, row, row + 1)[0]
    png = http.get(f"/v1/glyphs/{glyph_id}/raster.png")
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (128, 128) and np.array_equal(np.array(image.convert("L")), expected)
    assert np.array_equal(client.raster(glyph_id), expected)  # npy
    as_json = RasterJson.model_validate(http.get(f"/v1/glyphs/{glyph_id}/raster.json").json())
    assert as_json.glyph_id == glyph_id and np.array_equal(as_json.to_mask(), expected)
    wrong = http.get(f"/v1/glyphs/{glyph_id}/raster.gif")
    assert wrong.status_code == 422 and "fmt" in error_of(wrong)["detail"]


def test_grids_are_the_tokenizer_ids_in_every_format(http, client, served_build, store, store_ids):
    grids = open_store(served_build.layout.grids_store, "grids")
    for row in (0, 11, len(store_ids) - 1):
        glyph_id = int(store_ids[row])
        expected = grids["grid"][row]
        assert np.array_equal(client.grid(glyph_id), expected)
        assert np.array_equal(expected, assign_primitives(read_masks(store, row, row + 1), served_build.centroids, 8)[0])
        grid = GridJson.model_validate(http.get(f"/v1/glyphs/{glyph_id}/grid.json").json())
        assert np.array_equal(grid.to_array(), expected) and grid.cell_size == 8
    picture = Image.open(io.BytesIO(http.get(f"/v1/glyphs/{glyph_id}/grid.png").content))
    assert picture.size == (512, 512)
    colours = np.array(picture.convert("RGB")).reshape(-1, 3)
    assert (colours == (170, 0, 0)).all(axis=1).any()  # ids are written in the cells


def test_a_glyph_outside_the_store_is_rendered_with_identical_bytes(http, server, bare_server, served_build, unbuilt_id, store_ids):
    from glyph_core.config import RasterConfig
    from rasterd.render import render_rows

    with GlyphDatabase(served_build.rasterizer.database) as db:
        rendered = render_rows([db.get(unbuilt_id)], db.fonts(), RasterConfig.model_validate(served_build.rasterizer.raster.model_dump()))
    meta = http.get(f"/v1/glyphs/{unbuilt_id}").json()
    assert meta["source"] == "rendered" and meta["class_index"] is None
    served = np.load(io.BytesIO(http.get(f"/v1/glyphs/{unbuilt_id}/raster.npy").content))
    assert np.array_equal(served, rendered.masks[0])
    # A server with no store renders every glyph; its bytes equal the store-backed server's.
    with httpx.Client(base_url=bare_server.url) as bare:
        for glyph_id in (int(store_ids[0]), int(store_ids[-1]), unbuilt_id):
            for fmt in ("png", "npy", "json"):
                a = http.get(f"/v1/glyphs/{glyph_id}/raster.{fmt}")
                b = bare.get(f"/v1/glyphs/{glyph_id}/raster.{fmt}")
                assert a.status_code == b.status_code == 200 and a.content == b.content, (glyph_id, fmt)
                assert a.headers["etag"] == b.headers["etag"]  # same inputs, same build id, same tag
        stored, fresh = http.get(f"/v1/glyphs/{int(store_ids[0])}").json(), bare.get(f"/v1/glyphs/{int(store_ids[0])}").json()
        assert (stored["source"], fresh["source"]) == ("store", "rendered")
        # The raster metadata and identity agree; split and class index need a build, which bare lacks.
        same = ("glyph_id", "label", "font_hash", "is_diacritic", "original_bbox", "scale_factor", "major_dim_ratio", "target_dim")
        assert {k: stored[k] for k in same} == {k: fresh[k] for k in same}
        assert fresh["split"] is None and fresh["class_index"] is None


def test_etags_revalidate_with_304(http, store_ids):
    glyph_id = int(store_ids[3])
    for path in (f"/v1/glyphs/{glyph_id}/raster.png", f"/v1/glyphs/{glyph_id}/grid.npy", f"/v1/glyphs/{glyph_id}", "/v1/primitives.png"):
        first = http.get(path)
        etag = first.headers["etag"]
        assert re.fullmatch(r'"[^"]+"', etag) and "max-age=" in first.headers["cache-control"]
        again = http.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert http.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        assert http.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200
    tags = {http.get(f"/v1/glyphs/{glyph_id}/raster.{fmt}").headers["etag"] for fmt in ("png", "npy", "json")}
    assert len(tags) == 3


def test_unknown_glyphs_and_routes_are_404_in_the_error_shape(http):
    for path in ("/v1/glyphs/999999999", "/v1/glyphs/999999999/raster.png", "/v1/glyphs/999999999/grid.json", "/v2/nothing"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["code"] in ("glyph_not_found", "not_found")
    assert error_of(http.get("/v1/glyphs/abc"))["code"] == "validation_error"
    assert http.get("/v1/glyphs/-4").status_code == 422
    assert http.delete("/v1/glyphs/1").status_code == 405


def test_grids_without_centroids_are_409_naming_the_commands(bare_server):
    with httpx.Client(base_url=bare_server.url) as bare:
        some_id = bare.get("/v1/glyphs", params={"limit": 1}).json()["items"][0]["glyph_id"]
        for path in (f"/v1/glyphs/{some_id}/grid.json", f"/v1/glyphs/{some_id}/grid.png", "/v1/primitives", "/v1/primitives.npy"):
            response = bare.get(path)
            assert response.status_code == 409, path
            body = error_of(response)
            assert body["code"] == "centroids_missing"
            assert "glyph-train primitives" in body["detail"] and "rasterd tokenize" in body["detail"]
        health = bare.get("/healthz").json()
        assert health["status"] == "degraded" and health["rasters_store"]["status"] == "missing"
        rasterized = bare.post("/v1/rasterize", json={"contours": [[["moveTo", [0, 0]], ["lineTo", [10, 0]], ["lineTo", [0, 10]]]]})
        assert rasterized.status_code == 200 and rasterized.json()["grid"] is None


def test_labels_fonts_and_primitives(client, http, served_build, store_ids):
    labels = client.labels()
    by_name = {label.label: label for label in labels.labels}
    assert sum(label.glyphs for label in labels.labels) == client.list_glyphs(limit=1).total
    assert sum(label.built for label in labels.labels) == len(store_ids)
    assert by_name["beh_isol"].class_index is not None
    assert any(label.class_index is None and label.built == 0 for label in labels.labels)
    fonts = client.fonts()
    assert fonts.total >= 6 and {f.split for f in fonts.fonts} == {"train", "val", "test"}
    assert all(f.family_name and f.design_group and f.em_height for f in fonts.fonts)
    catalog = client.primitives()
    assert catalog.count == 41 and catalog.primitives[0].id == 0
    grids = open_store(served_build.layout.grids_store, "grids")
    assert [p.frequency for p in catalog.primitives] == np.bincount(grids["grid"][:].ravel(), minlength=41).tolist()
    assert catalog.frequencies_from and sum(p.share for p in catalog.primitives) == pytest.approx(1.0, abs=1e-4)
    assert np.array_equal(client.primitive_centroids(), served_build.centroids)
    sheet = Image.open(io.BytesIO(http.get("/v1/primitives.png").content))
    columns, tile = catalog.sprite.columns, catalog.sprite.tile_px
    assert sheet.size == (columns * tile, -(-41 // columns) * tile)
    assert http.get("/v1/primitives.json").json() == http.get("/v1/primitives").json()


def test_rasterize_matches_the_build_for_a_database_row(client, served_build, store, store_ids):
    row = 5
    glyph_id = int(store_ids[row])
    with GlyphDatabase(served_build.rasterizer.database) as db:
        glyph, font = db.get(glyph_id), db.fonts()[db.get(glyph_id).f_id]
    answer = client.rasterize(
        glyph.contours, font={"ascent": font.ascent, "descent": font.descent, "typo_ascent": font.typo_ascent, "typo_descent": font.typo_descent}
    )
    assert np.array_equal(answer.raster.to_mask(), read_masks(store, row, row + 1)[0])
    assert answer.metadata.scale_factor == pytest.approx(float(store["scale_factor"][row]))
    assert np.array_equal(answer.grid.to_array(), open_store(served_build.layout.grids_store, "grids")["grid"][row])


def test_metrics_count_requests_latency_cache_and_rasterize_time(http, store_ids, unbuilt_id):
    def sample(text: str, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``."""
        total = 0.0
        for line in text.splitlines():
            match = re.match(rf"{name}(?:\{{(.*)\}})? (\S+)$", line)
            if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
                total += float(match.group(2))
        return total

    before = http.get("/metrics").text
    glyph_id = int(store_ids[-2])
    etag = http.get(f"/v1/glyphs/{glyph_id}/raster.png").headers["etag"]
    http.get(f"/v1/glyphs/{glyph_id}/raster.png")
    http.get(f"/v1/glyphs/{glyph_id}/raster.png", headers={"If-None-Match": etag})
    http.get(f"/v1/glyphs/{unbuilt_id + 1}/raster.png")
    http.post("/v1/rasterize", json={"contours": [[["moveTo", [0, 0]], ["lineTo", [10, 0]], ["lineTo", [0, 10]]]]})
    after = http.get("/metrics").text
    route = "/v1/glyphs/{glyph_id}/raster.{fmt}"
    assert sample(after, "rasterd_requests_total", route=route, status="200") - sample(before, "rasterd_requests_total", route=route, status="200") >= 3
    assert sample(after, "rasterd_requests_total", route=route, status="304") > sample(before, "rasterd_requests_total", route=route, status="304")
    assert sample(after, "rasterd_request_duration_seconds_count", route=route) > sample(before, "rasterd_request_duration_seconds_count", route=route)
    assert sample(after, "rasterd_cache_lookups_total", cache="store_chunk", result="hit") > sample(before, "rasterd_cache_lookups_total", cache="store_chunk", result="hit")
    assert sample(after, "rasterd_not_modified_responses_total") > sample(before, "rasterd_not_modified_responses_total")
    assert sample(after, "rasterd_rasterize_seconds_count", source="request") > sample(before, "rasterd_rasterize_seconds_count", source="request")


def test_client_raises_one_error_type_with_status_and_code(client):
    with pytest.raises(GlyphgridError) as err:
        client.glyph(999999999)
    assert err.value.status == 404 and err.value.code == "glyph_not_found" and "999999999" in str(err.value)


def test_openapi_and_docs(http):
    spec = http.get("/openapi.json").json()
    assert {
        "/healthz", "/metrics", "/v1/glyphs", "/v1/glyphs/{glyph_id}", "/v1/glyphs/{glyph_id}/raster.{fmt}",
        "/v1/glyphs/{glyph_id}/grid.{fmt}", "/v1/rasterize", "/v1/labels", "/v1/fonts", "/v1/primitives",
    } <= set(spec["paths"])  # fmt: skip
    assert spec["components"]["schemas"]["RasterizeRequest"]["examples"]
    docs = http.get("/docs").text
    assert "swagger" in docs.lower() and "cdn" not in docs and "https://" not in docs  # assets are served here
    for page in ("/docs", "/redoc"):
        assert "https://" not in http.get(page).text
        for asset in re.findall(r'(?:src|href)="([^"]+)"', http.get(page).text):
            response = http.get(asset)
            assert response.status_code == 200 and len(response.content) > 1000, asset
    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
