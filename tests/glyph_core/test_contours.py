"""Contour parsing on hand-made outlines whose answers can be checked by eye."""

import json
import math

import numpy as np
import pytest
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.recordingPen import RecordingPen

from glyph_core.contours import (
    VERB_CLOSE,
    VERB_CUBIC,
    VERB_LINE,
    VERB_MOVE,
    VERB_QUAD,
    ContourError,
    ContourJsonPen,
    parse_contours,
)

SQUARE_WITH_HOLE = [
    [["moveTo", [0, 0]], ["lineTo", [0, 100]], ["lineTo", [100, 100]], ["lineTo", [100, 0]], ["closePath", None]],
    [["moveTo", [25, 25]], ["lineTo", [75, 25]], ["lineTo", [75, 75]], ["lineTo", [25, 75]], ["closePath", None]],
]
# A circle of radius 100 as TrueType draws it: four off-curve points, no on-curve point at all.
OFF_CURVE_CIRCLE = [[["qCurveTo", [[100, 0], [0, 100], [-100, 0], [0, -100], None]]]]
CUBIC_BLOB = [[["moveTo", [0, 0]], ["cubicTo", [[0, 50], [50, 100], [100, 100]]], ["cubicTo", [[100, 50], [50, 0], [0, 0]]], ["closePath", None]]]


def area(outline):
    pen = AreaPen()
    outline.draw(pen)
    return pen.value


def test_square_with_hole_has_two_contours_and_the_hole_subtracts():
    outline = parse_contours(json.dumps(SQUARE_WITH_HOLE))
    assert outline.contour_count == 2
    assert outline.verbs.tolist() == [VERB_MOVE] + [VERB_LINE] * 3 + [VERB_CLOSE] + [VERB_MOVE] + [VERB_LINE] * 3 + [VERB_CLOSE]
    # Outer clockwise (negative in fontTools' convention), hole counter-clockwise: 100² - 50².
    assert abs(area(outline)) == pytest.approx(100 * 100 - 50 * 50)


def test_all_off_curve_circle_gets_implied_on_curve_points():
    outline = parse_contours(OFF_CURVE_CIRCLE)
    assert outline.contour_count == 1
    assert outline.verbs.tolist() == [VERB_MOVE] + [VERB_QUAD] * 4 + [VERB_CLOSE]
    # The start is the midpoint between the last and first off-curve points.
    assert outline.points[0].tolist() == [50.0, -50.0]
    # Square through the midpoints (100²) plus four parabolic bulges of 2/3 * 2500 each.
    assert abs(area(outline)) == pytest.approx(100 * 100 + 4 * (2 / 3) * 2500)


def test_qcurve_with_several_off_curve_points_splits_at_midpoints():
    outline = parse_contours([[["moveTo", [0, 0]], ["qCurveTo", [[0, 10], [10, 10], [10, 0]]], ["closePath", None]]])
    assert outline.verbs.tolist() == [VERB_MOVE, VERB_QUAD, VERB_QUAD, VERB_CLOSE]
    assert outline.points.tolist() == [[0, 0], [0, 10], [5, 10], [10, 10], [10, 0]]


def test_cubic_blob_and_missing_close_path():
    closed = parse_contours(CUBIC_BLOB)
    unclosed = parse_contours([CUBIC_BLOB[0][:-1]])
    assert closed == unclosed
    assert closed.verbs.tolist() == [VERB_MOVE, VERB_CUBIC, VERB_CUBIC, VERB_CLOSE]
    assert closed.control_bounds() == (0.0, 0.0, 100.0, 100.0)


def test_flat_single_subpath_and_curve_to_alias_are_accepted():
    flat = [["moveTo", [0, 0]], ["curveTo", [[0, 50], [50, 100], [100, 100]]], ["lineTo", [100, 0]]]
    assert parse_contours(flat).contour_count == 1


def test_move_to_inside_a_subpath_starts_a_new_contour():
    cmds = [["moveTo", [0, 0]], ["lineTo", [1, 0]], ["lineTo", [1, 1]], ["moveTo", [5, 5]], ["lineTo", [6, 5]], ["lineTo", [6, 6]]]
    assert parse_contours([cmds]).contour_count == 2


def test_draw_replays_into_a_recording_pen_and_json_pen_round_trips():
    outline = parse_contours(SQUARE_WITH_HOLE + CUBIC_BLOB + OFF_CURVE_CIRCLE)
    rec = RecordingPen()
    outline.draw(rec)
    assert [op for op, _ in rec.value].count("closePath") == 4
    pen = ContourJsonPen()
    outline.draw(pen)
    assert parse_contours(pen.to_json()) == outline


def test_json_pen_keeps_null_end_point_runs():
    pen = ContourJsonPen()
    pen.qCurveTo((100, 0), (0, 100), (-100, 0), (0, -100), None)
    pen.closePath()
    assert parse_contours(pen.to_json()) == parse_contours(OFF_CURVE_CIRCLE)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "empty string"),
        ("{not json", "not valid JSON"),
        ('{"a": 1}', "expected a list of subpaths"),
        ("[]", "zero closed paths"),
        ('[[["moveTo", [0, 0]], ["closePath", null]]]', "zero closed paths"),
        ('[[["moveTo", [0, 0]], ["arcTo", [1, 1]]]]', "subpath 0, command 1 (arcTo): unknown command 'arcTo'"),
        ('[[["moveTo", [0, 0]], ["lineTo", [[1, 1], [2, 2]]]]]', "command 1 (lineTo): expected 1 point(s), got 2"),
        ('[[["moveTo", [0, 0]], ["cubicTo", [[1, 1], [2, 2]]]]]', "command 1 (cubicTo): expected 3 point(s), got 2"),
        ('[[["moveTo", [0, NaN]], ["lineTo", [1, 1]]]]', "must be finite"),
        ('[[["moveTo", [0, Infinity]], ["lineTo", [1, 1]]]]', "must be finite"),
        ('[[["moveTo", [0, "a"]], ["lineTo", [1, 1]]]]', "must be numbers"),
        ('[[["moveTo", [0, 0, 0]], ["lineTo", [1, 1]]]]', "expected a point"),
        ('[[["lineTo", [1, 1]], ["lineTo", [2, 2]]]]', "segment before any moveTo"),
        ('[[["moveTo", [0, 0]], ["closePath", [1]]]]', "takes no arguments"),
        ('[[["qCurveTo", [null]]]]', "at least one point"),
        ('[[["moveTo"]]]', "expected a non-empty list of points"),
        ("[[42]]", "expected [name, args]"),
        ("[7]", "subpath 0: expected a list of commands"),
        ('[[["moveTo", [0, 1' + "0" * 400 + ']], ["lineTo", [1, 1]]]]', "too large for a float"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_input_raises_one_error_type_that_says_where(source, message):
    with pytest.raises(ContourError, match=re_escape(message)):
        parse_contours(source)


def re_escape(text):
    import re

    return re.escape(text)


def test_point_limit_is_enforced():
    many = [["moveTo", [0, 0]]] + [["lineTo", [i, i % 7]] for i in range(1, 200)]
    assert parse_contours([many], max_points=500).points.shape == (200, 2)
    with pytest.raises(ContourError, match="more than 100 points"):
        parse_contours([many], max_points=100)


def test_points_are_float64_and_finite():
    outline = parse_contours(SQUARE_WITH_HOLE)
    assert outline.points.dtype == np.float64
    assert all(math.isfinite(v) for v in outline.points.ravel())
