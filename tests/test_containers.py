"""docker-compose.yml for real: the repository's images built and the preprocessing pipeline run in
containers (podman behind its Docker API, `scripts/containers.sh`; docs/containers.md), checked from
the host against the same steps run as plain processes.

One compose project on a small corpus (four Debian fonts and one npm font package's Arabic subset),
in folders of its own passed through GLYPHGRID_DATASET / GLYPHGRID_OUTPUTS / GLYPHGRID_CONFIGS:
`up -d rasterd` (ingest -> build -> serve), `up tokenize` (primitives in the glyph-train image ->
tokenize), and the `cluster` profile (a scheduler and two scaled workers) building the same store.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from serve_fixtures import free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("containers")]

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "containers.sh"
BIN = Path(sys.executable).parent
# Paths as both the host and the ingest image see them (the npm one relative to the working folder).
FONTS = (
    "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "/usr/share/fonts/truetype/kacst-one/KacstOne.ttf",
    "/usr/share/fonts/truetype/noto/NotoKufiArabic-Regular.ttf",
    "/usr/share/fonts/truetype/harmattan/Harmattan-Regular.ttf",
    "fonts/node_modules/@fontsource/mada/files/mada-arabic-400-normal.woff2",
)
IMAGES = ("glyphgrid/rasterd:0.1.0", "glyphgrid/rasterd-ingest:0.1.0", "glyphgrid/glyph-train:0.1.0")
# Written by every run with its own time stamps or timings; everything else must match byte for byte.
PER_RUN_FILES = {"meta/run_history.jsonl", "primitives/primitives_qa.json"}


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@dataclass
class Project:
    """A compose project in ``folder`` and what the test saw of it."""

    name: str
    folder: Path
    env: dict[str, str]
    uid: int
    port: int
    logs: dict[str, str]
    dataset_after_ingest: dict[str, str]

    def compose(self, *args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        # The same command line a user types (README "Containers"), from the repository root.
        return run(["docker-compose", *args], timeout, cwd=ROOT, env={**self.env, **(env or {})})

    def exit_codes(self) -> dict[str, int]:
        listed = run(["podman", "ps", "-a", "--filter", f"label=com.docker.compose.project={self.name}",
                      "--format", "{{.Names}} {{.ExitCode}}"], 60).stdout.split()  # fmt: skip
        return dict(zip(listed[::2], map(int, listed[1::2])))


def engine_environment() -> dict[str, str]:
    """The Docker API socket and base image of `scripts/containers.sh`, or skip saying how to set it up."""
    if shutil.which("podman") is None or shutil.which("docker-compose") is None:
        pytest.skip("no container engine: run `scripts/containers.sh setup` (podman behind a Docker API socket)")
    env = dict(line.removeprefix("export ").split("=", 1) for line in run(["bash", str(SCRIPT), "env"], 30).stdout.splitlines())
    socket = env["DOCKER_HOST"].removeprefix("unix://")
    answered = subprocess.run(["curl", "-sf", "--unix-socket", socket, "http://d/_ping"], capture_output=True, timeout=30)
    if answered.returncode != 0:
        pytest.skip(f"no Docker API at {socket}: run `scripts/containers.sh setup`")
    return env


def small_configs(folder: Path) -> None:
    """The repository's configs with the ingest narrowed to the small corpus."""
    shutil.copytree(ROOT / "configs", folder)
    ingest = folder / "ingest.yaml"
    data = yaml.safe_load(ingest.read_text())
    data["fonts"] = list(FONTS)
    ingest.write_text(yaml.safe_dump(data, sort_keys=False))


def plain_run(folder: Path, configs: Path) -> None:
    """The same steps as processes (`make dataset build primitives tokenize` with these configs)."""
    folder.mkdir()
    (folder / "configs").symlink_to(configs)
    (folder / "fonts").symlink_to(ROOT / "fonts")
    for program, step, config in (("rasterd", "ingest", "ingest"), ("rasterd", "build", "rasterizer"),
                                  ("glyph-train", "primitives", "primitives"), ("rasterd", "tokenize", "rasterizer")):  # fmt: skip
        run([str(BIN / program), step, "--config", f"configs/{config}.yaml"], 900, cwd=folder)


