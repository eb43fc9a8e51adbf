"""docker-compose.yml and the images, checked without a Docker engine: `docker-compose config`
(Debian's docker-compose) validates the file, and every service must run a real project command
whose config file exists and loads."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from glyph_core.config import IngestConfig, RasterizerConfig, load_config
from glyph_core.serve_config import RasterdConfig
from glyph_train.stages import STAGES

ROOT = Path(__file__).resolve().parents[2]
# What each project program offers: rasterd's commands, and glyph-train's from its stage declarations.
DESIGN_COMMANDS = {
    "rasterd": {"ingest", "build", "tokenize", "serve"},
    "glyph-train": {name for name, stage in STAGES.items() if stage.program == "glyph-train"} | {"pipeline", "ablate"},
}
RASTERD_MODELS = {"ingest": IngestConfig, "build": RasterizerConfig, "tokenize": RasterizerConfig, "serve": RasterdConfig}
PIPELINE = ("ingest", "build", "primitives", "tokenize", "rasterd")
TRAIN = ("phase1", "phase2", "baseline", "evaluate", "export", "predict")
CLUSTER = ("dask-scheduler", "dask-worker")


def compose_config(env: dict[str, str] | None = None) -> dict:
    """The file as `docker-compose config` resolves it (every profile) under ``env``."""
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (Debian package docker-compose, requirements/apt.txt)")
    run = subprocess.run(
        ["docker-compose", "--profile", "train", "--profile", "cluster", "config"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return yaml.safe_load(run.stdout)


@pytest.fixture(scope="module")
def compose() -> dict:
    return compose_config()


def project_commands(command: list[str]) -> list[list[str]]:
    """The project program invocations in a service command (plain, or inside `sh -c`)."""
    words = shlex.split(command[2]) if command[:2] == ["sh", "-c"] else command
    starts = [i for i, w in enumerate(words) if w in DESIGN_COMMANDS or w == "dask"]
    return [words[i : (starts + [len(words)])[n + 1]] for n, i in enumerate(starts)]


def test_services_profiles_and_order(compose):
    services = compose["services"]
    assert set(PIPELINE + TRAIN + CLUSTER) <= set(services)
    for name in PIPELINE:
        assert "profiles" not in services[name], name
    for name in TRAIN:
        assert services[name]["profiles"] == ["train"]
    for name in CLUSTER:
        assert services[name]["profiles"] == ["cluster"]
    order = {"build": ["ingest"], "primitives": ["build"], "tokenize": ["primitives"], "rasterd": ["build"], "phase1": ["tokenize"],
             "phase2": ["phase1"], "baseline": ["build"], "evaluate": ["phase2", "baseline"]}  # fmt: skip
    for service, before in order.items():
        expected = {b: {"condition": "service_completed_successfully"} for b in before}
        assert services[service]["depends_on"] == expected, service
    assert "container_name" not in services["dask-worker"]  # so --scale works


def test_dataset_is_read_only_and_outputs_writable(compose):
    for name, service in compose["services"].items():
        mounts = {v.split(":")[1]: v.rsplit(":", 1)[1] for v in service["volumes"]}
        assert mounts["/app/outputs"] == "rw", name
        assert mounts["/app/dataset"] == ("rw" if name == "ingest" else "ro"), name


@pytest.mark.parametrize("coretype", ["SkylakeX", None])
def test_every_service_takes_the_hosts_blas_kernels(coretype):
    # Other OpenBLAS kernels round k-means differently: a container must use the ones the plain run uses.
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"} | ({"OPENBLAS_CORETYPE": coretype} if coretype else {})
    for name, service in compose_config(env)["services"].items():
        assert service["environment"]["OPENBLAS_CORETYPE"] == (coretype or ""), name


def test_rasterd_serves_with_a_healthcheck_and_graceful_stop(compose):
    rasterd = compose["services"]["rasterd"]
    assert rasterd["environment"]["RASTERD_SERVER__HOST"] == "0.0.0.0"
    assert any(p["target"] == 8000 for p in rasterd["ports"])
    test = rasterd["healthcheck"]["test"]
    # podman's Docker API splits each argument at spaces: none may hold one (rasterd.healthcheck).
    assert test == ["CMD", "python", "-m", "rasterd.healthcheck"] and not any(" " in word for word in test)
    dockerfile = (ROOT / "services" / "rasterd" / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "rasterd.healthcheck"]' in dockerfile
    assert rasterd["stop_grace_period"] == "15s"


def test_build_reaches_the_cluster_through_the_config_override(compose):
    from glyph_core.config import RasterizerConfig

    variable = RasterizerConfig.env_prefix + "DASK__SCHEDULER_ADDRESS"
    assert variable in compose["services"]["build"]["environment"]
    assert compose["services"]["dask-worker"]["command"][:3] == ["dask", "worker", "tcp://dask-scheduler:8786"]
    scheduler = compose["services"]["dask-scheduler"]["command"]
    assert scheduler[:2] == ["dask", "scheduler"] and scheduler[scheduler.index("--port") + 1] == "8786"


@pytest.mark.slow
def test_build_runs_on_the_cluster_the_environment_names(small_glyphs_db, tmp_path):
    """The compose cluster path as processes: `dask scheduler` + `dask worker`, then `rasterd build`
    with RASTERIZER_DASK__SCHEDULER_ADDRESS pointing at them."""
    import os

    from dask_cluster import dask_cluster
    from glyph_core.store import open_store
    from serve_fixtures import rasterizer_config

    with dask_cluster(tmp_path / "cluster.log", workers=1) as cluster:
        config = tmp_path / "rasterizer.yaml"
        config.write_text(yaml.safe_dump(rasterizer_config(small_glyphs_db, tmp_path / "outputs").model_dump(mode="json")))
        env = {**os.environ, "RASTERIZER_DASK__SCHEDULER_ADDRESS": cluster.address}
        run = subprocess.run([sys.executable, "-m", "rasterd.cli", "build", "--config", str(config)], env=env,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        assert run.returncode == 0, run.stderr[-2000:]
        assert int(open_store(tmp_path / "outputs" / "rasters" / "rasters.zarr", "rasters").attrs["count"]) > 1000
        from dask.distributed import Client

        with Client(cluster.address) as client:  # the chunks ran on this cluster, not on a local one
            prefixes = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
        assert "build-chunk" in prefixes, prefixes


def _services() -> list[str]:
    with (ROOT / "docker-compose.yml").open() as fh:
        return sorted(yaml.safe_load(fh)["services"])


@pytest.mark.parametrize("service", _services())
def test_every_command_is_a_project_command_with_its_config(compose, service):
    invocations = project_commands(compose["services"][service]["command"])
    assert invocations, f"{service} runs no project command"
    for words in invocations:
        program, subcommand = words[0], words[1]
        if program == "dask":
            assert subcommand in ("scheduler", "worker") and Path(sys.executable).with_name("dask").is_file()
            continue
        assert subcommand in DESIGN_COMMANDS[program], f"{service}: {program} {subcommand} is not a project command"
        config = ROOT / words[words.index("--config") + 1]
        if program == "rasterd":
            from rasterd.cli import COMMANDS

            assert subcommand in COMMANDS
            load_config(config, RASTERD_MODELS[subcommand])
            continue
        try:
            commands = importlib.import_module("glyph_train.cli").COMMANDS
        except ImportError:
            pytest.skip("glyph-train is not installed")
        if subcommand not in commands:
            pytest.skip(f"glyph-train {subcommand} is not written yet (has: {', '.join(commands)})")
        assert config.is_file(), f"{service}: {config} does not exist"


@pytest.mark.parametrize("dockerfile", ["services/rasterd/Dockerfile", "packages/glyph-train/Dockerfile"])
def test_images_are_slim_multi_stage_and_non_root(dockerfile):
    text = (ROOT / dockerfile).read_text()
    stages = re.findall(r"^FROM (\S+) AS (\S+)", text, flags=re.M)
    assert len(stages) >= 2 and "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    assert "COPY --from=build /opt/venv /opt/venv" in text
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1] == "glyphgrid"
    if dockerfile.startswith("services/rasterd"):
        assert "build-essential" in text.split("AS runtime")[0] and "build-essential" not in text.split("AS runtime")[1]
        assert "fonts-" in text.split("AS ingest")[1] and "requirements/apt.txt" in text
