"""The primitive centroids the service tokenizes with, and the grids store made from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from glyph_core.cells import PrimitiveAssigner


@dataclass(frozen=True, eq=False)
class PrimitiveView:
    """Primitive centroids, the assigner that turns masks into ids, and id frequencies when a
    matching grids store exists."""

    centroids: np.ndarray
    hash: str
    cell_size: int
    assigner: PrimitiveAssigner
    frequencies: np.ndarray | None
    frequencies_from: str | None
