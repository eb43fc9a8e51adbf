"""Phase 1 preprocessing: rasters -> model-ready cells, their primitive-id targets and loss weights.

The keras-hub split: this turns raw data into what the classifier eats; the backbone and the head
never see a raster. Pure NumPy, so it runs in the input pipeline's threads and in tests alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from glyph_core.cell_config import CellAugmentConfig

from glyph_train.data.augment import degrade, draw_augmentation, extract_patches, halo_radius, translate
from glyph_core.cells import PrimitiveAssigner


@dataclass(frozen=True)
class CellBatch:
    """Cells cut from some rasters, with where each came from."""

    inputs: np.ndarray  # (M, c, c, 1) float32 in [0, 1]
    targets: np.ndarray  # (M,) int32 primitive ids of the (translated) binary cells
    weights: np.ndarray  # (M,) float32 loss weights
    raster: np.ndarray  # (M,) index of the source raster in the masks given
    position: np.ndarray  # (M,) row-major cell index within the raster's grid

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, index: np.ndarray) -> CellBatch:
        return CellBatch(*(getattr(self, f)[index] for f in ("inputs", "targets", "weights", "raster", "position")))

    @staticmethod
    def concat(batches: list[CellBatch]) -> CellBatch:
        fields = ("inputs", "targets", "weights", "raster", "position")
        return CellBatch(*(np.concatenate([getattr(b, f) for b in batches]) for f in fields))


class CellPreprocessor:
    """Augment whole rasters, cut them into cells, name each cell's primitive, and cap the empty cells."""

    def __init__(
        self,
        assigner: PrimitiveAssigner,
        augment: CellAugmentConfig,
        empty_share: float,
        empty_weight: float = 1.0,
    ) -> None:
        self.assigner = assigner
        self.codec = assigner.codec
        self.augment = augment
        self.empty_share = empty_share
        self.empty_weight = empty_weight
        self.halo = halo_radius(augment.blur_sigma_max)

    def __call__(
        self,
        masks: np.ndarray,
        is_diacritic: np.ndarray,
        rng: np.random.Generator,
        *,
        augment: bool,
        cap_empty: bool,
    ) -> CellBatch:
        """Cells of (N, S, S) 0/1 masks; ``cap_empty`` keeps every non-empty cell and a sample of empty ones."""
        cell = self.codec.cell_size
        draw = draw_augmentation(is_diacritic, self.augment, rng) if augment else None
        if draw is not None:
            masks = translate(masks, draw.shifts)
        keys = self.codec.masks_to_keys(masks)
        per_raster = keys.shape[1] * keys.shape[2]
        flat = keys.reshape(-1)
        nonempty = flat != self.codec.empty_key
        chosen = self._keep_empty_share(nonempty, rng) if cap_empty else np.arange(len(flat))
        raster, position = np.divmod(chosen, per_raster)
        targets = self.assigner.assign_keys(flat[chosen]).astype(np.int32)
        if draw is not None and (self.halo or self.augment.gamma_jitter):
            row, col = np.divmod(position, keys.shape[2])
            patches = extract_patches(masks, raster, row, col, cell, self.halo)
            inputs = degrade(patches, draw.sigmas[raster], draw.gammas[raster], self.halo)
        else:
            inputs = self.codec.decode(flat[chosen]).reshape(-1, cell, cell).astype(np.float32)
        weights = np.where(targets == 0, np.float32(self.empty_weight), np.float32(1.0)).astype(np.float32)
        return CellBatch(inputs[..., None], targets, weights, raster, position)

    def _keep_empty_share(self, nonempty: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Indices of all non-empty cells plus enough random empty ones to make ``empty_share`` of the result."""
        full = np.flatnonzero(nonempty)
        empty = np.flatnonzero(~nonempty)
        wanted = int(len(full) * self.empty_share / (1.0 - self.empty_share))
        keep = rng.choice(len(empty), size=min(wanted, len(empty)), replace=False)
        return np.sort(np.concatenate([full, empty[keep]]))
