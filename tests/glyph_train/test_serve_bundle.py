"""`rasterd serve` with the bundle `glyph-train export` made from the small store (the shared pipeline
run, copied): classify, prediction, similar glyphs, the review queue, errors, a refused bundle, the
typed client, and the explorer's recognition panels in real Chromium."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from glyph_core.export_config import ExportConfig

from browser import BROWSER_MISSING, browser, wait_for  # noqa: F401  (browser is a fixture)
from serve_fixtures import start_server, write_configs
from train_helpers import rasterizer_config

# One xdist worker holds every test of the shared pipeline run (`make test` runs two): it trains once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline_run")]
MAX_BATCH = 16


@pytest.fixture(scope="module")
def served(pipeline_run, small_glyphs_db, tmp_path_factory):
    """(server, outputs root, rasterd.yaml) of a copy of the trained pipeline's outputs, with its bundle."""
    shared, *_ = pipeline_run
    base = tmp_path_factory.mktemp("serve_bundle")
    root = Path(shutil.copytree(shared, base / "outputs"))
    config = write_configs(base / "configs", rasterizer_config(small_glyphs_db, root), recognition={"max_batch": MAX_BATCH, "threads": 1})
    server = start_server(config, base / "serve.log")
    yield server, root, config
    server.stop()


def _index(root: Path):
    from glyph_core.retrieval import RetrievalIndex

    return RetrievalIndex.load(root / "export" / "end_to_end" / "index.npz")


def _outlines(db: Path, glyph_ids: list[int]) -> list[dict]:
    """The request bodies of stored glyphs: their contour JSON and their font's metrics, as in glyphs.db."""
    from glyph_core.db import GlyphDatabase

    with GlyphDatabase(str(db)) as database:
        fonts = database.fonts()
        bodies = []
        for glyph_id in glyph_ids:
            row = database.get(glyph_id)
            metrics = fonts[row.f_id]
            font = {k: getattr(metrics, k) for k in ("ascent", "descent", "typo_ascent", "typo_descent") if getattr(metrics, k) is not None}
            bodies.append({"contours": row.contours, "font": {k: float(v) for k, v in font.items()}})
    return bodies


def test_classify_outlines_gives_the_exported_float32_predictions(served, small_glyphs_db):
    server, root, _ = served
    health = httpx.get(server.url + "/healthz").json()
    assert health["status"] == "ok" and health["bundle"]["status"] == "ok", health
    index = _index(root)
    test_rows = np.flatnonzero(index.split == 2)
    ids = index.glyph_id[test_rows].tolist()
    labels = json.loads((root / "export" / "end_to_end" / "labels.json").read_text())["labels"]
    served_top = []
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for start in range(0, len(ids), MAX_BATCH):
            body = {"glyphs": _outlines(small_glyphs_db, ids[start : start + MAX_BATCH]), "top_k": 3}
            answer = http.post("/v1/classify", json=body)
            assert answer.status_code == 200, answer.text
            results = answer.json()["results"]
            assert all(len(r["top"]) == 3 and r["importance"] is None for r in results)
            served_top += [r["top"][0]["label"] for r in results]
    # Outlines rasterized by the service and run on LiteRT give the export's own float32 pass (which the
    # export test ties to glyph-train's model) on every test glyph.
    assert served_top == [labels[int(i)] for i in index.top[test_rows, 0]]


