"""Bad input never takes the process down: it is a RasterError naming the glyph, or a valid raster."""

from __future__ import annotations

import time

import numpy as np
import pytest
from glyph_core.config import RasterConfig
from glyph_core.contours import Outline
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raster_shapes import SQUARE

from rasterd.raster import RasterError, rasterize_outlines

CONFIG = RasterConfig(max_points=64)
COORDINATES = st.one_of(
    st.floats(-2000, 2000),
    st.sampled_from([0.0, -0.0, np.nan, np.inf, -np.inf, 1e300, -1e300, 1.7e308, -1.7e308, 5e-324, 1e-300]),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def raw_outlines(draw) -> Outline:
    """Verb streams that are mostly well formed, with points anywhere (the parser is bypassed)."""
    verbs: list[int] = []
    for _ in range(draw(st.integers(0, 4))):
        segments = draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=6))
        verbs += [0, *segments, 4]
    if draw(st.integers(0, 3)) == 0:  # break the structure
        position = draw(st.integers(0, len(verbs)))
        verbs.insert(position, draw(st.integers(0, 7)))
    count = sum((1, 1, 2, 3, 0, 0, 0, 0)[v] for v in verbs) + draw(st.sampled_from([0, 0, 0, -1, 1]))
    count = max(count, 0)
    points = draw(st.lists(st.tuples(COORDINATES, COORDINATES), min_size=count, max_size=count))
    return Outline(points=np.array(points, dtype=np.float64).reshape(-1, 2), verbs=np.array(verbs, dtype=np.uint8))


def check_batch_is_valid(batch, n: int, config: RasterConfig) -> None:
    size = config.canvas_size
    assert batch.masks.shape == (n, size, size) and batch.masks.dtype == np.uint8
    assert np.isin(batch.masks, (0, 255)).all()
    assert batch.bbox.shape == (n, 4) and batch.target_dim.dtype == np.int16
    rejected = {index for index, _ in batch.rejected}
    for i in range(n):
        if i in rejected:
            assert not batch.masks[i].any() and batch.target_dim[i] == 0
        else:
            assert np.isfinite(batch.bbox[i]).all() and np.isfinite(batch.scale_factor[i]) and batch.scale_factor[i] > 0
            assert batch.target_dim[i] in (config.canvas_size, config.diacritic_target)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_outlines(), min_size=1, max_size=6), st.lists(COORDINATES, min_size=6, max_size=6))
def test_random_outlines_raise_raster_error_or_render(outlines, em) -> None:
    em = np.array(em[: len(outlines)])
    try:
        batch = rasterize_outlines(outlines, em, CONFIG)
    except RasterError as exc:
        assert 0 <= exc.glyph_index < len(outlines)
        assert str(exc).startswith(f"glyph {exc.glyph_index}: ")
    else:
        check_batch_is_valid(batch, len(outlines), CONFIG)
    check_batch_is_valid(rasterize_outlines(outlines, em, CONFIG, on_error="reject"), len(outlines), CONFIG)


def square_at(scale: float, offset: float = 0.0) -> Outline:
    points = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64) * scale + offset
    return Outline(points=points, verbs=np.array([0, 1, 1, 1, 4], dtype=np.uint8))


@pytest.mark.parametrize(
    "outline,problem",
    [
        (Outline(points=np.array([[-1.7e308, 0], [1.7e308, 0], [0, 1]]), verbs=np.array([0, 1, 1, 4], np.uint8)), "overflows"),
        (square_at(5e-324), "too small"),
        (Outline(points=np.array([[0, 0], [np.nan, 1], [1, 0]]), verbs=np.array([0, 1, 1, 4], np.uint8)), "finite"),
        (Outline(points=np.array([[0, 0], [np.inf, 1], [1, 0]]), verbs=np.array([0, 1, 1, 4], np.uint8)), "finite"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([0, 1, 1], np.uint8)), "CLOSE"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([1, 1, 1, 4], np.uint8)), "CLOSE"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([0, 0, 1, 4], np.uint8)), "CLOSE"),
        (Outline(points=np.zeros((4, 2)), verbs=np.array([0, 1, 1, 4], np.uint8)), "number of points"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([0, 1, 9, 4], np.uint8)), "verbs must be"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([0, 1, 300, 4])), "verbs must be"),
        (Outline(points=np.zeros((3, 2)), verbs=np.array([0.0, 1.0, 1.0, 4.0])), "integer"),
        (Outline(points=np.zeros((3, 3)), verbs=np.array([0, 1, 1, 4], np.uint8)), "shape"),
        (Outline(points=np.empty((0, 2)), verbs=np.empty(0, np.uint8)), "no contours"),
        (Outline(points=np.zeros((100, 2)), verbs=np.array([0] + [1] * 99 + [4], np.uint8)), "max_points=64"),
        ("not an outline", "points"),
    ],
)
def test_bad_outlines_name_glyph_and_problem(outline, problem: str) -> None:
    outlines = [SQUARE, SQUARE, outline, SQUARE]
    with pytest.raises(RasterError, match=problem) as error:
        rasterize_outlines(outlines, np.full(4, 1000.0), CONFIG)
    assert error.value.glyph_index == 2 and str(error.value).startswith("glyph 2: ")
    batch = rasterize_outlines(outlines, np.full(4, 1000.0), CONFIG, on_error="reject")
    assert [index for index, _ in batch.rejected] == [2]
    assert batch.masks[[0, 1, 3]].all() and not batch.masks[2].any()


def test_huge_but_finite_coordinates_render() -> None:
    batch = rasterize_outlines([square_at(1e300), square_at(1e-300), square_at(3, 1e15)], np.full(3, np.nan), CONFIG)
    assert batch.masks.all()


def test_lone_points_and_single_point_contours() -> None:
    lone = Outline(points=np.array([[3.0, 4.0]]), verbs=np.array([0, 4], np.uint8))
    with_square = Outline(
        points=np.concatenate([SQUARE.points, [[5000.0, 5000.0]]]),
        verbs=np.concatenate([SQUARE.verbs, [0, 4]]).astype(np.uint8),
    )
    batch = rasterize_outlines([lone, with_square], np.full(2, 1000.0), CONFIG)
    assert not batch.masks[0].any()
    assert batch.bbox[1].tolist() == [0, 0, 5000, 5000]  # the lone point counts for the bbox


def test_many_points_are_bounded_by_max_points() -> None:
    """A zigzag of a million points crossing every row: refused by the default limit, rendered in
    bounded time (and memory) when the limit allows it."""
    n = 1_000_000
    xs = np.where(np.arange(n) % 2 == 0, 0.0, 1000.0) + np.linspace(0, 1, n)
    ys = np.linspace(0, 1000, n)
    zigzag = Outline(points=np.stack([xs, ys], axis=1), verbs=np.array([0] + [1] * (n - 1) + [4], np.uint8))
    with pytest.raises(RasterError, match="max_points"):
        rasterize_outlines([zigzag], np.ones(1), RasterConfig())
    began = time.perf_counter()
    batch = rasterize_outlines([zigzag], np.ones(1), RasterConfig(max_points=n))
    assert time.perf_counter() - began < 20
    assert batch.masks.shape == (1, 128, 128)


def test_em_heights_must_match_the_batch() -> None:
    with pytest.raises(ValueError, match="em_heights"):
        rasterize_outlines([SQUARE, SQUARE], np.ones(3), CONFIG)
    with pytest.raises(ValueError, match="on_error"):
        rasterize_outlines([SQUARE], np.ones(1), CONFIG, on_error="ignore")
