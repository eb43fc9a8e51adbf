"""Design grouping on real fonts: instances and outline-identical copies of a design stay together."""

import pytest

from glyph_core.audit import AuditLog
from glyph_core.catalog import scan_database
from glyph_core.config import IngestConfig, LabelConfig, SplitConfig
from glyph_core.db import GlyphDatabase
from glyph_core.selection import select_dataset


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, font_file):
    from rasterd.ingest.run import run_ingest

    fonts = {
        "amiri": font_file("opentype/fonts-hosny-amiri/Amiri-Regular.ttf"),
        "amiri_quran": font_file("opentype/fonts-hosny-amiri/AmiriQuran.ttf"),
        "noto_regular": font_file("truetype/noto/NotoSansArabic-Regular.ttf"),
        "noto_bold": font_file("truetype/noto/NotoSansArabic-Bold.ttf"),
        "kacst": font_file("truetype/kacst-one/KacstOne.ttf"),
    }
    root = tmp_path_factory.mktemp("groups")
    config = IngestConfig(fonts=[str(p) for p in fonts.values()], database=str(root / "g.db"), workers=1,
                          outputs={"root": str(root / "out")})  # fmt: skip
    run_ingest(config)
    with GlyphDatabase(config.database) as db, AuditLog(root / "audit.jsonl") as audit:
        catalog = scan_database(db, audit, 100_000)
        families = [(f.family_name, h) for h, f in catalog.fonts.items()]
    selection = select_dataset(catalog, LabelConfig(min_count=1), SplitConfig())
    return selection, families


def test_instances_and_copies_of_one_design_share_a_group(grouped):
    selection, families = grouped
    groups = selection.font_groups
    noto = [groups[h] for name, h in families if name.startswith("Noto Sans Arabic")]
    assert len(noto) == 2 and len(set(noto)) == 1  # Regular and Bold: one design by family name
    amiri = [groups[h] for name, h in families if name.startswith("Amiri")]
    assert len(amiri) == 2 and len(set(amiri)) == 1  # Amiri Quran: same design by outline identity
    assert len(set(groups.values())) == 3


def test_split_keeps_groups_whole(grouped):
    selection, _ = grouped
    selection.split.check_disjoint()
    owner = selection.split.split_of_font()
    for font, group in selection.font_groups.items():
        assert {owner[f] for f, g in selection.font_groups.items() if g == group} == {owner[font]}