def test_prediction_explains_and_similar_and_review_follow_the_index(served):
    server, root, _ = served
    index = _index(root)
    row = int(np.flatnonzero(index.split == 2)[0])
    glyph_id = int(index.glyph_id[row])
    with httpx.Client(base_url=server.url, timeout=60) as http:
        p = http.get(f"/v1/glyphs/{glyph_id}/prediction").json()
        grid, importance = np.array(p["grid"]["ids"]), np.array(p["importance"])
        assert importance.shape == grid.shape == (16, 16)
        assert np.all(importance[grid == 0] == 0) and np.abs(importance[grid != 0]).max() > 0
        assert p["right"] == (p["top"][0]["label"] in {p["label"], *p["alt_labels"]})
        assert [s["probability"] for s in p["top"]] == sorted((s["probability"] for s in p["top"]), reverse=True)
        assert all(s["twin_of_top"] == (s["label"] in p["twins"]) for s in p["top"])

        cosine = http.get(f"/v1/glyphs/{glyph_id}/similar", params={"k": 7, "label_weight": 0}).json()
        assert cosine["k"] == 7 and cosine["query_glyph_id"] == glyph_id and cosine["label_weight"] == 0
        values = [g["similarity"] for g in cosine["items"]]
        assert values == sorted(values, reverse=True) and -1.0001 <= values[-1] <= values[0] <= 1.0001
        assert [g["score"] for g in cosine["items"]] == values
        own_font = str(index.font_hashes[int(index.font[row])])
        assert all(g["font_hash"] != own_font for g in cosine["items"])  # other fonts only
        # By default the bundle's weight: cosine plus the weight times the query's probability of each glyph's label.
        similar = http.get(f"/v1/glyphs/{glyph_id}/similar", params={"k": 7}).json()
        weight = similar["label_weight"]
        assert weight == ExportConfig().retrieval_label_weight > 0
        belief = dict(zip(index.top[row].tolist(), index.top_probability[row].tolist()))
        for g in similar["items"]:
            expected = g["similarity"] + weight * belief.get(int(index.label[index.row_of(g["glyph_id"])]), 0.0)
            assert g["score"] == pytest.approx(expected, abs=2e-6)
        scores = [g["score"] for g in similar["items"]]
        assert scores == sorted(scores, reverse=True) and scores[0] >= cosine["items"][0]["score"] - 1e-6
        train_only = http.get(f"/v1/glyphs/{glyph_id}/similar", params={"k": 5, "split": "train"}).json()
        assert {g["split"] for g in train_only["items"]} == {"train"}

        wrong = http.get("/v1/review", params={"sort": "confident_wrong", "limit": 20}).json()
        assert wrong["total"] == int((~index.is_right()).sum()) > 0
        assert all(item["predicted"] != item["label"] for item in wrong["items"])
        probabilities = [item["probability"] for item in wrong["items"]]
        assert probabilities == sorted(probabilities, reverse=True)
        uncertain = http.get("/v1/review", params={"sort": "uncertain", "split": "test", "limit": 20, "offset": 5}).json()
        assert uncertain["total"] == int((index.split == 2).sum()) and uncertain["offset"] == 5
        margins = [item["margin"] for item in uncertain["items"]]
        assert margins == sorted(margins) and {item["split"] for item in uncertain["items"]} == {"test"}


def test_bad_requests_answer_like_every_other_route(served):
    server, *_ = served
    square = [[["moveTo", [0, 0]], ["lineTo", [500, 0]], ["lineTo", [500, 500]], ["lineTo", [0, 500]], ["closePath", []]]]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        too_many = http.post("/v1/classify", json={"glyphs": [{"contours": square}] * (MAX_BATCH + 1)})
        assert too_many.status_code == 413 and too_many.json()["code"] == "batch_too_large"
        assert str(MAX_BATCH) in too_many.json()["detail"]
        bad = http.post("/v1/classify", json={"contours": [[["moveTo", [0]]]]})
        assert bad.status_code == 422 and bad.json()["code"] == "invalid_contours"
        unknown_key = http.post("/v1/classify", json={"contours": square, "colour": "red"})
        assert unknown_key.status_code == 422 and unknown_key.json()["code"] == "validation_error"
        empty_batch = http.post("/v1/classify", json={"glyphs": []})
        assert empty_batch.status_code == 422
        assert http.get("/v1/glyphs/999999999/prediction").status_code == 404
        assert http.get("/v1/glyphs/999999999/similar").status_code == 404
        assert http.get("/v1/review", params={"sort": "loudest"}).status_code == 422
        huge = http.post("/v1/classify", content=b'{"contours": "' + b"x" * 2_000_000 + b'"}', headers={"content-type": "application/json"})
        assert huge.status_code == 413
        one = http.post("/v1/classify", json={"contours": square, "font": {"ascent": 800, "descent": -200}, "explain": True})
        assert one.status_code == 200 and len(one.json()["results"]) == 1
        assert np.array(one.json()["results"][0]["importance"]).shape == (16, 16)


def test_typed_client_reaches_every_recognition_route(served, small_glyphs_db):
    from glyph_core.api_recognition import ClassifyResponse, Prediction, ReviewPage, SimilarResponse
    from glyph_core.client import GlyphgridClient

    server, root, _ = served
    glyph_id = int(_index(root).glyph_id[0])
    outline = _outlines(small_glyphs_db, [glyph_id])[0]
    with GlyphgridClient(server.url) as api:
        one = api.classify(outline["contours"], outline["font"], top_k=4)
        batch = api.classify_batch([(outline["contours"], outline["font"])] * 2, top_k=4)
        assert isinstance(one, ClassifyResponse) and [r.top for r in batch.results] == [one.results[0].top] * 2
        prediction = api.prediction(glyph_id, top_k=4, explain=False)
        assert isinstance(prediction, Prediction) and prediction.top == one.results[0].top and prediction.importance is None
        assert isinstance(api.similar(glyph_id, k=3), SimilarResponse)
        near = api.similar_outline(outline["contours"], outline["font"], k=3, label_weight=0)
        # The stored glyph itself is nearest to its own outline (tied, maybe, with a twin the font draws identically).
        tied = [item.glyph_id for item in near.items if item.similarity >= near.items[0].similarity - 1e-5]
        assert glyph_id in tied
        assert isinstance(api.review("uncertain", limit=3), ReviewPage)


