"""Outlines of single glyphs and composed runs, on hand-made square glyphs."""

import json

from glyph_core.contours import parse_contours
from rasterd.ingest.outlines import OutlineRecorder
from rasterd.ingest.shaping import PlacedGlyph


class Square:
    """A glyph drawing one square of side ``size`` with its lower-left corner at ``corner``."""

    def __init__(self, size: int, corner: tuple[int, int] = (0, 0)) -> None:
        self.size, self.corner = size, corner

    def draw(self, pen) -> None:
        x, y = self.corner
        pen.moveTo((x, y))
        pen.lineTo((x, y + self.size))
        pen.lineTo((x + self.size, y + self.size))
        pen.lineTo((x + self.size, y))
        pen.closePath()


class Empty:
    def draw(self, pen) -> None:
        pass


class Dot:
    """A contour that is only a moveTo: draws nothing."""

    def draw(self, pen) -> None:
        pen.moveTo((5, 5))
        pen.closePath()


def recorder() -> OutlineRecorder:
    glyphs = {"space": Empty(), "big": Square(100, (10, 0)), "small": Square(20), "lone": Dot()}
    return OutlineRecorder(glyphs, ["space", "big", "small", "lone"])


def test_single_glyph_is_drawn_at_the_origin():
    outline = recorder().glyph(1)
    assert json.loads(outline.contours) == [
        [["moveTo", [10, 0]], ["lineTo", [10, 100]], ["lineTo", [110, 100]], ["lineTo", [110, 0]], ["closePath", None]]
    ]
    assert (outline.x_min, outline.x_max) == (10, 110)


def test_run_is_composed_at_the_shaped_positions():
    outline = recorder().run((PlacedGlyph(2, 0, 0), PlacedGlyph(2, 50, -30)))
    first, second = json.loads(outline.contours)
    assert first[0] == ["moveTo", [0, 0]]
    assert second[0] == ["moveTo", [50, -30]] and second[2] == ["lineTo", [70, -10]]
    assert (outline.x_min, outline.x_max) == (0, 70)
    assert parse_contours(outline.contours).contour_count == 2


def test_empty_glyphs_have_no_outline_and_add_nothing_to_a_run():
    drawer = recorder()
    assert drawer.glyph(0) is None
    assert drawer.glyph(3) is None
    alone = drawer.glyph(2)
    assert drawer.run((PlacedGlyph(0, 0, 0), PlacedGlyph(2, 0, 0), PlacedGlyph(3, 40, 0))) == alone
