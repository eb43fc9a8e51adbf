"""`glyph-train ablate` on the small real store: rows reuse what they do not change, a row reruns
alone from its recorded configs to the same numbers, an unchanged ablation reruns nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from glyph_core.ablation_config import AblateConfig, AblationRow
from glyph_core.config import ConfigError, RasterizerConfig, load_config
from glyph_train.ablation.plan import plan_rows
from glyph_train.ablation.run import run_ablate
from glyph_train.pipeline import run_pipeline
from glyph_train.stages import PipelineConfig

from train_helpers import rasterizer_config, write_pipeline_configs

ROWS = [
    {"name": "base"},
    {"name": "baseline", "way": "baseline"},
    {"name": "twin-loss-off", "about": "hard labels", "changes": {"phase2": {"loss": {"twin_aware": False}}}},
    {"name": "cell-16", "changes": {"rasterizer": {"raster": {"cell_size": 16}}, "phase2": {"training": {"model": {"embed_dim": 256}}}}},
]


def ablate_config(folder: Path, db: Path, rows: list[dict]) -> AblateConfig:
    """Tiny base configs written to files, as a user's configs/ folder would be."""
    root = folder / "outputs"
    pipeline = write_pipeline_configs(folder / "configs", root, db)
    (folder / "configs" / "pipeline.yaml").write_text(yaml.safe_dump(pipeline.model_dump(mode="json")), encoding="utf-8")
    (folder / "configs" / "rasterizer.yaml").write_text(yaml.safe_dump(rasterizer_config(db, root).model_dump(mode="json")), encoding="utf-8")
    return AblateConfig.model_validate({
        "outputs": {"root": str(root)}, "pipeline": str(folder / "configs" / "pipeline.yaml"),
        "rasterizer": str(folder / "configs" / "rasterizer.yaml"), "rows": rows,
    })  # fmt: skip


def statuses(result: dict) -> dict[str, str]:
    return {s["stage"]: s["status"] for s in result["stages"]}


def rerooted(folder: Path, target: Path, root: Path) -> Path:
    """A copy of a row's recorded configs writing under ``root`` instead (the row run alone elsewhere)."""
    (target / "configs").mkdir(parents=True)
    for path in (folder / "configs").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["outputs"]["root"] = str(root)
        (target / "configs" / path.name).write_text(yaml.safe_dump(data), encoding="utf-8")
    pipeline = yaml.safe_load((folder / "pipeline.yaml").read_text(encoding="utf-8"))
    pipeline["configs"] = {s: str(target / "configs" / Path(p).name) for s, p in pipeline["configs"].items()}
    (target / "pipeline.yaml").write_text(yaml.safe_dump(pipeline), encoding="utf-8")
    return target


