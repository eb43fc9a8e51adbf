"""Hand-made outlines whose masks a reader can predict: squares, holes, overlaps, curves."""

from __future__ import annotations

import math

from glyph_core.contours import Outline, parse_contours


def polygon(*points: tuple[float, float]) -> list:
    """One closed polygon contour as contour JSON commands."""
    first, *rest = points
    return [["moveTo", list(first)], *[["lineTo", list(p)] for p in rest], ["closePath", None]]


def rect(x0: float, y0: float, x1: float, y1: float, clockwise: bool = False) -> list:
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return polygon(*(corners[::-1] if clockwise else corners))


def outline(*contours: list) -> Outline:
    return parse_contours([c for c in contours])


def quad_circle(cx: float, cy: float, r: float, segments: int = 8, clockwise: bool = False) -> list:
    """A circle of quadratic segments (control points on the circumscribed polygon)."""
    commands: list = [["moveTo", [cx + r, cy]]]
    turn = -2 * math.pi if clockwise else 2 * math.pi
    for i in range(segments):
        a0 = turn * i / segments
        a1 = turn * (i + 1) / segments
        mid = (a0 + a1) / 2
        k = r / math.cos(math.pi / segments)
        commands.append(["qCurveTo", [[cx + k * math.cos(mid), cy + k * math.sin(mid)], [cx + r * math.cos(a1), cy + r * math.sin(a1)]]])
    commands.append(["closePath", None])
    return commands


def cubic_blob() -> list:
    return [
        ["moveTo", [0, 0]],
        ["cubicTo", [[300, -200], [700, 400], [1000, 0]]],
        ["cubicTo", [[900, 600], [200, 900], [100, 700]]],
        ["cubicTo", [[-100, 500], [150, 300], [0, 0]]],
        ["closePath", None],
    ]


SQUARE = outline(rect(0, 0, 1000, 1000))
SQUARE_WITH_HOLE = outline(rect(0, 0, 1000, 1000), rect(300, 300, 700, 700, clockwise=True))
# Same orientation inside: nonzero fills it, even-odd keeps the hole.
SQUARE_IN_SQUARE = outline(rect(0, 0, 1000, 1000), rect(300, 300, 700, 700))
OVERLAPPING_SQUARES = outline(rect(0, 0, 600, 600), rect(400, 400, 1000, 1000))
TRIANGLE = outline(polygon((0, 0), (1000, 0), (500, 800)))
BOWTIE = outline(polygon((0, 0), (1000, 1000), (1000, 0), (0, 1000)))
RING = outline(quad_circle(500, 500, 500), quad_circle(500, 500, 250, clockwise=True))
CUBIC_BLOB = outline(cubic_blob())
WIDE_BAR = outline(rect(0, 0, 1000, 120))
TALL_SLIVER = outline(rect(0, 0, 3, 1000))
DOT = outline(rect(0, 0, 150, 150))  # a diacritic for any em height above 600
COLLINEAR = outline(polygon((0, 0), (250, 0), (500, 0), (1000, 0), (1000, 1000), (0, 1000)))
MANY_CONTOURS = outline(*[rect(100 * i, 100 * j, 100 * i + 60, 100 * j + 60) for i in range(10) for j in range(10)])
FLAT = outline(polygon((0, 0), (1000, 0), (500, 0)))  # zero height: ratio inf, nothing to fill
POINT = outline(polygon((5, 5), (5, 5), (5, 5)))  # zero-size bbox: scale 1.0, empty mask

HAND_MADE = {
    "square": SQUARE,
    "square_with_hole": SQUARE_WITH_HOLE,
    "square_in_square": SQUARE_IN_SQUARE,
    "overlapping_squares": OVERLAPPING_SQUARES,
    "triangle": TRIANGLE,
    "bowtie": BOWTIE,
    "ring": RING,
    "cubic_blob": CUBIC_BLOB,
    "wide_bar": WIDE_BAR,
    "tall_sliver": TALL_SLIVER,
    "dot": DOT,
    "collinear": COLLINEAR,
    "many_contours": MANY_CONTOURS,
    "flat": FLAT,
    "point": POINT,
}
