"""DB access and the validating scan, on a real SQLite file with the plan's variations."""

import sqlite3

import pytest

from glyph_core.audit import AuditLog, read_audit
from glyph_core.catalog import scan_database
from glyph_core.db import DatabaseError, FontMetrics, GlyphDatabase


def test_rows_stream_in_id_order_in_batches_with_id_column(legacy_db):
    with GlyphDatabase(legacy_db, batch_size=3) as db:
        rows = list(db.iter_rows())
        assert [r.glyph_id for r in rows] == list(range(1, 9))
        assert rows[0].char_class == "isol" and rows[0].alt_label is None and rows[0].width is None
        assert db.count() == 8
        assert db.get(2).label == "fatha"
        assert db.get(99) is None
        light = list(db.iter_rows(columns=["label"]))
        assert light[0].label == "beh_isol" and light[0].contours == "" and light[0].f_id is None


def test_lookups_from_many_threads_at_once_all_succeed(legacy_db):
    # The service's thread pool runs dozens of lookups at once on one GlyphDatabase; SQLAlchemy's pool for a
    # bare "sqlite://" closed the connections of threads beyond its fifth while they were in use.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(24)

    def lookup(glyph_id: int) -> str:
        barrier.wait()  # every thread holds its own connection at the same moment
        return [db.get(glyph_id % 8 + 1).label for _ in range(20)][-1]

    with GlyphDatabase(legacy_db) as db, ThreadPoolExecutor(24) as pool:
        labels = list(pool.map(lookup, range(24)))
        assert labels == [db.get(i % 8 + 1).label for i in range(24)]


def test_em_height_falls_back_from_typo_to_ascent_to_none(legacy_db):
    with GlyphDatabase(legacy_db) as db:
        fonts = db.fonts()
    assert fonts["fontA"].em_height == 1200  # typo 900 - (-300)
    assert fonts["fontB"].em_height == 2000  # NULL typo -> ascent/descent
    assert fonts["fontC"].em_height is None  # 0/0 typo, NULL ascent -> use the glyph bbox
    assert FontMetrics("m", ascent=800, descent=200).em_height == 1000  # descent stored as a magnitude


def test_database_is_opened_read_only(legacy_db):
    with GlyphDatabase(legacy_db) as db, db.engine.connect() as conn:
        with pytest.raises(Exception, match="readonly"):
            conn.exec_driver_sql("DELETE FROM glyphs")


def test_sqlalchemy_url_is_accepted(legacy_db):
    with GlyphDatabase(f"sqlite:///{legacy_db}") as db:
        assert db.count() == 8


def test_missing_database_and_missing_columns_give_clear_errors(tmp_path):
    with pytest.raises(DatabaseError, match="not found.*make dataset"):
        GlyphDatabase(tmp_path / "nope.db")
    bad = tmp_path / "bad.db"
    con = sqlite3.connect(bad)
    con.executescript("CREATE TABLE fonts (file_hash TEXT); CREATE TABLE glyphs (gid INTEGER, f_id TEXT, label TEXT);")
    con.close()
    with pytest.raises(DatabaseError, match=r"glyph_id \(or id\), contours"):
        GlyphDatabase(bad)


def test_scan_keeps_good_rows_and_audits_bad_ones_with_reasons(legacy_db, tmp_path):
    log = tmp_path / "logs" / "audit.jsonl"
    with GlyphDatabase(legacy_db, batch_size=2) as db, AuditLog(log) as audit:
        catalog = scan_database(db, audit, max_points=1000)
    assert [e.glyph_id for e in catalog.entries] == [1, 2, 3, 8]
    assert catalog.rows_read == 8 and catalog.rejected == 4
    records = {r["id"]: r for r in read_audit(log)}
    assert set(records) == {4, 5, 6, 7}
    assert records[4]["kind"] == "orphan" and "ghost" in records[4]["reason"]
    assert records[5]["kind"] == "empty_contours"
    assert records[6]["kind"] == "unparseable_contours" and "not valid JSON" in records[6]["reason"]
    assert "zero closed paths" in records[7]["reason"]
    assert audit.counts == {"orphan": 1, "empty_contours": 1, "unparseable_contours": 2}
    # fontA and fontB draw beh with byte-identical contours: their identity keys overlap.
    assert catalog.outline_keys["fontA"] & catalog.outline_keys["fontB"]


def test_content_hash_is_stable(legacy_db):
    with GlyphDatabase(legacy_db) as db:
        assert db.content_hash() == db.content_hash()
        assert len(db.content_hash()) == 64


def test_scan_with_a_custom_validator_uses_its_verdicts(legacy_db, tmp_path):
    def reject_squares(texts, max_points):
        return ["too square" if '"lineTo",[0,500]' in t.replace(" ", "") else None for t in texts]

    with GlyphDatabase(legacy_db) as db, AuditLog(tmp_path / "a.jsonl") as audit:
        catalog = scan_database(db, audit, 1000, validate=reject_squares)
    # The validator alone judges contours: squares rejected, garbage it lets through accepted.
    assert [e.glyph_id for e in catalog.entries] == [2, 6, 7, 8]
    assert audit.counts == {"orphan": 1, "empty_contours": 1, "unparseable_contours": 2}