@pytest.mark.slow
def test_ablation_rows_reuse_stages_reproduce_alone_and_resume(small_glyphs_db, tmp_path):
    from rasterd.build import run_build

    config = ablate_config(tmp_path, small_glyphs_db, ROWS)
    summary = run_ablate(config)
    ablations = tmp_path / "outputs" / "ablations"
    document = json.loads((ablations / "ablation.json").read_text())
    rows = {r["name"]: r for r in document["rows"]}
    assert [r["name"] for r in document["rows"]] == [r["name"] for r in ROWS] and document["complete"]

    # Groups: one outputs root per raster content; the cell-16 row built its own store.
    assert {r["group"] for r in rows.values()} == {"base", "cell-16"}
    assert rows["base"]["build"]["ran"] and rows["cell-16"]["build"]["ran"] and not rows["twin-loss-off"]["build"]["ran"]
    assert rows["base"]["rasters_build_id"] == rows["twin-loss-off"]["rasters_build_id"] != rows["cell-16"]["rasters_build_id"]
    # Reuse by the stage keys: Phase 2's change reruns Phase 2 and evaluate only; the baseline row trains only the baseline.
    assert statuses(rows["twin-loss-off"]) == {"primitives": "skipped", "tokenize": "ran", "phase1": "skipped", "phase2": "ran", "evaluate": "ran"}
    assert set(statuses(rows["baseline"])) == {"baseline", "evaluate"}
    assert all(s == "ran" for s in statuses(rows["cell-16"]).values())
    # The recorded configs say what changed, and the table shows each way's numbers with intervals and costs.
    phase2 = yaml.safe_load((ablations / "rows" / "twin-loss-off" / "configs" / "phase2.yaml").read_text())
    assert phase2["loss"]["twin_aware"] is False and phase2["outputs"]["root"] == str(ablations / "groups" / "base")
    cell = yaml.safe_load((ablations / "rows" / "cell-16" / "configs" / "phase2.yaml").read_text())
    assert cell["profiles"]["quick"]["model"]["embed_dim"] == 256  # a `training` change lands in the active profile
    for row in rows.values():
        assert set(row["metrics"]["splits"]) == {"val", "test"}
        assert row["metrics"]["params"] > 0 and row["cpu_s"] > 0
        # Each row's pipeline runs in a child process; its CPU time is counted once it is reaped, so a row
        # that trained something costs more CPU than a fifth of its stages' wall time (2 test processes share 2 cores).
        trained = sum(s["seconds"] for s in row["stages"] if s["status"] == "ran" and s["stage"] in ("phase2", "baseline"))
        assert row["cpu_s"] >= 0.2 * trained > 0
        test = row["metrics"]["splits"]["test"]
        assert 0 <= test["top1_strict"] <= test["top1_alt"] <= test["top5_alt"] <= 1
        interval = test["intervals"]["top1_alt"]  # none over a single design group (the small store's held-out splits)
        assert interval is None if test["designs"] < 2 else interval[0] <= test["top1_alt"] <= interval[1]
    assert rows["cell-16"]["metrics"]["params"] != rows["base"]["metrics"]["params"]  # a wider embedding
    text = (ablations / "ablation.md").read_text()
    assert all(f"| {r['name']}" in text for r in ROWS) and "design groups" in text and "val vs base" in text and (ablations / "ablation.png").stat().st_size > 5000
    assert str(summary).startswith(text.split("\n\n")[1].splitlines()[0])

    # A row alone, from its recorded configs and seeds, in a fresh root: the same numbers.
    alone = rerooted(ablations / "rows" / "twin-loss-off", tmp_path / "alone", tmp_path / "alone" / "outputs")
    run_build(load_config(alone / "configs" / "rasterizer.yaml", RasterizerConfig))
    run_pipeline(load_config(alone / "pipeline.yaml", PipelineConfig))
    evaluation = json.loads((tmp_path / "alone" / "outputs" / "analysis" / "evaluate" / "evaluation.json").read_text())
    for split in ("val", "test"):
        mine = evaluation["ways"]["end_to_end"]["splits"][split]
        theirs = rows["twin-loss-off"]["metrics"]["splits"][split]
        assert (mine["top1_strict"], mine["top1_alt"], mine["top5_alt"]) == (theirs["top1_strict"], theirs["top1_alt"], theirs["top5_alt"])

    # Unchanged: nothing reruns. One changed row: only that row.
    again = run_ablate(config)
    assert (again.reran, again.kept) == (0, len(ROWS))
    changed = ablate_config(tmp_path, small_glyphs_db, [*ROWS[:3], {**ROWS[3], "about": "changed words only"}])
    assert run_ablate(changed).reran == 0  # `about` is not part of what the numbers depend on
    assert "changed words only" in (ablations / "ablation.md").read_text()  # but the table shows the new words
    seeds = [*ROWS[:2], {**ROWS[2], "changes": {"phase2": {"loss": {"twin_aware": False}, "seed": 7}}}, ROWS[3]]
    third = run_ablate(ablate_config(tmp_path, small_glyphs_db, seeds))
    assert (third.reran, third.kept) == (1, 3)


