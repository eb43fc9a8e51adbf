"""The npm font packages: exactly the pinned list, only their Arabic WOFF2 subsets, and what a
subset font gives the ingest."""

import json
from pathlib import Path

import pytest

from glyph_core.config import IngestConfig
from rasterd.ingest.discover import FontInputError, discover_fonts, npm_font_files
from rasterd.ingest.extract import extract_file

PACKAGE_JSON = Path(__file__).resolve().parents[2] / "fonts" / "package.json"
# The corpus issue's list, verbatim: no other npm family may enter the corpus.
PINNED = {
    "badeen-display": "5.3.0", "beiruti": "5.3.0", "blaka": "4.5.3", "blaka-hollow": "4.5.3", "fustat": "5.3.0",
    "gulzar": "5.3.0", "handjet": "5.3.0", "jomhuria": "5.3.0", "katibeh": "5.3.0", "kufam": "5.3.0",
    "mada": "5.3.0", "marhey": "5.3.0", "markazi-text": "5.3.0", "mirza": "5.3.0", "playpen-sans-arabic": "5.3.0",
    "qahiri": "5.2.9", "rakkas": "5.3.0", "rubik": "5.3.0", "ruwudu": "5.0.3", "scheherazade-new": "5.3.0",
    "vibes": "5.2.8",
}  # fmt: skip


@pytest.fixture(scope="module")
def installed():
    if not (PACKAGE_JSON.parent / "node_modules").is_dir():
        pytest.skip("npm font packages are not installed (run `make install`)")
    return npm_font_files(PACKAGE_JSON, IngestConfig().npm_files)


def test_package_json_and_lock_pin_exactly_the_listed_packages():
    wanted = {f"@fontsource/{name}": version for name, version in PINNED.items()}
    assert json.loads(PACKAGE_JSON.read_text())["dependencies"] == wanted
    lock = json.loads((PACKAGE_JSON.parent / "package-lock.json").read_text())
    locked = {path.removeprefix("node_modules/"): entry["version"] for path, entry in lock["packages"].items() if path}
    assert locked == wanted


def test_only_the_arabic_woff2_subsets_of_the_listed_packages(installed):
    packages = {path.parent.parent.name for path in installed}
    assert packages == set(PINNED)
    for path in installed:
        assert path.suffix == ".woff2" and "-arabic-" in path.name
        assert path.with_suffix(".woff").is_file()  # the twin exists and is not read
    assert not any(p.suffix == ".woff" for p in installed)
    assert len(installed) == len(set(installed)) > len(PINNED)
    # The family name holds "-arabic-" itself: its Latin, math and emoji subsets must stay out.
    playpen = [p.name for p in installed if p.parent.parent.name == "playpen-sans-arabic"]
    assert playpen and all(name.startswith("playpen-sans-arabic-arabic-") for name in playpen)


def test_the_default_ingest_config_reads_the_npm_packages(installed):
    found = discover_fonts(["npm:" + str(PACKAGE_JSON)], IngestConfig().npm_files)
    assert found == sorted(p.resolve() for p in installed)
    assert "npm:fonts/package.json" in IngestConfig().fonts


def fake_package(root: Path, name: str, version: str, files: list[str]) -> None:
    folder = root / "node_modules" / "@fontsource" / name
    (folder / "files").mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": f"@fontsource/{name}", "version": version}))
    for file in files:
        (folder / "files" / file).write_bytes(b"x")


def test_unlisted_packages_are_ignored_and_bad_installs_are_errors(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"@fontsource/a": "1.0.0"}}))
    with pytest.raises(FontInputError, match="not installed.*make install"):
        npm_font_files(tmp_path / "package.json", "*-arabic-*.woff2")
    fake_package(tmp_path, "a", "1.0.0", ["a-arabic-400-normal.woff2", "a-arabic-400-normal.woff", "a-latin-400-normal.woff2"])
    fake_package(tmp_path, "unlisted", "1.0.0", ["unlisted-arabic-400-normal.woff2"])
    assert [p.name for p in npm_font_files(tmp_path / "package.json", "{package}-arabic-*.woff2")] == ["a-arabic-400-normal.woff2"]
    with pytest.raises(FontInputError, match="no files/a-cyrillic-"):
        npm_font_files(tmp_path / "package.json", "{package}-cyrillic-*.woff2")
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"@fontsource/a": "2.0.0"}}))
    with pytest.raises(FontInputError, match="1.0.0 is installed, 2.0.0 is pinned"):
        npm_font_files(tmp_path / "package.json", "*-arabic-*.woff2")
    with pytest.raises(FontInputError, match="no such file"):
        discover_fonts(["npm:" + str(tmp_path / "missing.json")])


def test_a_woff2_arabic_subset_keeps_its_positional_forms(npm_font_file):
    path = npm_font_file("rubik", "rubik-arabic-400-normal.woff2")
    result = extract_file(str(path), IngestConfig())
    assert not result.failures and len(result.faces) == 1
    face = result.faces[0]
    counts = face.form_counts()
    labels = {g.label for g in face.glyphs}
    assert {"beh_isol", "beh_init", "beh_medi", "beh_final"} <= labels  # GSUB survives the subsetting
    assert counts["contextual"] > 100 and counts["ligatures"] >= 1 and counts["marks"] >= 5
    assert sum(counts.values()) == len(face.glyphs)
    assert face.font.family_name.startswith("Rubik") and face.font.typo_descent < 0 and not face.corrections