def test_a_bundle_of_other_inputs_is_refused_and_none_configured_is_off(served, tmp_path):
    from glyph_core.bundle import MANIFEST
    from rasterd.app.readers import Readers
    from rasterd.app.settings import load_settings

    _, root, config = served
    bundle = Path(shutil.copytree(root / "export" / "end_to_end", tmp_path / "bundle"))
    manifest = json.loads((bundle / MANIFEST).read_text())
    (bundle / MANIFEST).write_text(json.dumps(manifest | {"rasters_build_id": "0" * 32, "centroid_hash": "f" * 64}))
    settings = load_settings(config)
    refused = Readers.open(settings.model_copy(update={"recognition": settings.recognition.model_copy(update={"bundle": str(bundle)})}))
    status = refused.snapshot.statuses["bundle"]
    assert status.status == "refused" and refused.snapshot.bundle is None
    assert "build_id: the bundle has 0000000000000000" in status.detail and "centroid_hash" in status.detail
    from rasterd.app.errors import BundleUnavailable

    with pytest.raises(BundleUnavailable, match="refused"):
        refused.snapshot.require_bundle()
    off = Readers.open(settings.model_copy(update={"recognition": settings.recognition.model_copy(update={"bundle": None})}))
    assert off.snapshot.statuses["bundle"].status == "off" and off.snapshot.bundle is None
    missing = Readers.open(settings.model_copy(update={"recognition": settings.recognition.model_copy(update={"bundle": str(tmp_path / "none")})}))
    assert missing.snapshot.statuses["bundle"].status == "missing" and "glyph-train export" in missing.snapshot.statuses["bundle"].detail


@BROWSER_MISSING
def test_explorer_shows_prediction_cells_similar_review_and_classifies_a_pasted_outline(browser, served, small_glyphs_db, tmp_path):
    from selenium.webdriver.common.by import By

    server, root, _ = served
    index = _index(root)
    glyph_id = int(index.glyph_id[np.flatnonzero(index.split == 2)[0]])
    browser.get(f"{server.url}/#glyph={glyph_id}")
    wait_for(browser, lambda d: "bundle ok" in d.find_element(By.ID, "health").text)
    rows = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#prediction-top tr"))
    assert len(rows) == 5 and all("%" in r.text for r in rows)
    assert "end_to_end (float32)" in browser.find_element(By.ID, "prediction-message").text
    cells = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#importance-overlay .weight"))
    assert len(cells) == 256 and any(float(c.get_attribute("data-weight")) > 0 for c in cells)
    similar = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#similar .thumb"))
    assert len(similar) == 12 and "with the same label" in browser.find_element(By.ID, "similar-message").text
    review = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#review .thumb"))
    assert review and all("→" in r.text for r in review)
    assert browser.find_element(By.ID, "review-link").get_attribute("href").endswith("#review-panel")

    # The cells that mattered are painted red over the raster.
    browser.execute_script("document.getElementById('grid-overlay').classList.add('hidden')")
    shot = np.array(Image.open(io.BytesIO(browser.find_element(By.CSS_SELECTOR, ".raster-box").screenshot_as_png)).convert("RGB")).astype(int)
    red = (shot[..., 0] > 150) & (shot[..., 0] - shot[..., 1] > 60)
    assert red.mean() > 0.002

    # Paste a stored glyph's outline into the classify panel: the same top-1 as its prediction.
    outline = _outlines(small_glyphs_db, [glyph_id])[0]
    area = browser.find_element(By.ID, "contours-input")
    browser.execute_script("arguments[0].value = arguments[1]", area, outline["contours"])
    for key, field in (("ascent", "ascent-input"), ("descent", "descent-input")):
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, field), str(outline["font"].get(key, "")))
    browser.find_element(By.ID, "classify-button").click()
    top = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#classify-top tr"))
    assert top[0].text.split()[0] == rows[0].text.split()[0]
    canvas = browser.find_element(By.ID, "classify-canvas")
    assert canvas.is_displayed()
    pixels = np.array(Image.open(io.BytesIO(canvas.screenshot_as_png)).convert("L"))
    assert (pixels < 80).mean() > 0.01 and (pixels > 200).mean() > 0.2  # ink and paper were drawn
    browser.find_element(By.ID, "contours-input").clear()
    browser.find_element(By.ID, "contours-input").send_keys("[[not json")
    browser.find_element(By.ID, "classify-button").click()
    wait_for(browser, lambda d: "not JSON" in d.find_element(By.ID, "classify-message").text)
    browser.save_screenshot(str(tmp_path / "explorer_recognition.png"))
