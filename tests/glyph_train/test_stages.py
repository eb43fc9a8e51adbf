"""The stage declarations (glyph_train.stages) are the one list of stages: the CLI, the pipeline,
PipelineConfig, the Makefile and docker-compose.yml all agree with them."""

import re
from pathlib import Path

import pytest
import yaml

from glyph_core.config import ConfigError, load_config
from glyph_train.cli import COMMANDS
from glyph_train.stages import STAGES, PipelineConfig

ROOT = Path(__file__).resolve().parents[2]


def make_targets() -> dict[str, tuple[list[str], list[str]]]:
    """target -> (prerequisites, recipe lines) of the Makefile."""
    targets: dict[str, tuple[list[str], list[str]]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):(?!=)\s*(.*)$", line)
        if match:
            current = match.group(1)
            targets[current] = (match.group(2).split(), [])
        elif line.startswith("\t") and current:
            targets[current][1].append(line.strip())
    return targets


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def reachable(graph: dict[str, list[str]], start: str) -> set[str]:
    seen, todo = set(), list(graph.get(start, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, []))
    return seen


def test_cli_has_a_command_per_glyph_train_stage_pipeline_and_ablate():
    own = {name for name, stage in STAGES.items() if stage.program == "glyph-train"}
    assert set(COMMANDS) == own | {"pipeline", "ablate"}
    for name in own:
        assert COMMANDS[name].default_config == STAGES[name].default_config
        assert COMMANDS[name].help == STAGES[name].help


def test_upstream_stages_come_first_and_every_config_model_has_its_own_prefix():
    order = list(STAGES)
    for index, stage in enumerate(STAGES.values()):
        optional = [name for name, _ in stage.optional_upstream]
        assert all(order.index(u) < index for u in (*stage.upstream, *optional)), stage.name
        assert stage.config_model.env_prefix, stage.name
    prefixes = [s.config_model.env_prefix for s in STAGES.values() if s.program == "glyph-train"]
    assert len(prefixes) == len(set(prefixes)) and PipelineConfig.env_prefix not in prefixes


@pytest.mark.parametrize("name", list(STAGES))
def test_makefile_target_runs_the_stage_after_its_upstream(name):
    stage = STAGES[name]
    targets = make_targets()
    assert name in targets, f"Makefile has no `{name}` target"
    prerequisites, recipe = targets[name]
    assert f"$(BIN)/{stage.program} {name} --config {stage.default_config}" in recipe
    graph = {t: p for t, (p, _) in targets.items()}
    assert set(stage.upstream) <= reachable(graph, name)


@pytest.mark.parametrize("name", list(STAGES))
def test_compose_service_runs_the_stage_after_its_upstream(name):
    stage = STAGES[name]
    services = compose_services()
    assert services[name]["command"] == [stage.program, name, "--config", stage.default_config]
    graph = {s: list(spec.get("depends_on", {})) for s, spec in services.items()}
    assert set(stage.upstream) <= reachable(graph, name)


def test_pipeline_config_defaults_come_from_the_stages_and_unknown_stages_are_named(tmp_path):
    assert PipelineConfig().stages == [n for n, s in STAGES.items() if s.in_pipeline]
    assert not STAGES["predict"].in_pipeline  # it reads a store the user names
    assert PipelineConfig().configs == {n: s.default_config for n, s in STAGES.items()}
    path = tmp_path / "pipeline.yaml"
    path.write_text("stages: [primitives, phase3]\n")
    with pytest.raises(ConfigError, match="phase3"):
        load_config(path, PipelineConfig)
