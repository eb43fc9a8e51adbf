"""A small, deliberately messy glyphs database built with plain sqlite3, as a legacy producer would."""

import json
import sqlite3

import pytest

SQUARE = json.dumps([[["moveTo", [0, 0]], ["lineTo", [0, 500]], ["lineTo", [500, 500]], ["lineTo", [500, 0]], ["closePath", None]]])
DOT = json.dumps([[["moveTo", [0, 0]], ["lineTo", [0, 50]], ["lineTo", [50, 50]], ["closePath", None]]])


@pytest.fixture
def legacy_db(tmp_path):
    """Plan variations: `id` instead of glyph_id, extra columns, NULL typo metrics, orphans, bad contours."""
    path = tmp_path / "legacy.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE fonts (file_hash TEXT PRIMARY KEY, upem INTEGER, ascent INTEGER, descent INTEGER,
                            typo_ascent INTEGER, typo_descent INTEGER, vendor TEXT);
        CREATE TABLE glyphs (id INTEGER PRIMARY KEY, f_id TEXT NOT NULL, label TEXT NOT NULL,
                             contours TEXT NOT NULL, char_class TEXT, source_note TEXT);
        """
    )
    con.executemany(
        "INSERT INTO fonts VALUES (?,?,?,?,?,?,?)",
        [
            ("fontA", 1000, 800, -200, 900, -300, "x"),
            ("fontB", 2048, 1600, -400, None, None, "y"),
            ("fontC", 1000, None, None, 0, 0, None),
        ],
    )
    rows = [
        (1, "fontA", "beh_isol", SQUARE, "isol", "n"),
        (2, "fontA", "fatha", DOT, "diacritic", None),
        (3, "fontB", "beh_isol", SQUARE, "isol", None),
        (4, "ghost", "beh_isol", SQUARE, "isol", None),
        (5, "fontB", "teh_isol", "", "isol", None),
        (6, "fontB", "theh_isol", "garbage{", "isol", None),
        (7, "fontC", "beh_isol", json.dumps([[["moveTo", [0, 0]], ["closePath", None]]]), "isol", None),
        (8, "fontC", "fatha", DOT, None, None),
    ]
    con.executemany("INSERT INTO glyphs VALUES (?,?,?,?,?,?)", rows)
    con.commit()
    con.close()
    return path
