"""Config of `glyph-train analyze` (docs/analysis.md): the error report of a trained end-to-end model.

Same rules as ``glyph_core.config``: every default lives here and is written out in configs/analyze.yaml.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from glyph_core.config import OutputsConfig, StrictModel


class AnalyzeConfig(StrictModel):
    """`glyph-train analyze`: a static HTML report of where Phase 1 + Phase 2 fail, under outputs/analysis/report/."""

    env_prefix: ClassVar[str | None] = "ANALYZE_"

    outputs: OutputsConfig = OutputsConfig()
    split: Literal["val", "test"] = Field("test", description="Held-out designs the report reads (it selects nothing).")
    look_samples: int = Field(12, ge=1, description="Right and as many wrong glyphs drawn with the cells the model looked at.")
    families: int = Field(8, ge=1, description="Confusion families: k-means clusters of the misclassified glyphs' Phase 2 features.")
    family_examples: int = Field(8, ge=1, description="Glyphs drawn per family.")
    attribution_examples: int = Field(6, ge=1, description="Phase 1 noise errors drawn with the cells Phase 1 named differently.")
    worst_labels: int = Field(20, ge=1, description="Labels listed by lowest alt-aware top-1 (with at least min_label_glyphs glyphs).")
    min_label_glyphs: int = Field(3, ge=1)
    counter_labels: list[str] = Field(
        default_factory=lambda: ["meem_isol", "heh_isol", "sad_isol", "tah_isol", "feh_isol", "qaf_isol", "waw_isol", "heh_init"],
        description="QA: labels whose rasters must keep a counter (an enclosed hole); those in the store are checked and drawn.",
    )
    counter_examples: int = Field(6, ge=1, description="Rasters drawn per counter label.")
    batch_size: int = Field(512, ge=1)
    bootstrap_resamples: int = Field(1000, ge=0, description="Resamples of design groups behind the headline interval; 0 = none.")
    seed: int = 42
