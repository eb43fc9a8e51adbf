"""`glyph-train pipeline`: the training stages in order, each skipped when nothing it depends on changed.

A stage's key hashes its own config, the rasters build it reads and the keys of the stages it
depends on; each stage records its key in the run history. A stage is up to date when the latest
run of its command recorded the same key and left its outputs in place, and no stage it depends on
ran in this pipeline run. Editing one config reruns that stage and everything downstream, and a
second `make demo` only prints the table.
Tokenizing is rasterd's job: the pipeline runs `rasterd tokenize`, which skips itself when its
store is current.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glyph_core.config import StrictModel, config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs
from glyph_core.store import open_store

from glyph_train.stages import STAGES, PipelineConfig, Stage


def stage_key(stage: str, stage_config_hash: str, rasters_build_id: str, upstream: dict[str, str]) -> str:
    payload = {"stage": stage, "config": stage_config_hash, "rasters": rasters_build_id, "upstream": upstream}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def up_to_date(layout: OutputLayout, stage: Stage, key: str) -> bool:
    """The latest run of the stage's command recorded ``key`` and its outputs still exist."""
    runs = [r for r in read_runs(layout) if r.get("command") == stage.command]
    if not runs or runs[-1].get("stage_key") != key:
        return False
    paths = [str(runs[-1]["outputs"].get(k, "")) for k in stage.outputs]
    return all(p and Path(p).exists() for p in paths)


def profile_for(stage: str, own: str, profile: str | None) -> str:
    """The profile a stage trains under the pipeline's override. Phase 1 has no `long`: a CPU run to
    convergence keeps Phase 1's own profile (its `quick` already names 97% of cells right)."""
    if profile is None or (stage == "phase1" and profile == "long"):
        return own
    return profile


def with_profile(config: StrictModel, stage: str, profile: str | None) -> StrictModel:
    """The stage config under the pipeline's profile override (``profile_for``)."""
    if profile is None or not hasattr(config, "profile"):
        return config
    return config.model_copy(update={"profile": profile_for(stage, config.profile, profile)})


@dataclass
class PipelineSummary:
    stages: list[tuple[str, str, float]] = field(default_factory=list)  # (stage, ran | skipped, seconds)
    final: Any = None  # the comparison table
    final_printed: bool = False  # the evaluate stage ran and printed it

    def __str__(self) -> str:
        lines = ["stage        status    seconds"]
        lines += [f"{name:<12} {status:<9} {seconds:7.1f}" for name, status, seconds in self.stages]
        total = sum(s for _, _, s in self.stages)
        lines.append(f"{'total':<22} {total:7.1f}")
        if self.final is not None and not self.final_printed:
            lines += ["", str(self.final)]
        return "\n".join(lines)


def rasterd_command() -> str:
    """`rasterd` from this environment (it installs beside glyph-train), else from PATH."""
    local = Path(sys.executable).with_name("rasterd")
    found = str(local) if local.exists() else shutil.which("rasterd")
    if not found:
        raise FileNotFoundError("the tokenize stage needs the `rasterd` command: `pip install -e services/rasterd`")
    return found


def check_order(config: PipelineConfig) -> None:
    """Refuse, before anything runs, a stage listed ahead of one its config makes it read (Phase 2 distilling)."""
    for index, name in enumerate(config.stages):
        stage, path = STAGES[name], config.configs.get(name)
        if not stage.optional_upstream or path is None:
            continue
        late = [d for d in stage.upstream_for(stage.load_config(path)) if d in config.stages[index:]]
        if late:
            raise ValueError(f"pipeline: {name} ({path}) reads {', '.join(late)}, which `stages` lists after it: list {late[0]} first")


def run_pipeline(config: PipelineConfig, config_path: str | None = None) -> PipelineSummary:
    check_order(config)
    summary = PipelineSummary()
    keys: dict[str, str] = {}
    root: Path | None = None
    for name in config.stages:
        path = config.configs.get(name)
        if path is None:
            raise ValueError(f"pipeline: no config path for stage {name!r} under `configs`")
        began = time.perf_counter()
        stage = STAGES[name]
        if stage.program == "rasterd":  # rasterd's own stage: a command, which skips itself when current
            print(f"== {name}: {rasterd_command()} {name} --config {path}", flush=True)
            subprocess.run([rasterd_command(), name, "--config", path], check=True)
            summary.stages.append((name, "ran", time.perf_counter() - began))
            continue
        stage_config = with_profile(stage.load_config(path), name, config.profile)
        layout = OutputLayout.at(stage_config.outputs.root)
        if root is not None and layout.root != root:
            raise ValueError(f"pipeline: {path} writes under {layout.root}, the other stages under {root}")
        root = layout.root
        build_id = str(open_store(layout.rasters_store, "rasters").attrs["build_id"])
        upstream = stage.upstream_for(stage_config)
        key = stage_key(name, config_hash(stage_config), build_id, {d: keys.get(d, "") for d in upstream})
        keys[name] = key
        # A stage downstream of one that just ran reads new outputs, whatever its key says.
        fresh_upstream = any(status == "ran" and done in upstream for done, status, _ in summary.stages)
        if not config.force and not fresh_upstream and up_to_date(layout, stage, key):
            print(f"== {name}: up to date (same config, inputs and upstream stages), skipped", flush=True)
            summary.stages.append((name, "skipped", time.perf_counter() - began))
            if name == "evaluate":
                summary.final = _saved_table(layout)
            continue
        print(f"== {name}", flush=True)
        # The stage is stale: a checkpoint of its old settings is replaced, not refused.
        kwargs = {"restart_stale": True} if stage.checkpointed else {}
        result = stage.runner()(stage_config, config_path=path, stage_key=key, **kwargs)
        print(result, flush=True)
        summary.stages.append((name, "ran", time.perf_counter() - began))
        if name == "evaluate":
            summary.final = result.table  # printed above already; kept for callers
            summary.final_printed = True
    return summary


def _saved_table(layout: OutputLayout) -> str:
    """The comparison table of the evaluation on disk (the evaluate stage was skipped)."""
    from glyph_train.evaluate.run import FOLDER, headline

    return headline(json.loads((layout.analysis / FOLDER / "evaluation.json").read_text(encoding="utf-8")))
