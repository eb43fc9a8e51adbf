"""The glyph explorer (`GET /`) in real headless Debian Chromium, driven by Selenium through
/usr/bin/chromedriver (nothing is downloaded)."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from browser import BROWSER_MISSING, browser, wait_for  # noqa: F401  (browser is a fixture)

pytestmark = BROWSER_MISSING


@pytest.mark.slow  # a browser start plus a page that loads every font, label and prototype: ~20 s here
def test_search_pick_a_glyph_see_raster_grid_ids_and_prototypes(browser, server, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server.url + "/")
    assert browser.title == "Glyphgrid explorer"
    wait_for(browser, lambda d: "ok" in d.find_element(By.ID, "health").text)
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#font option")) > 5)

    browser.find_element(By.ID, "label").send_keys("beh_isol")
    Select(browser.find_element(By.ID, "char-class")).select_by_visible_text("isol")
    browser.find_element(By.ID, "search").click()
    results = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results .thumb"))
    assert "glyphs match" in browser.find_element(By.ID, "result-count").text
    assert all("beh_isol" in r.text for r in results)

    glyph_id = int(results[0].get_attribute("data-glyph-id"))
    results[0].click()
    wait_for(browser, lambda d: d.execute_script("const i = document.getElementById('glyph-image'); return i.complete && i.naturalWidth === 128"))
    cells = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#grid-overlay .cell") if len(d.find_elements(By.CSS_SELECTOR, "#grid-overlay .cell")) == 256 else None)
    shown_ids = [int(c.get_attribute("data-id")) for c in cells]
    served_ids = httpx.get(f"{server.url}/v1/glyphs/{glyph_id}/grid.json").json()["ids"]
    assert shown_ids == [i for row in served_ids for i in row]
    written = [c.text for c in cells if c.text]
    assert written and all(text.isdigit() and text != "0" for text in written)
    assert "beh_isol" in browser.find_element(By.ID, "glyph-title").text
    assert str(glyph_id) in browser.find_element(By.ID, "metadata").text
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#neighbours .thumb"))
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#primitives .primitive")) == 40)

    # The raster really renders: the image region of a screenshot has ink (dark) and paper (light).
    box = browser.find_element(By.CSS_SELECTOR, ".raster-box")
    browser.execute_script("document.getElementById('grid-overlay').classList.add('hidden')")
    shot = Image.open(io.BytesIO(box.screenshot_as_png)).convert("L")
    pixels = np.array(shot)
    assert (pixels < 60).mean() > 0.01 and (pixels > 200).mean() > 0.3
    browser.execute_script("document.getElementById('grid-overlay').classList.remove('hidden')")
    folder = tmp_path_factory.mktemp("explorer")
    browser.save_screenshot(str(folder / "explorer.png"))
    primitives = browser.find_element(By.ID, "primitives-panel")
    primitives.screenshot(str(folder / "primitives.png"))
    tiles = np.array(Image.open(folder / "primitives.png").convert("L"))
    assert (tiles < 60).mean() > 0.01  # prototypes are drawn from the sprite sheet
    print(f"explorer screenshots: {folder}")

    # A deep link opens the glyph directly.
    browser.get(f"{server.url}/#glyph={glyph_id}")
    wait_for(browser, lambda d: "beh_isol" in d.find_element(By.ID, "glyph-title").text)


@pytest.mark.slow
def test_swagger_ui_renders_with_no_network(browser, server):
    """/docs draws every route from assets rasterd serves itself (Chromium here reaches no CDN)."""
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/docs")
    blocks = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-summary-path"))
    paths = {b.get_attribute("data-path") or b.text for b in blocks}
    assert {"/v1/rasterize", "/healthz"} <= paths
