"""Shared fixtures: real fonts from Debian packages and a small real glyphs.db built by `rasterd ingest`."""

import sys
from pathlib import Path

import pytest

pytest_plugins = ["no_skip_in_ci"]

FONT_ROOT = Path("/usr/share/fonts")
REPO_ROOT = Path(__file__).resolve().parents[1]
# pytest puts only the running test's folder on sys.path; the helper modules of both folders
# (serve_fixtures, browser, train_helpers) are importable from either.
for _helpers in ("rasterd", "glyph_train"):
    if str(REPO_ROOT / "tests" / _helpers) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "tests" / _helpers))
NPM_FONTS = REPO_ROOT / "fonts" / "node_modules" / "@fontsource"
# A handful of independent designs of different kinds: Naskh TrueType, CFF, Kufi, sans, West African.
SMALL_FONT_SET = (
    "opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "opentype/lemonada/Lemonada-Regular.otf",
    "truetype/kacst-one/KacstOne.ttf",
    "truetype/noto/NotoSansArabic-Regular.ttf",
    "truetype/noto/NotoNaskhArabic-Regular.ttf",
    "truetype/noto/NotoKufiArabic-Regular.ttf",
    "truetype/harmattan/Harmattan-Regular.ttf",
    "truetype/scheherazade/Scheherazade-Regular.ttf",
)


def real_font(relative: str) -> Path:
    """Path of an installed Debian font, or skip the test naming the file."""
    path = FONT_ROOT / relative
    if not path.is_file():
        pytest.skip(f"font {path} is not installed (run `make install`)")
    return path


@pytest.fixture(scope="session")
def font_file():
    """``real_font`` for tests that pick their own fonts."""
    return real_font


def npm_font(package: str, name: str) -> Path:
    """Path of a file of an installed npm font package (fonts/package.json), or skip naming it."""
    path = NPM_FONTS / package / "files" / name
    if not path.is_file():
        pytest.skip(f"npm font {path} is not installed (run `make install`)")
    return path


@pytest.fixture(scope="session")
def npm_font_file():
    """``npm_font`` for tests that pick their own npm fonts."""
    return npm_font


@pytest.fixture(scope="session")
def amiri() -> Path:
    """Naskh, TrueType outlines; lam-alef is shaped as two glyphs."""
    return real_font("opentype/fonts-hosny-amiri/Amiri-Regular.ttf")


@pytest.fixture(scope="session")
def lemonada() -> Path:
    """CFF (cubic) outlines."""
    return real_font("opentype/lemonada/Lemonada-Regular.otf")


@pytest.fixture(scope="session")
def kacst_one() -> Path:
    return real_font("truetype/kacst-one/KacstOne.ttf")


@pytest.fixture(scope="session")
def kacst_one_bold() -> Path:
    return real_font("truetype/kacst-one/KacstOne-Bold.ttf")


@pytest.fixture(scope="session")
def nastaliq() -> Path:
    """Noto Nastaliq Urdu: dots and many letter parts are separate glyphs."""
    return real_font("truetype/noto/NotoNastaliqUrdu-Regular.ttf")


@pytest.fixture(scope="session")
def latin_only_font() -> Path:
    """A font without Arabic letters."""
    return real_font("truetype/noto/NotoSans-Regular.ttf")


@pytest.fixture(scope="session")
def small_font_paths() -> list[Path]:
    paths = [FONT_ROOT / rel for rel in SMALL_FONT_SET if (FONT_ROOT / rel).is_file()]
    if len(paths) < 6:
        pytest.skip("the Debian Arabic font packages are not installed (run `make install`)")
    return paths


@pytest.fixture(scope="session")
def small_glyphs_db(tmp_path_factory, small_font_paths) -> Path:
    """A glyphs.db ingested from the small font set (built once per test session)."""
    from glyph_core.config import IngestConfig
    from rasterd.ingest.run import run_ingest

    root = tmp_path_factory.mktemp("small_db")
    config = IngestConfig(
        fonts=[str(p) for p in small_font_paths],
        database=str(root / "dataset" / "glyphs.db"),
        workers=1,
        outputs={"root": str(root / "outputs")},
    )
    run_ingest(config)
    return Path(config.database)
