"""The C contour reader builds exactly what glyph_core.contours.parse_contours builds, and hands
everything else (every input the reference rejects among it) back to the reference, so that
rasterize_contours reports the reference's errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from font_samples import sample_glyphs
from glyph_core.config import RasterConfig
from glyph_core.contours import ContourError, Outline, parse_contours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rasterd._core.contour_json import parse_batch
from rasterd.raster import RasterError, rasterize_contours

NAMES = ["moveTo", "lineTo", "qCurveTo", "cubicTo", "curveTo", "closePath", "endPath"]


def fast_outline(text) -> Outline | None:
    """The C reader's outline, or None when it hands the text to the reference."""
    points, verbs, point_offsets, verb_offsets, fallback = parse_batch([text], 1000)
    if fallback[0]:
        return None
    return Outline(points=points[point_offsets[0] : point_offsets[1]], verbs=verbs[verb_offsets[0] : verb_offsets[1]])


def reference_outline(text) -> Outline | None:
    try:
        return parse_contours(text, 1000)
    except ContourError:
        return None


def assert_agrees(text) -> None:
    fast = fast_outline(text)
    reference = reference_outline(text)
    if fast is None:
        return
    assert reference is not None, f"C reader accepted what the reference rejects: {text!r}"
    # Bit for bit, the sign of zero included.
    assert fast.verbs.tobytes() == reference.verbs.tobytes()
    assert fast.points.tobytes() == np.ascontiguousarray(reference.points, dtype=np.float64).tobytes()


# -- generated contour JSON ---------------------------------------------------------------------

numbers = st.one_of(
    st.integers(-3000, 3000),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.floats(-5000, 5000).map(lambda v: round(v, 4)),
    st.sampled_from([0.0, -0.0, 1e22, 1e23, 5e-324, 1.5e-7, 2.0**53, 2.0**53 + 2]),
)
point = st.tuples(numbers, numbers).map(list)
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.lists(numbers, max_size=3), st.just({}))


@st.composite
def commands(draw):
    name = draw(st.sampled_from(NAMES + ["bogus"]))
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return [name]
    if kind == 1:
        return [name, draw(junk)]
    if kind == 2:
        return [name, None, 1]
    if name in ("closePath", "endPath"):
        return [name, draw(st.sampled_from([None, []]))]
    if kind == 3:
        return [name, draw(point)]  # one bare point
    pts = draw(st.lists(point, min_size=0, max_size=5))
    if name == "qCurveTo" and draw(st.booleans()):
        pts = pts + [None]  # TrueType contour without on-curve points
    return [name, pts]


@st.composite
def contour_data(draw):
    subpaths = draw(st.lists(st.lists(commands(), max_size=8), max_size=4))
    if subpaths and draw(st.booleans()):
        return subpaths[0]  # a single flat subpath
    return subpaths


def spell_number(value, style: int) -> str:
    if isinstance(value, int) or not np.isfinite(value):
        return json.dumps(value)
    if style == 1:
        return f"{value:.6e}".replace("e+0", "E").replace("e-0", "e-")
    if style == 2 and abs(value) < 1e15:
        return f"{value:.3f}"
    return repr(float(value))


def spell(value, rng, style: int) -> str:
    """JSON text with varied whitespace and number spellings (same values where exact)."""
    space = rng.choice(["", " ", "\n ", "\t"])
    if isinstance(value, list):
        return "[" + space + ("," + space).join(spell(v, rng, style) for v in value) + space + "]"
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        return json.dumps(value)
    return spell_number(value, style)


