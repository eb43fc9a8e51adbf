"""`glyph-train ablate`: run every row of configs/ablations.yaml and write the table (docs/ablations.md).

Layout under ``<outputs>/ablations/``: ``groups/<group>/`` is an outputs root per raster content,
``rows/<row>/`` holds the row's recorded configs (``configs/*.yaml``, ``pipeline.yaml``), its
evaluation and ``result.json``; ``<table>.md``, ``.json`` and ``.png`` the table (``ablation`` by default).
A row whose key (its resolved configs and rasters build) matches its saved result is not rerun, so
an interrupted ablation continues where it stopped.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from glyph_core.ablation_config import AblateConfig
from glyph_core.config import ConfigError, RasterizerConfig, load_config
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs
from glyph_core.store import open_store
from pydantic import ValidationError

from glyph_train.ablation import table
from glyph_train.ablation.plan import RowPlan, digest, plan_rows
from glyph_train.evaluate.report import write_json
from glyph_train.evaluate.run import FOLDER
from glyph_train.pipeline import rasterd_command, run_pipeline
from glyph_train.stages import STAGES, PipelineConfig


@dataclass
class AblateSummary:
    table: str
    path: Path
    cpu_s: float
    wall_s: float
    reran: int
    kept: int

    def __str__(self) -> str:
        return "\n".join([
            self.table, "",
            f"rows run {self.reran}, kept from an earlier run {self.kept}; CPU {self.cpu_s / 60:.1f} min, wall {self.wall_s / 60:.1f} min",
            f"table            {self.path}",
        ])  # fmt: skip


def cpu_seconds() -> float:
    """User + system CPU time of this process and of every child it waited for (rasterd, its Dask workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def base_configs(config: AblateConfig) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The rasterizer's and every stage's base config, resolved (defaults and environment applied)."""
    pipeline = load_config(config.pipeline, PipelineConfig, env_prefix=PipelineConfig.env_prefix)
    rasterizer = load_config(config.rasterizer, RasterizerConfig, env_prefix=RasterizerConfig.env_prefix)
    stages = {name: STAGES[name].load_config(path).model_dump(mode="json") for name, path in pipeline.configs.items()
              if name in STAGES and STAGES[name].program == "glyph-train"}  # fmt: skip
    return rasterizer.model_dump(mode="json"), stages


def check_row(plan: RowPlan) -> None:
    """Every resolved config through its model, before anything runs: a bad change names the row."""
    checks = [("rasterizer", RasterizerConfig, plan.rasterizer)]
    checks += [(stage, STAGES[stage].config_model, c) for stage, c in plan.configs.items() if stage != "tokenize"]
    for stage, model, data in checks:
        try:
            model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"ablation row {plan.row.name!r}, {stage} config: {problems}") from None


def write_row_configs(plan: RowPlan) -> Path:
    """The row's configs as YAML files and the pipeline config naming them; returns the latter."""
    (plan.folder / "configs").mkdir(parents=True, exist_ok=True)
    for stage, data in {**plan.configs, "rasterizer": plan.rasterizer}.items():
        plan.config_path(stage).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    path = plan.folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(plan.pipeline(), sort_keys=False), encoding="utf-8")
    return path


def build_group(plan: RowPlan) -> bool:
    """`rasterd build` of the row's group root (it skips itself when current); True if it built."""
    layout = OutputLayout.at(plan.root)
    before = sum(1 for r in read_runs(layout) if str(r.get("command", "")).startswith("rasterd build"))
    path = plan.config_path("rasterizer")
    print(f"== ablation group {plan.group}: {rasterd_command()} build --config {path}", flush=True)
    subprocess.run([rasterd_command(), "build", "--config", str(path)], check=True)
    return sum(1 for r in read_runs(layout) if str(r.get("command", "")).startswith("rasterd build")) > before


def pipeline_stages(pipeline_path: str) -> list[tuple[str, str, float]]:
    """Run one row's recorded pipeline; (stage, ran | skipped, seconds) per stage."""
    return run_pipeline(load_config(pipeline_path, PipelineConfig), config_path=pipeline_path).stages


