"""Fixtures for the ingest tests: installed Debian fonts (a test skips, naming the file, when one is missing)."""

from pathlib import Path

import pytest

FONT_ROOT = Path("/usr/share/fonts")


def _installed(relative: str) -> Path:
    path = FONT_ROOT / relative
    if not path.is_file():
        pytest.skip(f"font {path} is not installed (run `make install`)")
    return path


@pytest.fixture(scope="session")
def amiri() -> Path:
    """Naskh, TrueType outlines; lam-alef is shaped as two glyphs."""
    return _installed("opentype/fonts-hosny-amiri/Amiri-Regular.ttf")


@pytest.fixture(scope="session")
def lemonada() -> Path:
    """CFF (cubic) outlines."""
    return _installed("opentype/lemonada/Lemonada-Regular.otf")


@pytest.fixture(scope="session")
def kacst_one() -> Path:
    return _installed("truetype/kacst-one/KacstOne.ttf")


@pytest.fixture(scope="session")
def kacst_one_bold() -> Path:
    return _installed("truetype/kacst-one/KacstOne-Bold.ttf")


@pytest.fixture(scope="session")
def nastaliq() -> Path:
    """Noto Nastaliq Urdu: dots and many letter parts are separate glyphs."""
    return _installed("truetype/noto/NotoNastaliqUrdu-Regular.ttf")


@pytest.fixture(scope="session")
def latin_only_font() -> Path:
    """A font without Arabic letters."""
    return _installed("truetype/noto/NotoSans-Regular.ttf")
