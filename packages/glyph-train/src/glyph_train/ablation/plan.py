"""What `glyph-train ablate` runs, worked out before anything runs (pure: dicts in, dicts out).

Each row is the base configs with its changes overlaid. Rows whose rasterizer settings agree share
one outputs root (a *group*) and run one after another in it, so the pipeline's stage keys decide
what each row reruns: a row that changes only Phase 2 reuses the primitives and Phase 1 of the row
before it. Inside a group, rows that change later stages run first (docs/ablations.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glyph_core.ablation_config import AblateConfig, AblationRow
from glyph_core.config import ProfiledConfig, overlay
from pydantic import ValidationError

from glyph_train.pipeline import profile_for
from glyph_train.stages import STAGES

# The stages a row's way needs, in pipeline order; every row ends with `evaluate` of that one way.
WAY_STAGES: dict[str, tuple[str, ...]] = {
    "end_to_end": ("primitives", "tokenize", "phase1", "phase2"),
    "phase2_true_grids": ("primitives", "tokenize", "phase1", "phase2"),
    "baseline": ("baseline",),
}
CHANGE_ORDER = ("rasterizer", "primitives", "phase1", "phase2", "baseline", "evaluate")  # upstream first
# Settings that do not change what a build writes: a group is the same raster content, not the same paths.
RASTER_RUN_KEYS = ("outputs", "dask", "build")


def canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()


@dataclass
class RowPlan:
    row: AblationRow
    group: str  # name of the outputs root the row runs in (its first row's name)
    root: Path  # that group's outputs root
    folder: Path  # ablations/rows/<name>/: the recorded configs and the result
    rasterizer: dict[str, Any]  # `rasterd build` / `rasterd tokenize` config
    stages: list[str]  # pipeline stages, in order
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # stage -> resolved config

    @property
    def key(self) -> str:
        """Everything the row's numbers depend on, apart from the database (the build id carries it)."""
        return digest({"way": self.row.way, "rasterizer": content(self.rasterizer), "stages": self.stages,
                       "configs": {s: content(c) if s == "tokenize" else without_root(c) for s, c in self.configs.items()}})  # fmt: skip

    def config_path(self, stage: str) -> Path:
        return self.folder / "configs" / f"{stage}.yaml"

    def pipeline(self) -> dict[str, Any]:
        """The row's `glyph-train pipeline` config: its stages, each config recorded in its folder."""
        return {"stages": self.stages, "configs": {s: str(self.config_path(s)) for s in self.stages}, "profile": None, "force": False}


def content(rasterizer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rasterizer.items() if k not in RASTER_RUN_KEYS}


def without_root(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k != "outputs"}


def with_root(config: dict[str, Any], root: Path) -> dict[str, Any]:
    return overlay(config, {"outputs": {"root": str(root)}})


def apply_changes(stage: str, config: dict[str, Any], changes: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """``config`` (a stage's file as a dict) with ``changes``; for a profiled stage the profile is set
    and a change under ``training`` goes into that profile's overlay, so it wins over the profile."""
    model = STAGES[stage].config_model if stage in STAGES else None
    changes = dict(changes)
    if model is None or not issubclass(model, ProfiledConfig):
        return overlay(config, changes)
    active = profile_for(stage, str(config.get("profile", "quick")), profile)
    training = changes.pop("training", None)
    changed = overlay(config, changes) | {"profile": active}
    if training:
        profiles = dict(changed.get("profiles", {}))
        profiles[active] = overlay(profiles.get(active, {}), training)
        changed["profiles"] = profiles
    return changed


def earliest_change(row: AblationRow) -> int:
    """Index of the most upstream config the row changes (len(CHANGE_ORDER) when it changes none)."""
    return min((CHANGE_ORDER.index(t) for t in row.changes), default=len(CHANGE_ORDER))


def plan_rows(
    config: AblateConfig, base_rasterizer: dict[str, Any], base_stages: dict[str, dict[str, Any]], ablations: Path
) -> list[RowPlan]:
    """Every row resolved, in the order they run: groups by first appearance, inside a group the rows
    that change later stages first (they reuse what the group's earlier rows trained)."""
    groups: dict[str, str] = {}  # raster content digest -> group name
    plans = []
    for row in config.rows:
        rasterizer = overlay(base_rasterizer, row.changes.get("rasterizer", {}))
        group = groups.setdefault(digest(content(rasterizer)), row.name)
        root = ablations / "groups" / group
        plan = RowPlan(row, group, root, ablations / "rows" / row.name, with_root(rasterizer, root), [])

        def resolve(stage: str) -> dict[str, Any]:
            if stage == "tokenize":
                return plan.rasterizer
            resolved = apply_changes(stage, base_stages[stage], row.changes.get(stage, {}), config.profile)
            if stage == "evaluate":
                resolved = overlay(resolved, {"models": [row.way]})
            return with_root(resolved, root)

        for stage in [*WAY_STAGES[row.way], "evaluate"]:
            plan.configs[stage] = resolve(stage)
            # A stage whose config reads another (Phase 2 distilling from the baseline) gets it trained first.
            if STAGES[stage].optional_upstream:
                try:
                    wanted = STAGES[stage].upstream_for(STAGES[stage].config_model.model_validate(plan.configs[stage]))
                except ValidationError:  # the run's check_row names the row and the bad key
                    wanted = ()
                for extra in (u for u in wanted if u not in plan.stages):
                    plan.configs[extra] = resolve(extra)
                    plan.stages.append(extra)
            plan.stages.append(stage)
        plans.append(plan)
    order = list(groups.values())
    return sorted(plans, key=lambda p: (order.index(p.group), -earliest_change(p.row)))
