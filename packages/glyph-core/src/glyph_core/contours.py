"""Glyph outlines: the contour JSON of docs/data.md, parsed once into a compact form and replayable
into any fontTools-style pen.

The compact form is a verb stream in the style of Skia paths: every contour is ``MOVE`` followed by
``LINE``/``QUAD``/``CUBIC`` segments and ends with ``CLOSE``. TrueType runs of several off-curve
points are split at their implied on-curve midpoints here, so consumers only ever see single
quadratic segments.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

VERB_MOVE, VERB_LINE, VERB_QUAD, VERB_CUBIC, VERB_CLOSE = 0, 1, 2, 3, 4
POINTS_PER_VERB = (1, 1, 2, 3, 0)

DEFAULT_MAX_POINTS = 100_000

Point = tuple[float, float]


class ContourError(ValueError):
    """A contour string that cannot be turned into a closed outline; the message says where."""


class Pen(Protocol):
    """The subset of the fontTools pen protocol an outline replays into."""

    def moveTo(self, pt: Point) -> None: ...
    def lineTo(self, pt: Point) -> None: ...
    def qCurveTo(self, *points: Point) -> None: ...
    def curveTo(self, *points: Point) -> None: ...
    def closePath(self) -> None: ...


@dataclass(frozen=True, eq=False)
class Outline:
    """Closed contours as a verb stream plus the points those verbs consume (float64, shape (P, 2))."""

    points: np.ndarray
    verbs: np.ndarray

    @property
    def contour_count(self) -> int:
        return int(np.count_nonzero(self.verbs == VERB_MOVE))

    def control_bounds(self) -> tuple[float, float, float, float]:
        """(min_x, min_y, max_x, max_y) of all points, control points included."""
        lo = self.points.min(axis=0)
        hi = self.points.max(axis=0)
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])

    def draw(self, pen: Pen) -> None:
        """Replay the outline into ``pen`` (moveTo/lineTo/qCurveTo/curveTo/closePath)."""
        pts = [(float(x), float(y)) for x, y in self.points]
        cursor = 0
        for verb in self.verbs.tolist():
            count = POINTS_PER_VERB[verb]
            seg = pts[cursor : cursor + count]
            cursor += count
            if verb == VERB_MOVE:
                pen.moveTo(seg[0])
            elif verb == VERB_LINE:
                pen.lineTo(seg[0])
            elif verb == VERB_QUAD:
                pen.qCurveTo(*seg)
            elif verb == VERB_CUBIC:
                pen.curveTo(*seg)
            else:
                pen.closePath()

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Outline)
            and np.array_equal(self.verbs, other.verbs)
            and np.array_equal(self.points, other.points)
        )

    __hash__ = None  # type: ignore[assignment]


class _Builder:
    """Accumulates contours; closes the open one whenever a new one starts or input ends."""

    def __init__(self, max_points: int) -> None:
        self.points: list[Point] = []
        self.verbs: list[int] = []
        self.max_points = max_points
        self.open = False
        self.segments_in_contour = 0
        self.closed_contours = 0
        self.current: Point | None = None

    def _add(self, verb: int, pts: Sequence[Point], where: str) -> None:
        if len(self.points) + len(pts) > self.max_points:
            raise ContourError(f"{where}: outline has more than {self.max_points} points (max_points)")
        self.verbs.append(verb)
        self.points.extend(pts)
        if pts:
            self.current = pts[-1]

    def move(self, pt: Point, where: str) -> None:
        self.close()
        self._add(VERB_MOVE, [pt], where)
        self.open = True
        self.segments_in_contour = 0

    def segment(self, verb: int, pts: Sequence[Point], where: str) -> None:
        if not self.open:
            raise ContourError(f"{where}: segment before any moveTo")
        self._add(verb, pts, where)
        self.segments_in_contour += 1

    def close(self) -> None:
        if not self.open:
            return
        if self.segments_in_contour == 0:
            # A lone moveTo draws nothing: drop it rather than count it as a closed path.
            self.verbs.pop()
            self.points.pop()
        else:
            self.verbs.append(VERB_CLOSE)
            self.closed_contours += 1
        self.open = False
        self.current = None

    def outline(self) -> Outline:
        self.close()
        points = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        return Outline(points=points, verbs=np.asarray(self.verbs, dtype=np.uint8))


def _midpoint(a: Point, b: Point) -> Point:
    return ((a[0] + b[0]) * 0.5, (a[1] + b[1]) * 0.5)


def _point(value: Any, where: str) -> Point:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ContourError(f"{where}: expected a point [x, y], got {_short(value)}")
    x, y = value
    if isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        raise ContourError(f"{where}: point coordinates must be numbers, got {_short(value)}")
    try:
        fx, fy = float(x), float(y)
    except OverflowError:
        raise ContourError(f"{where}: point coordinate too large for a float, got {_short(value)}") from None
    if not (math.isfinite(fx) and math.isfinite(fy)):
        raise ContourError(f"{where}: point coordinates must be finite, got {_short(value)}")
    return (fx, fy)


def _point_list(args: Any, where: str, allow_null_end: bool = False) -> list[Point | None]:
    if not isinstance(args, (list, tuple)) or not args:
        raise ContourError(f"{where}: expected a non-empty list of points, got {_short(args)}")
    # A single bare point ([x, y]) is accepted wherever one point is expected.
    if len(args) == 2 and not isinstance(args[0], (list, tuple)) and args[0] is not None:
        args = [args]
    out: list[Point | None] = []
    for i, value in enumerate(args):
        if value is None and allow_null_end and i == len(args) - 1:
            out.append(None)
        else:
            out.append(_point(value, where))
    return out


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _add_quadratic_run(builder: _Builder, off_curve: list[Point], end: Point, where: str) -> None:
    """TrueType qCurveTo: consecutive off-curve points imply on-curve midpoints between them."""
    if not off_curve:
        builder.segment(VERB_LINE, [end], where)
        return
    for i, ctrl in enumerate(off_curve):
        seg_end = end if i == len(off_curve) - 1 else _midpoint(ctrl, off_curve[i + 1])
        builder.segment(VERB_QUAD, [ctrl, seg_end], where)


def _add_all_off_curve(builder: _Builder, off_curve: list[Point], where: str) -> None:
    """A closed contour of off-curve points only: every on-curve point is an implied midpoint."""
    start = _midpoint(off_curve[-1], off_curve[0])
    builder.move(start, where)
    for i, ctrl in enumerate(off_curve):
        nxt = off_curve[(i + 1) % len(off_curve)]
        builder.segment(VERB_QUAD, [ctrl, _midpoint(ctrl, nxt)], where)
    builder.close()


def _is_command(item: Any) -> bool:
    return isinstance(item, (list, tuple)) and len(item) >= 1 and isinstance(item[0], str)


def parse_contours(source: str | bytes | list, max_points: int = DEFAULT_MAX_POINTS) -> Outline:
    """Parse contour JSON (text or already-decoded list) into an :class:`Outline`.

    Accepts a list of subpaths (each a list of ``[command, args]``) or a single flat subpath.
    Raises :class:`ContourError` for anything that is not a drawable closed outline.
    """
    if isinstance(source, (str, bytes)):
        if not source:
            raise ContourError("contours: empty string")
        try:
            data = json.loads(source)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ContourError(f"contours: not valid JSON ({exc})") from None
        except RecursionError:
            raise ContourError("contours: JSON nested too deeply") from None
    else:
        data = source
    if not isinstance(data, list):
        raise ContourError(f"contours: expected a list of subpaths, got {type(data).__name__}")
    subpaths = [data] if data and _is_command(data[0]) else data

    builder = _Builder(max_points)
    for s, subpath in enumerate(subpaths):
        if not isinstance(subpath, list):
            raise ContourError(f"subpath {s}: expected a list of commands, got {_short(subpath)}")
        for c, command in enumerate(subpath):
            where = f"subpath {s}, command {c}"
            if not _is_command(command) or len(command) > 2:
                raise ContourError(f"{where}: expected [name, args], got {_short(command)}")
            name = command[0]
            args = command[1] if len(command) == 2 else None
            where = f"{where} ({name})"
            if name == "moveTo":
                (pt,) = _exactly(_point_list(args, where), 1, where)
                builder.move(pt, where)
            elif name == "lineTo":
                (pt,) = _exactly(_point_list(args, where), 1, where)
                builder.segment(VERB_LINE, [pt], where)
            elif name in ("cubicTo", "curveTo"):
                pts = _exactly(_point_list(args, where), 3, where)
                builder.segment(VERB_CUBIC, pts, where)
            elif name == "qCurveTo":
                pts = _point_list(args, where, allow_null_end=True)
                if pts[-1] is None:
                    off = [p for p in pts[:-1] if p is not None]
                    if not off:
                        raise ContourError(f"{where}: all-off-curve qCurveTo needs at least one point")
                    builder.close()
                    _add_all_off_curve(builder, off, where)
                else:
                    _add_quadratic_run(builder, pts[:-1], pts[-1], where)  # type: ignore[arg-type]
            elif name in ("closePath", "endPath"):
                if args is not None and args != []:
                    raise ContourError(f"{where}: takes no arguments, got {_short(args)}")
                builder.close()
            else:
                raise ContourError(f"{where}: unknown command {name!r}")
        builder.close()
    outline = builder.outline()
    if builder.closed_contours == 0:
        raise ContourError("contours: zero closed paths")
    return outline


def _exactly(pts: list[Point | None], count: int, where: str) -> list[Point]:
    if len(pts) != count:
        raise ContourError(f"{where}: expected {count} point(s), got {len(pts)}")
    return pts  # type: ignore[return-value]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 4)


class ContourJsonPen:
    """A fontTools-style pen that records what is drawn as docs/data.md contour JSON."""

    def __init__(self) -> None:
        self.subpaths: list[list[list[Any]]] = []
        self._current: list[list[Any]] | None = None

    def _pt(self, pt: Point | None) -> list[int | float] | None:
        return None if pt is None else [_number(pt[0]), _number(pt[1])]

    def _command(self, name: str, args: Any) -> None:
        if self._current is None:
            self._current = []
            self.subpaths.append(self._current)
        self._current.append([name, args])

    def moveTo(self, pt: Point) -> None:
        self._current = None
        self._command("moveTo", self._pt(pt))

    def lineTo(self, pt: Point) -> None:
        self._command("lineTo", self._pt(pt))

    def qCurveTo(self, *points: Point | None) -> None:
        if points and points[-1] is None:
            self._current = None
        self._command("qCurveTo", [self._pt(p) for p in points])

    def curveTo(self, *points: Point) -> None:
        # fontTools allows poly-cubic runs; split them into plain cubics (3 points each).
        if len(points) % 3:
            raise ContourError(f"curveTo with {len(points)} points cannot be split into cubics")
        for i in range(0, len(points), 3):
            self._command("cubicTo", [self._pt(p) for p in points[i : i + 3]])

    def closePath(self) -> None:
        self._command("closePath", None)
        self._current = None

    endPath = closePath

    def addComponent(self, glyph_name: str, transformation: Any) -> None:
        raise ContourError(f"component {glyph_name!r}: decompose components before recording")

    def to_json(self) -> str:
        return json.dumps(self.subpaths, separators=(",", ":"))