def test_rows_are_grouped_by_raster_content_and_ordered_upstream_last(tmp_path):
    rows = [AblationRow(name="a", changes={"primitives": {"clusters": 63}}), AblationRow(name="b"),
            AblationRow(name="c", changes={"rasterizer": {"raster": {"fill_rule": "evenodd"}}}),
            AblationRow(name="d", changes={"phase2": {"seed": 1}}),
            AblationRow(name="e", changes={"rasterizer": {"dask": {"workers": 1}}})]  # fmt: skip
    config = AblateConfig(rows=rows)
    stages = {"primitives": {"clusters": 1023, "outputs": {"root": "x"}}, "phase1": {"profile": "quick", "profiles": {"quick": {}}},
              "phase2": {"profile": "quick", "profiles": {"quick": {}}, "seed": 42}, "evaluate": {"models": []}, "baseline": {}}  # fmt: skip
    plans = plan_rows(config, RasterizerConfig().model_dump(mode="json"), stages, tmp_path)
    # e changes only how the build runs, not what it writes: it shares a's group.
    assert [(p.row.name, p.group) for p in plans] == [("b", "a"), ("d", "a"), ("a", "a"), ("e", "a"), ("c", "c")]
    by_name = {p.row.name: p for p in plans}
    assert by_name["a"].configs["primitives"]["clusters"] == 63 and by_name["b"].configs["primitives"]["clusters"] == 1023
    assert by_name["b"].configs["evaluate"]["models"] == ["end_to_end"]
    assert by_name["c"].root == tmp_path / "groups" / "c" and by_name["c"].rasterizer["outputs"]["root"] == str(tmp_path / "groups" / "c")
    assert by_name["b"].key != by_name["d"].key and by_name["b"].key == by_name["e"].key


def test_a_row_whose_phase2_distills_trains_the_baseline_before_it(tmp_path):
    rows = [AblationRow(name="plain"), AblationRow(name="distilled", changes={"phase2": {"loss": {"distill": {"weight": 0.5}}}})]
    stages = {"primitives": {}, "phase1": {"profile": "quick", "profiles": {"quick": {}}}, "baseline": {"seed": 3},
              "phase2": {"profile": "quick", "profiles": {"quick": {}}}, "evaluate": {"models": []}}  # fmt: skip
    plans = {p.row.name: p for p in plan_rows(AblateConfig(rows=rows), RasterizerConfig().model_dump(mode="json"), stages, tmp_path)}
    assert plans["plain"].stages == ["primitives", "tokenize", "phase1", "phase2", "evaluate"]
    assert plans["distilled"].stages == ["primitives", "tokenize", "phase1", "baseline", "phase2", "evaluate"]
    assert plans["distilled"].configs["baseline"]["seed"] == 3
    assert plans["distilled"].configs["baseline"]["outputs"]["root"] == str(plans["distilled"].root)
    assert plans["distilled"].configs["evaluate"]["models"] == ["end_to_end"]


def test_long_profile_keeps_phase1_own_profile_and_profile_changes_land_in_it(tmp_path):
    row = AblationRow(name="x", changes={"phase1": {"training": {"epochs": 9}}, "phase2": {"training": {"epochs": 3}}})
    config = AblateConfig(rows=[row], profile="long")
    profiled = {"profile": "quick", "profiles": {"quick": {"epochs": 1}, "long": {"epochs": 5}}}
    stages = {"primitives": {}, "phase1": dict(profiled), "phase2": dict(profiled), "evaluate": {}}
    (plan,) = plan_rows(config, RasterizerConfig().model_dump(mode="json"), stages, tmp_path)
    assert plan.configs["phase1"]["profile"] == "quick" and plan.configs["phase1"]["profiles"]["quick"] == {"epochs": 9}
    assert plan.configs["phase2"]["profile"] == "long" and plan.configs["phase2"]["profiles"]["long"] == {"epochs": 3}
    assert plan.configs["phase2"]["profiles"]["quick"] == {"epochs": 1}


def test_bad_rows_are_refused_with_what_is_wrong(small_glyphs_db, tmp_path):
    with pytest.raises(ValueError, match="unknown config"):
        AblationRow(name="x", changes={"phase3": {}})
    with pytest.raises(ValueError, match="used twice"):
        AblateConfig(rows=[{"name": "x"}, {"name": "x"}])
    config = ablate_config(tmp_path, small_glyphs_db, [{"name": "bad", "changes": {"phase2": {"loss": {"twin_awre": True}}}}])
    with pytest.raises(ConfigError, match=r"row 'bad', phase2 config: loss.twin_awre"):
        run_ablate(config)
    assert not (tmp_path / "outputs" / "ablations").exists()  # refused before anything ran


