"""Where every generated artifact lives under the outputs root (docs/outputs.md): the one place for paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputLayout:
    """Folders and well-known files under one outputs root."""

    root: Path

    @classmethod
    def at(cls, root: str | Path) -> OutputLayout:
        return cls(Path(root))

    @property
    def rasters(self) -> Path:
        return self.root / "rasters"

    @property
    def grids(self) -> Path:
        return self.root / "grids"

    @property
    def meta(self) -> Path:
        return self.root / "meta"

    @property
    def primitives(self) -> Path:
        return self.root / "primitives"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def ablations(self) -> Path:
        """`glyph-train ablate`: an outputs root per raster variant, each row's configs and result, the table."""
        return self.root / "ablations"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def export(self, name: str) -> Path:
        """A model bundle `glyph-train export` writes (docs/export.md)."""
        return self.root / "export" / name

    def checkpoints(self, phase: str) -> Path:
        return self.root / "checkpoints" / phase

    def audit_log(self, command: str) -> Path:
        """JSONL of rows/fonts a command rejected, with reasons."""
        return self.logs / f"{command}_audit.jsonl"

    @property
    def meta_jsonl(self) -> Path:
        return self.meta / "meta.jsonl"

    @property
    def label_map(self) -> Path:
        return self.meta / "label_map.json"

    @property
    def split_manifest(self) -> Path:
        return self.meta / "splits.json"

    @property
    def split_report(self) -> Path:
        """Per split: design groups, fonts, rows, labels, held-out labels absent from train (Markdown; JSON beside it)."""
        return self.meta / "split_report.md"

    @property
    def label_report(self) -> Path:
        """Label pairs drawn identically in most fonts (candidates for merging)."""
        return self.meta / "label_merge_candidates.json"

    @property
    def run_history(self) -> Path:
        return self.meta / "run_history.jsonl"

    @property
    def rasters_store(self) -> Path:
        return self.rasters / "rasters.zarr"

    @property
    def variants_store(self) -> Path:
        """Outline-augmented variants of the train glyphs (`rasterd build`, ``augment.variants``)."""
        return self.rasters / "variants.zarr"

    @property
    def variant_grids_store(self) -> Path:
        """True primitive grids of the variants (`rasterd tokenize`)."""
        return self.grids / "variant_grids.zarr"

    @property
    def grids_store(self) -> Path:
        return self.grids / "grids.zarr"

    @property
    def predicted_grids_store(self) -> Path:
        """Phase 1's predicted primitive grids for every raster (`glyph-train phase1`)."""
        return self.grids / "predicted_grids.zarr"

    @property
    def centroids(self) -> Path:
        return self.primitives / "primitive_centroids.npy"
