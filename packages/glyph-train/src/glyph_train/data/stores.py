"""Identity checks of what glyph-train reads against what made it (stores are read through
``glyph_core.rasters``): a mismatch is refused with a message naming each difference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glyph_core.store import StoreError


def check_identity(what: str, found: Mapping[str, Any], expected: Mapping[str, Any], remedy: str) -> None:
    """Refuse when recorded identity values (hashes, build ids) differ from the current ones, naming each."""
    problems = [
        f"{key} is {str(found.get(key))[:12]}, expected {str(value)[:12]}"
        for key, value in expected.items()
        if found.get(key) != value
    ]
    if problems:
        raise StoreError(f"{what} does not match: " + "; ".join(problems) + f"; {remedy}")
