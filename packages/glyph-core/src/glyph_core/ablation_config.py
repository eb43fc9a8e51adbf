"""Config of `glyph-train ablate` (docs/ablations.md): pipeline variants side by side.

Same rules as ``glyph_core.config``: every default lives here and is written out in configs/ablations.yaml.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from glyph_core.classifier_config import ProfileName
from glyph_core.config import OutputsConfig, StrictModel

# The configs a row may change: the pipeline's stage configs by stage name, and the rasterizer's
# (`rasterd build`); a change to `rasterizer` gives the row a rasters store of its own.
ABLATION_TARGETS = ("rasterizer", "primitives", "phase1", "phase2", "baseline", "evaluate")
RowWay = Literal["end_to_end", "phase2_true_grids", "baseline"]


class AblationRow(StrictModel):
    """One variant: the base configs with ``changes`` overlaid (nested keys merge, anything else replaces)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Folder name of the row under ablations/rows/.")
    about: str = Field("", description="What the row changes, in words, for the table.")
    way: RowWay = Field("end_to_end", description="The evaluated way whose metrics the row reports.")
    changes: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per config (rasterizer, primitives, phase1, phase2, baseline, evaluate), keys overlaid on its file. "
        "Under `training`, a change applies to the ablation's profile.",
    )

    @field_validator("changes")
    @classmethod
    def _known_targets(cls, changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = sorted(set(changes) - set(ABLATION_TARGETS))
        if unknown:
            raise ValueError(f"unknown config(s) {', '.join(unknown)} (a row may change: {', '.join(ABLATION_TARGETS)})")
        return changes


def _cell_size(size: int) -> dict[str, Any]:
    """Another cell size; Phase 2's embedding starts from the centroids' pixels, so its width is size²."""
    return {"rasterizer": {"raster": {"cell_size": size}}, "phase2": {"training": {"model": {"embed_dim": size * size}}}}


def default_rows() -> list[AblationRow]:
    """docs/ablations.md's table: the base run, then one change per row."""
    rows: list[dict[str, Any]] = [
        {"name": "base", "about": "the profile as configured (see docs/ablations.md)"},
        {"name": "baseline", "about": "one-stage pixel model instead of the hierarchy", "way": "baseline"},
        {"name": "twin-loss-off", "about": "hard label loss (twins penalized)", "changes": {"phase2": {"loss": {"twin_aware": False}}}},
        {"name": "size-cues-off", "about": "no size cues into Phase 2", "changes": {"phase2": {"training": {"model": {"side_input": False}}}}},
        {"name": "transformer", "about": "Transformer backbone instead of the CNN", "changes": {"phase2": {"training": {"model": {"backbone": "transformer"}}}}},
        {"name": "vocab-511", "about": "511 primitives", "changes": {"primitives": {"clusters": 511}}},
        {"name": "vocab-2047", "about": "2,047 primitives", "changes": {"primitives": {"clusters": 2047}}},
        {"name": "cell-4", "about": "4 px cells (32x32 grid)", "changes": _cell_size(4)},
        {"name": "cell-16", "about": "16 px cells (8x8 grid)", "changes": _cell_size(16)},
        {"name": "centered", "about": "diacritics centered instead of top-left", "changes": {"rasterizer": {"raster": {"anchoring": "center"}}}},
        {"name": "evenodd", "about": "even-odd fill rule instead of nonzero", "changes": {"rasterizer": {"raster": {"fill_rule": "evenodd"}}}},
    ]
    return [AblationRow.model_validate(row) for row in rows]


class AblateConfig(StrictModel):
    """`glyph-train ablate`: each row a pipeline variant, every stage it does not change reused."""

    env_prefix: ClassVar[str | None] = "ABLATE_"

    outputs: OutputsConfig = OutputsConfig()
    pipeline: str = Field("configs/pipeline.yaml", description="Pipeline config naming the base config of every stage.")
    rasterizer: str = Field("configs/rasterizer.yaml", description="Base config of `rasterd build` (the database and raster policy).")
    profile: ProfileName = Field("quick", description="Training profile of phase1 (which has no `long`), phase2 and baseline in every row.")
    rows: list[AblationRow] = Field(default_factory=default_rows, min_length=1)
    table: str = Field(
        "ablation", pattern=r"^[A-Za-z0-9_.-]+$",
        description="File name of the table under outputs/ablations/ (.md, .json, .png): another config's rows share the rows and groups of the same names, each config keeps its own table.",
    )  # fmt: skip

    @field_validator("rows")
    @classmethod
    def _unique_names(cls, rows: list[AblationRow]) -> list[AblationRow]:
        names = [row.name for row in rows]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"row name(s) used twice: {', '.join(repeated)}")
        return rows
