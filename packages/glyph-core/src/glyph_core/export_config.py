"""Configs of the bundle commands (docs/export.md): `glyph-train export` and `glyph-train predict`.

Same rules as ``glyph_core.config``: every default lives here and is written out in configs/*.yaml.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from glyph_core.config import OutputsConfig, StrictModel

SplitName = Literal["train", "val", "test"]


class ExportConfig(StrictModel):
    """`glyph-train export`: the trained Phase 1 + Phase 2 as a LiteRT bundle under outputs/export/<name>/."""

    env_prefix: ClassVar[str | None] = "EXPORT_"

    outputs: OutputsConfig = OutputsConfig()
    name: str = Field("end_to_end", pattern=r"^[A-Za-z0-9_.-]+$", description="Bundle folder under outputs/export/.")
    precisions: list[Literal["float32", "int8"]] = Field(
        default_factory=lambda: ["float32", "int8"], description="LiteRT models written; int8 is full-integer, calibrated on train glyphs."
    )
    calibration_glyphs: int = Field(512, ge=16, description="Train glyphs (seeded draw) whose cells and grids calibrate the int8 models.")
    splits: list[SplitName] = Field(default_factory=lambda: ["val", "test"], description="Splits scored for the manifest's accuracy.")
    index: bool = Field(True, description="Write the retrieval index (features of every store glyph) and measure retrieval on the test designs.")
    retrieval_k: int = Field(10, ge=1, description="Neighbours counted by the retrieval measure.")
    retrieval_label_weight: float = Field(
        0.5, ge=0, description="Similar glyphs are ranked by cosine plus this times the probability the query's prediction gives "
        "their label; 0 = cosine alone. Measured both ways on val and test; chosen on val (docs/export.md).",
    )
    latency_glyphs: int = Field(256, ge=1, description="Test glyphs timed one at a time for the latency per glyph.")
    batch_size: int = Field(256, ge=1)
    bootstrap_resamples: int = Field(1000, ge=0, description="Resamples of design groups behind the accuracy intervals; 0 = none.")
    seed: int = 42

    @field_validator("precisions")
    @classmethod
    def _float32_first(cls, value: list[str]) -> list[str]:
        if "float32" not in value:
            raise ValueError("precisions must include float32 (the reference every other precision is checked against)")
        return sorted(set(value), key=["float32", "int8"].index)


class PredictConfig(StrictModel):
    """`glyph-train predict`: a bundle over any rasters store -> predictions.jsonl and a per-font summary."""

    env_prefix: ClassVar[str | None] = "PREDICT_"

    outputs: OutputsConfig = OutputsConfig()
    bundle: str = Field("outputs/export/end_to_end", description="Bundle folder `glyph-train export` wrote.")
    precision: Literal["float32", "int8"] = "float32"
    source_root: str = Field("outputs", description="Outputs root whose rasters store is predicted (another corpus: its own `rasterd build` root).")
    name: str = Field("home", pattern=r"^[A-Za-z0-9_.-]+$", description="Results go to outputs/analysis/predict/<name>/.")
    splits: list[SplitName] | None = Field(None, description="Rows of these splits only; null = every row of the store.")
    top_k: int = Field(5, ge=1)
    batch_size: int = Field(512, ge=1)