def synthetic_row(name: str, top1: float, designs: int = 14) -> dict:
    split = {"count": 1000, "designs": designs, "top1_strict": top1 - 0.05, "top1_alt": top1, "top5_alt": top1 + 0.2,
             "intervals": {"top1_strict": [top1 - 0.1, top1], "top1_alt": [top1 - 0.05, top1 + 0.05], "top5_alt": None},
             "per_design_top1_alt": top1}  # fmt: skip
    return {"name": name, "about": f"{name} words", "way": "end_to_end", "build": {"ran": name == "a"}, "cpu_s": 90.0, "wall_s": 60.0,
            "metrics": {"params": 1234567, "flops": 35_400_000, "splits": {"val": split, "test": split}}}  # fmt: skip


def test_table_shows_intervals_costs_and_designs_and_the_plot_draws_every_row(tmp_path):
    from glyph_train.ablation import table

    rows = [synthetic_row("a", 0.30), synthetic_row("b", 0.42)]
    text = table.markdown(rows)
    a_line = next(line for line in text.splitlines() if line.startswith("| a "))
    assert "30.00% [25.0-35.0]" in a_line and "50.00%" in a_line  # alt-aware with its interval; top-5 without one
    assert "1.2M" in a_line and "35.4 MFLOPs" in a_line and "1.5*" in a_line and a_line.rstrip(" |").endswith("1.0")
    assert "1.5*" not in next(line for line in text.splitlines() if line.startswith("| b "))
    assert table.designs_note(rows) == "val: 14 design groups, 1,000 glyphs; test: 14 design groups, 1,000 glyphs"
    path = table.write_plot(tmp_path / "p.png", rows)
    assert path.stat().st_size > 5000


def test_row_metrics_keep_each_split_of_the_reported_way():
    from glyph_train.ablation.table import row_metrics

    m = {"count": 10, "top1_strict": 0.1, "top1_alt": 0.2, "top5_alt": 0.5, "top5_strict": 0.4,
         "intervals": {"designs": 3, "top1_alt": [0.1, 0.3]}, "breakdowns": {"design": {"summary": {"mean": 0.25}}}}  # fmt: skip
    evaluation = {"ways": {"baseline": {"params": 5, "flops": 7, "splits": {"test": m}}, "end_to_end": {"params": 1, "flops": 2, "splits": {}}}}
    kept = row_metrics(evaluation, "baseline")
    assert kept["params"] == 5 and kept["flops"] == 7 and set(kept["splits"]) == {"test"}
    test = kept["splits"]["test"]
    assert test["designs"] == 3 and test["per_design_top1_alt"] == 0.25 and test["intervals"]["top1_alt"] == [0.1, 0.3]
    assert test["intervals"]["top1_strict"] is None and "top5_strict" not in test


def test_each_config_writes_its_own_table_in_its_row_order(tmp_path):
    from glyph_train.ablation.run import write_table

    config = AblateConfig(rows=[{"name": "b", "about": "new words"}, {"name": "a"}, {"name": "c"}], table="second")
    path = write_table(config, tmp_path, {"a": synthetic_row("a", 0.3), "b": synthetic_row("b", 0.4)})
    assert path == tmp_path / "second.md" and (tmp_path / "second.png").is_file() and not (tmp_path / "ablation.md").exists()
    document = json.loads((tmp_path / "second.json").read_text())
    assert [r["name"] for r in document["rows"]] == ["b", "a"] and not document["complete"]  # c has not run yet
    assert document["cpu_s"] == 180.0 and "3.0 CPU min in all" in path.read_text()


def test_paired_gain_is_the_difference_on_the_same_designs_with_a_tighter_interval():
    from glyph_train.ablation.table import paired_gain

    base = {"a": [100, 20], "b": [200, 100], "c": [50, 5], "d": [80, 60]}
    row = {"a": [100, 25], "b": [200, 110], "c": [50, 8], "d": [80, 62]}  # better on every design
    gain = paired_gain(base, row)
    assert gain["delta"] == pytest.approx(20 / 430)
    low, high = gain["interval"]
    assert 0 < low <= gain["delta"] <= high  # every resample sees a gain: the interval excludes zero
    assert paired_gain(base, {**row, "d": [81, 62]}) is None  # other glyphs: not comparable
    assert paired_gain(base, {k: v for k, v in row.items() if k != "a"}) is None
    assert paired_gain({"a": [10, 1]}, {"a": [10, 3]}) == {"delta": pytest.approx(0.2), "interval": None}
