"""Design grouping on real fonts: instances, outline-identical copies and redrawn near-copies of a
design stay together; different designs stay apart."""

import json

import pytest

from glyph_core.audit import AuditLog
from glyph_core.catalog import scan_database
from glyph_core.config import IngestConfig, LabelConfig, RasterConfig, SplitConfig
from glyph_core.db import GlyphDatabase
from glyph_core.selection import select_dataset
from glyph_core.shapes import CORE_LETTERS, shape_scores
from rasterd.render import shape_masks

DEBIAN = {
    "amiri": "opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "amiri_quran": "opentype/fonts-hosny-amiri/AmiriQuran.ttf",
    "noto_regular": "truetype/noto/NotoSansArabic-Regular.ttf",
    "noto_bold": "truetype/noto/NotoSansArabic-Bold.ttf",
    "kacst": "truetype/kacst-one/KacstOne.ttf",
    "alkalami": "truetype/alkalami/Alkalami-Regular.ttf",
    # Ruwudu redraws Alkalami's Light weight (IoU 0.97); Alkalami Regular joins them by name.
    "alkalami_light": "truetype/alkalami/Alkalami-Light.ttf",
    "scheherazade": "truetype/scheherazade/Scheherazade-Regular.ttf",
    "ukij_tuz": "truetype/fonts-ukij-uyghur/UKIJTuz.ttf",
    "nazli": "truetype/farsiweb/nazli.ttf",
}
NPM = {
    "ruwudu": ("ruwudu", "ruwudu-arabic-400-normal.woff2"),
    "scheherazade_new": ("scheherazade-new", "scheherazade-new-arabic-400-normal.woff2"),
    "blaka": ("blaka", "blaka-arabic-400-normal.woff2"),
    "blaka_hollow": ("blaka-hollow", "blaka-hollow-arabic-400-normal.woff2"),
}
NEAR_COPIES = [("alkalami", "ruwudu"), ("scheherazade", "scheherazade_new"), ("blaka", "blaka_hollow"), ("nazli", "ukij_tuz")]


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, font_file, npm_font_file):
    from rasterd.ingest.run import run_ingest

    paths = {key: font_file(rel) for key, rel in DEBIAN.items()}
    paths.update({key: npm_font_file(*where) for key, where in NPM.items()})
    root = tmp_path_factory.mktemp("groups")
    config = IngestConfig(fonts=[str(p) for p in paths.values()], database=str(root / "g.db"), workers=2,
                          outputs={"root": str(root / "out")})  # fmt: skip
    run_ingest(config)
    splits = SplitConfig()
    with GlyphDatabase(config.database) as db, AuditLog(root / "audit.jsonl") as audit:
        catalog = scan_database(db, audit, 100_000, shape_labels=splits.shape_letters)
    shapes = shape_scores(shape_masks(catalog.shape_contours, RasterConfig()), splits.shape_min_letters)
    selection = select_dataset(catalog, LabelConfig(min_count=1), splits, shapes)
    # Test keys -> font hashes, through the ingest's per-font report (path -> hash).
    key_of = {str(path): key for key, path in paths.items()}
    report = root / "out" / "logs" / "ingest_fonts.jsonl"
    hash_of = {key_of[rec["path"]]: rec["font"] for rec in map(json.loads, report.read_text().splitlines())}
    assert set(hash_of.values()) == set(catalog.fonts)
    return selection, shapes, hash_of


def test_instances_and_copies_of_one_design_share_a_group(grouped):
    selection, _, font = grouped
    groups = selection.font_groups
    assert groups[font["noto_regular"]] == groups[font["noto_bold"]]  # one design by family name
    assert groups[font["amiri"]] == groups[font["amiri_quran"]]  # one design by outline identity


@pytest.mark.parametrize("original, copy", NEAR_COPIES)
def test_redrawn_near_copies_are_one_design_by_shape(grouped, original, copy):
    selection, shapes, font = grouped
    group = selection.font_groups[font[original]]
    assert selection.font_groups[font[copy]] == group
    shape_merges = [m for m in selection.split.merges[group] if m["rule"] == "shape"]
    assert any(font[copy] in m["fonts"] for m in shape_merges)  # the copy joined by shape, not by name
    for merge in shape_merges:
        i, j = (shapes.fonts.index(f) for f in merge["fonts"])
        assert merge["score"] == pytest.approx(shapes.score[i, j], abs=1e-4)
        assert merge["score"] >= SplitConfig().shape_threshold


def test_different_designs_stay_apart(grouped):
    selection, shapes, font = grouped
    distinct = ["amiri", "kacst", "noto_regular", "alkalami", "scheherazade", "blaka", "nazli"]  # fmt: skip
    assert len({selection.font_groups[font[key]] for key in distinct}) == len(distinct)
    i, j = shapes.fonts.index(font["amiri"]), shapes.fonts.index(font["kacst"])
    assert 0 < shapes.score[i, j] < 0.6
    assert shapes.shared[i, j] == len(CORE_LETTERS)


def test_split_keeps_groups_whole_and_says_why(grouped):
    selection, _, font = grouped
    selection.split.check_disjoint()
    owner = selection.split.split_of_font()
    for f, group in selection.font_groups.items():
        assert {owner[g] for g, name in selection.font_groups.items() if name == group} == {owner[f]}
    rules = {m["rule"] for merges in selection.split.merges.values() for m in merges}
    assert rules == {"name", "outlines", "shape"}