def test_setup_replaces_a_service_whose_folder_was_deleted(tmp_path):
    """A service started in a since-deleted checkout answers _ping but starts no container; setup
    restarts it from / and containers start again. On a socket of its own, not the shared one."""
    engine_environment()
    socket = tmp_path / "orphan.sock"
    env = {**os.environ, "GLYPHGRID_PODMAN_SOCKET": str(socket)}
    checkout = tmp_path / "removed-checkout"
    checkout.mkdir()
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{socket}"], cwd=checkout,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    (tmp_path / "orphan.pid").write_text(f"{service.pid}\n")
    base = dict(line.removeprefix("export ").split("=", 1) for line in run(["bash", str(SCRIPT), "env"], 30).stdout.splitlines())
    container = ["podman", "--url", f"unix://{socket}", "run", "--rm", base["GLYPHGRID_PYTHON_IMAGE"], "true"]
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.1)
        checkout.rmdir()
        broken = subprocess.run(container, capture_output=True, text=True, timeout=120)
        assert broken.returncode != 0 and "broken pipe" in broken.stderr
        done = run(["bash", str(SCRIPT), "setup"], 300, cwd=ROOT, env=env)
        assert "runs in a deleted folder; restarting it" in done.stdout
        service.wait(timeout=30)  # the orphan was stopped
        pid = int((tmp_path / "orphan.pid").read_text())
        assert os.readlink(f"/proc/{pid}/cwd") == "/"
        run(container, 120)
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, timeout=60, env=env)
        if service.poll() is None:
            service.kill()


@pytest.fixture(scope="module")
def images() -> dict[str, str]:
    """Every image of docker-compose.yml built by `scripts/containers.sh build` (the compose file's
    own build sections); returns the build's output."""
    env = {**os.environ, **engine_environment()}
    began = time.monotonic()
    built = run(["bash", str(SCRIPT), "build"], 2400, cwd=ROOT, env=env)
    print(f"images built in {time.monotonic() - began:.0f} s")
    return {"log": built.stdout, **env}


def wait_for_workers(project: Project, env: dict[str, str], count: int, seconds: float = 180) -> None:
    """Until the cluster's scheduler has registered ``count`` workers (bounded in time)."""
    deadline = time.monotonic() + seconds
    while True:
        log = project.compose("--profile", "cluster", "logs", "--no-color", "dask-scheduler", env=env).stdout
        if log.count("Register worker") >= count:
            return
        assert time.monotonic() < deadline, f"{count} dask workers did not register within {seconds:.0f} s:\n{log[-2000:]}"
        time.sleep(2)