def check_generated(data, style: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_agrees(json.dumps(data))
    assert_agrees(spell(data, rng, style))


def check_damaged(seed: int, edits: int) -> None:
    """Real contour strings with random characters deleted, replaced or inserted."""
    rng = np.random.default_rng(seed)
    text = REAL_TEXTS[int(rng.integers(len(REAL_TEXTS)))]
    chars = list(text)
    for _ in range(edits):
        i = int(rng.integers(len(chars) + 1))
        op = rng.integers(3)
        new = str(rng.choice(list('[]{},:"-.e0123456789 nul') + ["null", "true", '"x"', "1e999", "é"]))
        if op == 0 and i < len(chars):
            del chars[i]
        elif op == 1 and i < len(chars):
            chars[i] = new
        else:
            chars.insert(i, new)
    damaged = "".join(chars)
    assert_agrees(damaged)
    assert_agrees(damaged.encode("utf-8"))


GENERATED = given(contour_data(), st.integers(0, 2), st.integers(0, 2**32 - 1))
DAMAGED = given(st.integers(0, 2**32 - 1), st.integers(1, 6))
QUICK = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

test_reader_agrees_with_reference_on_generated_json = QUICK(GENERATED(check_generated))
test_reader_agrees_with_reference_on_damaged_text = QUICK(DAMAGED(check_damaged))
test_reader_agrees_with_reference_long_run = pytest.mark.slow(LONG(GENERATED(check_generated)))
test_reader_agrees_with_reference_on_damaged_text_long_run = pytest.mark.slow(LONG(DAMAGED(check_damaged)))


REAL_TEXTS = [s.contours for s in sample_glyphs(fonts=5, per_font=40)]


def test_real_glyphs_take_the_fast_road() -> None:
    texts = [s.contours for s in sample_glyphs(fonts=18)]
    points, verbs, point_offsets, verb_offsets, fallback = parse_batch(texts, 100_000)
    assert not fallback.any()
    for i in range(0, len(texts), 7):
        reference = parse_contours(texts[i])
        assert points[point_offsets[i] : point_offsets[i + 1]].tobytes() == reference.points.tobytes()
        assert verbs[verb_offsets[i] : verb_offsets[i + 1]].tobytes() == reference.verbs.tobytes()


@pytest.mark.parametrize(
    "text",
    [
        '[[["moveTo",[-0,0]],["lineTo",[-0.0,1]],["lineTo",[1e2,1E-2]],["closePath",null]]]',
        '[["moveTo",[0,0]],["lineTo",[5,0]],["lineTo",[5,5]],["closePath"]]',  # flat subpath, no args
        ' [ [ [ "moveTo" , [ 1 , 2 ] ] , [ "lineTo" , [ [ 3 , 4 ] ] ] , ["qCurveTo",[[5,6]]], ["endPath", []] ] ] \n',
        '[[["qCurveTo",[[100,0],[0,100],[-100,0],[0,-100],null]]]]',  # all off-curve
        '[[["moveTo",[0,0]]],[["moveTo",[1,1]],["moveTo",[2,2]],["lineTo",[3,3]],["lineTo",[2,4]]]]',  # lone moveTo dropped
        '[[["moveTo",[0,0]],["curveTo",[[1,2],[3,4],[5,6]]],["closePath",null]],[]]',
        '[[["moveTo",[0.1,0.2]],["lineTo",[0.3,1234567.125]],["lineTo",[9007199254740992,-9007199254740992]]]]',
    ],
)
def test_reader_handles_the_documented_forms(text: str) -> None:
    assert fast_outline(text) is not None
    assert_agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "[[]]",
        '[[["moveTo",[0,0]]]]',  # nothing drawn
        '[[["lineTo",[0,0]]]]',
        '[[["moveTo",[0,0]],["lineTo",[true,1]]]]',
        '[[["moveTo",[0,0]],["lineTo",[1e999,1]]]]',
        '[[["moveTo",[0,0]],["lineTo",[NaN,1]]]]',
        '[[["moveTo",[0,0]],["lineTo",[1,2,3]]]]',
        '[[["moveTo",[0,0]],["cubicTo",[[1,2],[3,4]]]]]',
        '[[["moveTo",[0,0]],["qCurveTo",[null]]]]',
        '[[["moveTo",[0,0]],["lineTo",[1,1]],["closePath",[1]]]]',
        '[[["moveTo",[0,0]],["lineTo",[1,1]],["spiralTo",[1,1]]]]',
        '[[["moveTo",[0,0]],["lineTo",[01,1]]]]',
        '{"moveTo": [0, 0]}',
        '[[["moveTo",[0,0]],["lineTo",[1,1]]]] trailing',
        '[[["move\\u0054o",[0,0]],["lineTo",[1,1]],["lineTo",[1,0]]]]',  # escapes: reference decides (valid)
        "[" * 5000 + "]" * 5000,
    ],
)
def test_everything_else_goes_to_the_reference(text: str) -> None:
    assert fast_outline(text) is None


def test_errors_are_the_reference_errors() -> None:
    texts = [
        REAL_TEXTS[0],
        '[[["moveTo",[0,0]],["lineTo",[true,1]]]]',
        REAL_TEXTS[1],
        "not json",
        "[" * 100_000 + "]" * 100_000,  # too deep for Python's json: RecursionError, still an error row
        '[[["moveTo",[0,0]],["lineTo",[' + "9" * 400 + ",1]],[\"lineTo\",[1,0]]]]",  # int too large for float
    ]
    em = np.full(len(texts), 1000.0)
    batch = rasterize_contours(texts, em, RasterConfig(), on_error="reject")
    rejected = dict(batch.rejected)
    assert sorted(rejected) == [1, 3, 4, 5]
    for index in (1, 3):
        with pytest.raises(ContourError) as reference_error:
            parse_contours(texts[index])
        assert rejected[index] == str(reference_error.value)
    assert batch.masks[[0, 2]].any(axis=(1, 2)).all() and not batch.masks[[1, 3, 4, 5]].any()
    assert np.isnan(batch.bbox[1]).all() and batch.target_dim[1] == 0
    with pytest.raises(RasterError, match=r"^glyph 1: subpath 0, command 1 \(lineTo\): point coordinates must be numbers"):
        rasterize_contours(texts, em, RasterConfig())


def test_max_points_is_the_reference_limit() -> None:
    square = '[[["moveTo",[0,0]],["lineTo",[1,0]],["lineTo",[1,1]],["lineTo",[0,1]]]]'
    assert fast_outline(square) is not None
    points, *_ , fallback = parse_batch([square], 4)
    assert not fallback[0] and len(points) == 4
    *_, fallback = parse_batch([square], 3)
    assert fallback[0]
    with pytest.raises(RasterError, match="max_points"):
        rasterize_contours([square], np.ones(1), RasterConfig(max_points=16).model_copy(update={"max_points": 3}))


def test_bytes_and_other_objects() -> None:
    square = '[[["moveTo",[0,0]],["lineTo",[1,0]],["lineTo",[1,1]]]]'
    assert fast_outline(square.encode()).points.tolist() == [[0, 0], [1, 0], [1, 1]]
    data = json.loads(square)
    assert fast_outline(data) is None  # decoded lists go to the reference ...
    batch = rasterize_contours([data, square], np.ones(2), RasterConfig())  # ... which accepts them
    np.testing.assert_array_equal(batch.masks[0], batch.masks[1])
    assert fast_outline("[[[\"moveTo\",[0,0]],[\"lineTo\",[1,0]],[\"lineTo\",[1,\"\ud800\"]]]]") is None