def run_row(plan: RowPlan, pipeline_path: Path, key: str, build_ran: bool, cost: tuple[float, float]) -> dict[str, Any]:
    """The row's pipeline in its group root; its evaluation and result saved in its folder."""
    cpu0, wall0 = cost
    # A process of its own per row: TensorFlow keeps memory it has once held (eleven rows in one process
    # peaked at 14 GB), and the row runs exactly as its recorded `glyph-train pipeline` command would.
    # Its CPU time counts once the pool has reaped it (RUSAGE_CHILDREN).
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        stages = pool.submit(pipeline_stages, str(pipeline_path)).result()
    evaluation_path = OutputLayout.at(plan.root).analysis / FOLDER / "evaluation.json"
    evaluation = json.loads(evaluation_path.read_text(encoding="utf-8"))
    write_json(plan.folder / "evaluation.json", evaluation)
    seeds = {s: c["seed"] for s, c in plan.configs.items() if "seed" in c}
    seeds["rasterizer"] = {"splits": plan.rasterizer["splits"]["seed"], "augment": plan.rasterizer["augment"]["seed"]}
    result = {
        "name": plan.row.name, "about": plan.row.about, "way": plan.row.way, "key": key, "group": plan.group,
        "rasters_build_id": evaluation["inputs"]["rasters_build_id"], "seeds": seeds,
        "stages": [{"stage": n, "status": s, "seconds": round(t, 1)} for n, s, t in stages],
        "build": {"ran": build_ran}, "cpu_s": round(cpu_seconds() - cpu0, 1), "wall_s": round(time.perf_counter() - wall0, 1),
        "metrics": table.row_metrics(evaluation, plan.row.way),
        "reproduce": [f"rasterd build --config {plan.config_path('rasterizer')}", f"glyph-train pipeline --config {pipeline_path}"],
    }  # fmt: skip
    write_json(plan.folder / "result.json", result)
    return result


def saved_result(plan: RowPlan, key: str) -> dict[str, Any] | None:
    path = plan.folder / "result.json"
    if not path.is_file():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    return saved if saved.get("key") == key else None


def run_ablate(config: AblateConfig, config_path: str | None = None) -> AblateSummary:
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    ablations = OutputLayout.at(config.outputs.root).ablations
    rasterizer, stages = base_configs(config)
    plans = plan_rows(config, rasterizer, stages, ablations)
    for plan in plans:
        check_row(plan)
    results: dict[str, dict[str, Any]] = {}
    built: set[str] = set()
    reran = 0
    for number, plan in enumerate(plans, 1):
        print(f"== ablation row {number}/{len(plans)}: {plan.row.name} ({plan.row.about or 'no change'}), group {plan.group}", flush=True)
        row_cost = (cpu_seconds(), time.perf_counter())
        pipeline_path = write_row_configs(plan)
        build_ran = False
        if plan.group not in built:
            build_ran = build_group(plan)
            built.add(plan.group)
        build_id = str(open_store(OutputLayout.at(plan.root).rasters_store, "rasters").attrs["build_id"])
        key = digest({"row": plan.key, "rasters_build_id": build_id})
        saved = saved_result(plan, key)
        if saved is not None:
            print(f"== ablation row {plan.row.name}: unchanged since its last run, kept", flush=True)
            # The words are not part of the key; the metrics are read again from the row's own evaluation.
            evaluation = json.loads((plan.folder / "evaluation.json").read_text(encoding="utf-8"))
            results[plan.row.name] = saved | {"about": plan.row.about, "metrics": table.row_metrics(evaluation, plan.row.way)}
            continue
        results[plan.row.name] = run_row(plan, pipeline_path, key, build_ran, row_cost)
        reran += 1
        write_table(config, ablations, results)  # after every row, so a stopped run shows what it has
    path = write_table(config, ablations, results)
    ordered = [results[row.name] for row in config.rows]
    return AblateSummary(table.markdown(ordered), path, cpu_seconds() - cpu0, time.perf_counter() - wall0, reran, len(plans) - reran)


def write_table(config: AblateConfig, ablations: Path, results: dict[str, dict[str, Any]]) -> Path:
    """The table's .json, .md and .png (``config.table``) of the rows done so far, in the config's order."""
    ordered = [results[row.name] for row in config.rows if row.name in results]
    document = {"profile": config.profile, "rows": ordered, "designs": table.designs_note(ordered),
                "cpu_s": round(sum(r["cpu_s"] for r in ordered), 1), "complete": len(ordered) == len(config.rows)}  # fmt: skip
    write_json(ablations / f"{config.table}.json", document)
    plot = table.write_plot(ablations / f"{config.table}.png", ordered)
    text = "\n\n".join([
        f"# Ablations ({config.profile} profile)",
        table.markdown(ordered),
        f"Numbers rest on {document['designs']}. [a-b]: 95% bootstrap interval over design groups. "
        f"vs {ordered[0]['name'] if ordered else 'the first row'}: the row's alt-aware top-1 minus the first row's, in points, "
        "with a 95% interval from one bootstrap over design groups for both (paired). "
        f"CPU min: user + system time of the row's own stages on every core (* includes its group's `rasterd build`), "
        f"{document['cpu_s'] / 60:.1f} CPU min in all; wall min: elapsed. "
        "Each row reruns alone with the commands in its result.json.",
        f"![top-1 alt-aware per row]({plot.name})",
    ])  # fmt: skip
    path = ablations / f"{config.table}.md"
    path.write_text(text + "\n", encoding="utf-8")
    return path