@pytest.fixture(scope="module")
def project(images, tmp_path_factory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("compose")
    uid = 1000 if os.getuid() == 0 else os.getuid()  # as root, files must still belong to a user
    gid = 1000 if os.getuid() == 0 else os.getgid()
    small_configs(folder / "configs")
    for name in ("dataset", "outputs", "outputs-cluster"):
        (folder / name).mkdir()
        os.chown(folder / name, uid, gid)
    name = f"glyphgrid-test-{os.getpid()}"
    env = {key: value for key, value in images.items() if key != "log"}
    env.update({
        "COMPOSE_PROJECT_NAME": name, "GLYPHGRID_UID": str(uid), "GLYPHGRID_GID": str(gid),
        "GLYPHGRID_DATASET": str(folder / "dataset"), "GLYPHGRID_OUTPUTS": str(folder / "outputs"),
        "GLYPHGRID_CONFIGS": str(folder / "configs"), "RASTERD_PORT": str(free_port()), "DASK_DASHBOARD_PORT": str(free_port()),
    })  # fmt: skip
    project = Project(name, folder, env, uid, int(env["RASTERD_PORT"]), {}, {})
    try:
        project.compose("up", "-d", "rasterd")
        project.logs["ingest"] = project.compose("logs", "--no-color", "ingest").stdout
        project.dataset_after_ingest = digests(folder / "dataset")
        project.logs["tokenize"] = project.compose("up", "tokenize").stdout
        # The cluster profile: workers first (the scheduler starts as their dependency), then the
        # build pointed at the scheduler, into outputs of its own.
        cluster_env = {"GLYPHGRID_OUTPUTS": str(folder / "outputs-cluster"), "DASK_SCHEDULER_ADDRESS": "tcp://dask-scheduler:8786"}
        project.compose("--profile", "cluster", "up", "-d", "--scale", "dask-worker=2", "dask-worker", env=cluster_env)
        # The build needs one worker to start; on two busy cores the second can register seconds later.
        wait_for_workers(project, cluster_env, 2)
        project.logs["cluster-build"] = project.compose("up", "--no-color", "build", env=cluster_env).stdout
        project.logs["cluster"] = project.compose("--profile", "cluster", "logs", "--no-color", "dask-scheduler", "dask-worker",
                                                  env=cluster_env).stdout  # fmt: skip
        plain_run(folder / "plain", folder / "configs")
        yield project
    finally:
        subprocess.run(["docker-compose", "--profile", "cluster", "--profile", "train", "down", "--timeout", "5"],
                       cwd=ROOT, env=env, capture_output=True, timeout=300)  # fmt: skip


def test_every_image_builds_and_rasterd_carries_no_tensorflow(images):
    sizes = run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"], 60).stdout
    for image in IMAGES:
        assert re.search(rf"^(docker\.io/|localhost/)?{re.escape(image)} ", sizes, re.M), (image, sizes)
    for image in ("glyphgrid/rasterd:0.1.0", "glyphgrid/rasterd-ingest:0.1.0"):
        probe = "import importlib.util as u; print(u.find_spec('tensorflow') is None, u.find_spec('ai_edge_litert') is not None)"
        assert run(["podman", "run", "--rm", image, "python", "-c", probe], 120).stdout.split() == ["True", "True"], image
    probe = "import tensorflow, glyph_train; print(tensorflow.__version__)"
    assert run(["podman", "run", "--rm", "glyphgrid/glyph-train:0.1.0", "python", "-c", probe], 300).stdout.strip()


def test_each_step_exits_zero(project):
    codes = project.exit_codes()
    for step in ("ingest", "build", "primitives", "tokenize"):
        matching = [code for name, code in codes.items() if re.search(rf"[_-]{step}[_-]1$", name)]
        assert matching == [0], (step, codes)


def test_the_database_is_the_plain_ingest_byte_for_byte(project):
    db = project.folder / "dataset" / "glyphs.db"
    assert db.is_file() and db.stat().st_uid == project.uid
    assert db.read_bytes() == (project.folder / "plain" / "dataset" / "glyphs.db").read_bytes()
    assert f"fonts: {len(FONTS)} seen, {len(FONTS)} used, 0 skipped, 0 broken" in project.logs["ingest"]


def test_stores_equal_the_plain_build_file_for_file(project):
    plain = project.folder / "plain" / "outputs"
    # The cluster's outputs hold the build only; the first project's also primitives (made in the
    # glyph-train image) and the grids tokenize made from them.
    for outputs, parts in ((project.folder / "outputs", ("rasters", "meta", "primitives", "grids")),
                           (project.folder / "outputs-cluster", ("rasters", "meta"))):  # fmt: skip
        for part in parts:
            ours, theirs = digests(outputs / part), digests(plain / part)
            assert ours and set(ours) == set(theirs), (outputs, part)
            differing = {f"{part}/{name}" for name in ours if ours[name] != theirs[name]}
            assert differing <= PER_RUN_FILES, (outputs, differing)


def test_the_cluster_build_ran_on_the_scaled_workers(project):
    log = project.logs["cluster"]
    workers = set(re.findall(r"(dask-worker[_-]\d+)\s*\|.*Registered to:\s+tcp://dask-scheduler:8786", log))
    assert len(workers) == 2, log[-3000:]
    assert "Receive client connection" in log
    build = project.logs["cluster-build"]
    assert "dask: scheduler tcp://dask-scheduler:8786, 2 workers" in build and "chunks           2 built" in build, build[-3000:]


def test_the_service_answers_raster_png_with_an_etag(project):
    url = f"http://127.0.0.1:{project.port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code in (200, 503):
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "rasterd did not answer /healthz"
        time.sleep(0.5)
    first = httpx.get(f"{url}/v1/glyphs/1/raster.png", timeout=10)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.content.startswith(b"\x89PNG") and first.headers["etag"]
    again = httpx.get(f"{url}/v1/glyphs/1/raster.png", headers={"If-None-Match": first.headers["etag"]}, timeout=10)
    assert again.status_code == 304
    # The image's HEALTHCHECK command itself (podman without systemd never schedules it).
    container = next(name for name in project.exit_codes() if re.search(r"[_-]rasterd[_-]1$", name))
    run(["podman", "healthcheck", "run", container], 60)


def test_outputs_belong_to_the_user_and_the_dataset_is_left_alone(project):
    for outputs in (project.folder / "outputs", project.folder / "outputs-cluster"):
        foreign = [str(p) for p in outputs.rglob("*") if p.stat().st_uid != project.uid]
        assert not foreign, foreign[:10]
    # Every step after ingest mounts dataset/ read-only; the tokenize and cluster runs changed nothing.
    assert digests(project.folder / "dataset") == project.dataset_after_ingest
