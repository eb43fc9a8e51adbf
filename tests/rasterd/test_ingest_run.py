"""`run_ingest` end to end on a handful of real fonts plus broken, duplicate and non-Arabic files."""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fontTools.ttLib import TTFont

from glyph_core.audit import read_audit
from glyph_core.config import IngestConfig
from glyph_core.db import FontMetrics, checked_descender
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs
from rasterd.ingest import run_ingest
from rasterd.ingest import writer
from rasterd.ingest.writer import DatabaseExistsError


@pytest.fixture(scope="module")
def font_folder(tmp_path_factory, kacst_one, kacst_one_bold, lemonada, nastaliq, latin_only_font) -> Path:
    folder = tmp_path_factory.mktemp("fonts")
    for source, name in [
        (kacst_one, "kacst/KacstOne.ttf"),
        (kacst_one, "kacst/copy-of-KacstOne.ttf"),
        (kacst_one_bold, "kacst/KacstOne-Bold.ttf"),
        (lemonada, "Lemonada-Regular.otf"),
        (nastaliq, "NotoNastaliqUrdu-Regular.ttf"),
        (latin_only_font, "NotoSans-Regular.ttf"),
    ]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, folder / name)
    broken = folder / "broken"
    broken.mkdir()
    (broken / "garbage.ttf").write_bytes(os.urandom(4096))
    data = kacst_one.read_bytes()
    (broken / "truncated.ttf").write_bytes(data[: len(data) // 2])
    font = TTFont(kacst_one)
    del font["cmap"]
    font.save(broken / "no-cmap.ttf")
    return folder


def ingest(folder: Path, root: Path, workers: int):
    config = IngestConfig(
        fonts=[str(folder)],
        database=str(root / "dataset" / "glyphs.db"),
        workers=workers,
        outputs={"root": str(root / "outputs")},
    )
    return config, run_ingest(config, config_path="test.yaml")


@pytest.fixture(scope="module")
def two_workers(font_folder, tmp_path_factory):
    return ingest(font_folder, tmp_path_factory.mktemp("two_workers"), workers=2)


def table_rows(database: str, table: str, key: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


def test_summary_counts(two_workers):
    config, summary = two_workers
    assert (summary.fonts_seen, summary.fonts_used, summary.fonts_skipped, summary.fonts_broken) == (9, 4, 2, 3)
    glyphs = table_rows(config.database, "glyphs", "glyph_id")
    assert summary.rows == len(glyphs) > 1000
    assert summary.labels == len({row[2] for row in glyphs})
    assert 0 < summary.rows_with_twin < summary.rows
    assert "4 used" in str(summary)


def test_broken_and_duplicate_fonts_are_audited(two_workers, font_folder):
    config, summary = two_workers
    records = read_audit(summary.audit_log)
    assert summary.audit_log == str(OutputLayout.at(config.outputs.root).audit_log("ingest"))
    broken = {Path(record["path"]).name: record["reason"] for record in records if record["kind"] == "unreadable_font"}
    assert broken.keys() == {"garbage.ttf", "truncated.ttf", "no-cmap.ttf"}
    assert "no Unicode cmap" in broken["no-cmap.ttf"]
    (duplicate,) = [record for record in records if record["kind"] == "duplicate_font"]
    assert duplicate["id"].endswith("kacst/copy-of-KacstOne.ttf")  # paths sort "K" before "c": the copy is later
    assert duplicate["reason"].endswith("kacst/KacstOne.ttf")


def test_lemonada_positive_typo_descender_is_corrected_and_audited(two_workers):
    config, summary = two_workers
    with sqlite3.connect(config.database) as connection:
        row = connection.execute(
            "SELECT file_hash, typo_ascent, typo_descent, descent FROM fonts WHERE family_name = 'Lemonada'"
        ).fetchone()
    font_hash, typo_ascent, typo_descent, descent = row
    assert (typo_ascent, typo_descent, descent) == (1345, -653, -653)  # the file says +653
    assert FontMetrics(font_hash, typo_ascent=typo_ascent, typo_descent=typo_descent).em_height == 1998
    (note,) = [r for r in read_audit(summary.audit_log) if r["kind"] == "metric_corrected"]
    assert note["kept"] is True and note["font"] == font_hash and "sTypoDescender 653" in note["reason"]
    assert summary.metrics_corrected == 1 and "metrics corrected: 1" in str(summary)
    assert "metric_corrected" not in summary_rejections(summary)


def summary_rejections(summary) -> set[str]:
    return {r["kind"] for r in read_audit(summary.audit_log) if not r.get("kept")}


def test_per_font_form_counts_and_fonts_without_contextual_forms(two_workers):
    config, summary = two_workers
    per_font = [json.loads(line) for line in Path(summary.font_report).read_text().splitlines()]
    assert len(per_font) == summary.fonts_used
    assert sum(r["rows"] for r in per_font) == summary.rows
    for record in per_font:
        assert record["rows"] == sum(record[k] for k in ("isolated", "contextual", "ligatures", "marks", "other"))
        assert record["contextual"] > 0  # every font here shapes its positional forms
    assert summary.forms["contextual"] == sum(r["contextual"] for r in per_font)
    assert summary.without_contextual == () and "fonts without contextual forms: 0" in str(summary)


def test_checked_descender_rule():
    assert checked_descender(653, (-653, None)) == -653  # another metric reaches below the baseline
    assert checked_descender(653, (None, 0)) == 653  # no evidence: kept as stated
    assert checked_descender(-250, (100,)) == -250 and checked_descender(None, (-1,)) is None


def test_database_schema_indexes_and_order(two_workers):
    config, _ = two_workers
    with sqlite3.connect(config.database) as connection:
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        fonts = connection.execute("SELECT file_hash, family_name, weight, upem FROM fonts").fetchall()
        orphans = connection.execute(
            "SELECT COUNT(*) FROM glyphs LEFT JOIN fonts ON glyphs.f_id = fonts.file_hash WHERE fonts.file_hash IS NULL"
        ).fetchone()[0]
        ids = [row[0] for row in connection.execute("SELECT glyph_id FROM glyphs ORDER BY glyph_id")]
        per_font = connection.execute("SELECT f_id, label FROM glyphs ORDER BY glyph_id").fetchall()
    assert {"idx_glyphs_fid", "idx_glyphs_label", "idx_glyphs_joining_group"} <= indexes
    assert {(family, weight) for _, family, weight, _ in fonts} == {
        ("KacstOne", 400), ("KacstOne", 700), ("Lemonada", 400), ("Noto Nastaliq Urdu", 400),
    }  # fmt: skip
    assert orphans == 0
    assert ids == list(range(1, len(ids) + 1))
    for font, _, _, _ in fonts:
        labels = [label for f_id, label in per_font if f_id == font]
        assert labels == sorted(labels)


def test_worker_count_does_not_change_the_content(two_workers, font_folder, tmp_path):
    config_two, _ = two_workers
    config_one, _ = ingest(font_folder, tmp_path, workers=1)
    for table, key in (("fonts", "file_hash"), ("glyphs", "glyph_id")):
        assert table_rows(config_one.database, table, key) == table_rows(config_two.database, table, key)


def test_refuses_to_overwrite_an_existing_database(two_workers, font_folder):
    config, _ = two_workers
    before = hashlib.sha256(Path(config.database).read_bytes()).hexdigest()
    with pytest.raises(DatabaseExistsError, match="never overwrites"):
        run_ingest(config)
    assert hashlib.sha256(Path(config.database).read_bytes()).hexdigest() == before


def test_no_temporary_files_are_left_and_the_run_is_recorded(two_workers):
    config, summary = two_workers
    assert os.listdir(Path(config.database).parent) == ["glyphs.db"]
    (run,) = read_runs(OutputLayout.at(config.outputs.root))
    assert run["command"] == "ingest" and run["outputs"]["rows"] == summary.rows


def test_a_database_created_meanwhile_is_not_replaced(tmp_path, monkeypatch):
    target = tmp_path / "glyphs.db"
    monkeypatch.setattr(writer, "ensure_new_database", lambda path: None)  # as if it appeared after the check
    target.write_text("someone else's")
    with pytest.raises(DatabaseExistsError):
        writer.write_database(target, [])
    assert target.read_text() == "someone else's"
    assert os.listdir(tmp_path) == ["glyphs.db"]


def test_bad_input_fails_before_writing_anything(tmp_path):
    config = IngestConfig(
        fonts=[str(tmp_path / "no-such-folder")],
        database=str(tmp_path / "glyphs.db"),
        outputs={"root": str(tmp_path / "outputs")},
    )
    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        run_ingest(config)
    assert not (tmp_path / "glyphs.db").exists()


def test_a_font_without_contextual_forms_is_listed(tmp_path, font_file, kacst_one):
    awami = font_file("truetype/awami/AwamiNastaliq-Regular.ttf")  # shapes with Graphite, not GSUB
    config = IngestConfig(fonts=[str(awami), str(kacst_one)], database=str(tmp_path / "g.db"), workers=1,
                          outputs={"root": str(tmp_path / "outputs")})  # fmt: skip
    summary = run_ingest(config)
    assert summary.without_contextual == (f"Awami Nastaliq ({awami})",)
    assert f"fonts without contextual forms: 1\n  Awami Nastaliq ({awami})" in str(summary)


def test_the_database_does_not_depend_on_where_the_fonts_are(tmp_path, kacst_one, lemonada):
    """Two entries, Lemonada's listed first; in the second layout its folder sorts last on disk."""
    rows = []
    for lemonada_dir, kacst_dir in (("a/lemonada", "b/kacst"), ("z/lemonada", "b/kacst")):
        root = tmp_path / lemonada_dir.split("/")[0]
        for folder, font in ((lemonada_dir, lemonada), (kacst_dir, kacst_one)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(font, root / folder / font.name)
        config = IngestConfig(fonts=[str(root / lemonada_dir), str(root / kacst_dir)], database=str(root / "g.db"),
                              workers=1, outputs={"root": str(root / "outputs")})  # fmt: skip
        run_ingest(config)
        rows.append(table_rows(config.database, "glyphs", "glyph_id"))
    assert rows[0] == rows[1]


def test_the_same_fonts_give_the_same_bytes_in_any_process(tmp_path, kacst_one):
    """Stores are tagged with the database file's sha256, so two ingests of the same fonts (here in
    processes with different hash seeds) must write identical files. SQLAlchemy's create_all emits
    a table's indexes in set order, which follows object addresses and differed between the host
    and a container: they must be created in name order."""
    digests = set()
    for seed in ("1", "2", "3"):
        root = tmp_path / seed
        config = IngestConfig(fonts=[str(kacst_one)], database=str(root / "glyphs.db"), workers=1,
                              outputs={"root": str(root / "outputs")})  # fmt: skip
        config_path = root / "ingest.yaml"
        root.mkdir()
        config_path.write_text(yaml.safe_dump(config.model_dump(mode="json")))
        run = subprocess.run([sys.executable, "-m", "rasterd.cli", "ingest", "--config", str(config_path)],
                             env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        digests.add(hashlib.sha256(Path(config.database).read_bytes()).hexdigest())
        with sqlite3.connect(config.database) as connection:
            indexes = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY rowid")]
        assert indexes == sorted(indexes) and len(indexes) >= 3
    assert len(digests) == 1
