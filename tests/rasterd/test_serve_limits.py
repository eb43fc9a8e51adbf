"""`POST /v1/rasterize` and bad input against a real uvicorn: the limits of the config (413/422),
malformed bodies (422 naming the field, never a 500), and a bounded schemathesis run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
import pytest

from glyph_core.api_models import SQUARE_WITH_HOLE, RasterizeResponse
from glyph_core.serve_config import RasterdConfig

LIMITS = RasterdConfig().limits


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) <= {"detail", "code", "errors"} and body["detail"] and body["code"]
    return body


def polygon(points: int, offset: float = 0.0) -> list:
    """A closed star-free polygon with ``points`` vertices on a circle."""
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    xy = [[round(float(500 + 400 * np.cos(a) + offset), 2), round(float(500 + 400 * np.sin(a)), 2)] for a in angles]
    return [["moveTo", xy[0]], *[["lineTo", p] for p in xy[1:]], ["closePath", []]]


def test_rasterize_keeps_holes_and_reports_the_plan_metadata(http):
    answer = RasterizeResponse.model_validate(http.post("/v1/rasterize", json={"contours": SQUARE_WITH_HOLE}).json())
    mask = answer.raster.to_mask()
    assert mask.shape == (128, 128) and mask[5, 5] == 255 and mask[64, 64] == 0  # the hole stays open
    assert answer.metadata.original_bbox == [0, 0, 600, 600] and answer.metadata.target_dim == 128
    assert answer.em_height is None and not answer.metadata.is_diacritic
    assert answer.grid is not None and answer.grid.to_array().shape == (16, 16)
    # Contours as the JSON string glyphs.db stores give the same raster.
    as_string = http.post("/v1/rasterize", json={"contours": json.dumps(SQUARE_WITH_HOLE)}).json()
    assert as_string["raster"] == answer.raster.model_dump()


def test_font_metrics_set_the_diacritic_rule(http):
    dot = [polygon(12)[0:1] + [["lineTo", [520, 500]], ["lineTo", [520, 520]], ["closePath", []]]]
    small = [[["moveTo", [0, 0]], ["lineTo", [100, 0]], ["lineTo", [100, 100]], ["lineTo", [0, 100]], ["closePath", []]]]
    answer = http.post("/v1/rasterize", json={"contours": small, "font": {"typo_ascent": 800, "typo_descent": -200}}).json()
    assert answer["em_height"] == 1000 and answer["metadata"]["is_diacritic"] and answer["metadata"]["target_dim"] == 64
    assert http.post("/v1/rasterize", json={"contours": dot}).status_code == 200


def test_limits_from_the_config(http):
    too_many_points = http.post("/v1/rasterize", json={"contours": [polygon(LIMITS.max_points + 1)]})
    body = error_of(too_many_points, 422)
    assert body["code"] == "outline_too_large" and "limits.max_points" in body["detail"]
    too_many_subpaths = http.post("/v1/rasterize", json={"contours": [polygon(3, 10 * i) for i in range(LIMITS.max_subpaths + 1)]})
    body = error_of(too_many_subpaths, 422)
    assert body["code"] == "outline_too_large" and "limits.max_subpaths" in body["detail"]
    assert http.post("/v1/rasterize", json={"contours": [polygon(LIMITS.max_points - 10)]}).status_code == 200


def test_bodies_over_the_byte_limit_are_413_with_or_without_content_length(http):
    big = json.dumps({"contours": "x" * (LIMITS.max_body_bytes + 10)}).encode()
    declared = http.post("/v1/rasterize", content=big, headers={"Content-Type": "application/json"})
    assert error_of(declared, 413)["code"] == "payload_too_large" and "limits.max_body_bytes" in declared.json()["detail"]

    def chunks():
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    streamed = http.post("/v1/rasterize", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert error_of(streamed, 413)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"contours": [', "body"),
        (b"{}", "body.contours"),
        (b'{"contours": 42}', "body.contours"),
        (b'{"contours": [], "font": {"ascent": "tall"}}', "body.font.ascent"),
        (b'{"contours": [], "colour": "red"}', "body.colour"),
        (b'{"contours": [], "font": {"ascent": 1e300}}', "body.font.ascent"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(http, body, field):
    response = http.post("/v1/rasterize", content=body, headers={"Content-Type": "application/json"})
    error = error_of(response, 422)
    assert error["code"] == "validation_error" and field in error["detail"]
    assert any(".".join(map(str, e["loc"])).startswith(field) for e in error["errors"])


@pytest.mark.parametrize(
    ("contours", "code", "where"),
    [
        ([[["moveTo", [0]]]], "invalid_contours", "subpath 0, command 0"),
        ([[["moveTo", [0, 0]], ["spiralTo", [1, 1]]]], "invalid_contours", "unknown command"),
        ([], "invalid_contours", "zero closed paths"),
        ("not json", "invalid_contours", "not valid JSON"),
        ([[["moveTo", [0, 0]], ["lineTo", [1e308, 0]], ["lineTo", [-1e308, 1e308]], ["closePath", []]]], "invalid_outline", "overflow"),
        ([[["moveTo", [0, 0]], ["lineTo", [0, 0]], ["closePath", []]]], None, None),
    ],
)
def test_bad_contours_are_422_saying_where(http, contours, code, where):
    response = http.post("/v1/rasterize", json={"contours": contours})
    if code is None:  # a degenerate outline is drawable: an empty raster
        assert response.status_code == 200 and "1" not in "".join(response.json()["raster"]["rows"])
        return
    error = error_of(response, 422)
    assert error["code"] == code and where in error["detail"]


def test_hostile_json_is_a_client_error(http):
    nan = b'{"contours": [[["moveTo", [NaN, 0]], ["lineTo", [1, 1]], ["lineTo", [0, 1]]]]}'
    assert http.post("/v1/rasterize", content=nan, headers={"Content-Type": "application/json"}).status_code == 422
    deep = b'{"contours": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    response = http.post("/v1/rasterize", content=deep, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    wrong_type = http.post("/v1/rasterize", content=b"contours=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert error_of(wrong_type, 422)["code"] == "validation_error"
    assert http.get("/healthz").status_code == 200  # and the server is still up


@pytest.mark.slow
def test_openapi_fuzzing_finds_no_server_error_and_no_schema_violation(server, tmp_path):
    """schemathesis (bounded: 25 examples per operation) against /openapi.json: every check but
    positive_data_acceptance, which cannot know that a cursor or contour string must be one we issued."""
    cli = Path(sys.executable).with_name("schemathesis")
    if not cli.is_file():
        pytest.skip("schemathesis is not installed (requirements/dev.txt)")
    run = subprocess.run(
        [str(cli), "run", f"{server.url}/openapi.json", "--max-examples", "25", "--workers", "1", "--checks", "all",
         "--exclude-checks", "positive_data_acceptance", "--seed", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert re.search(r"\d+ generated, \d+ passed", summary), summary
