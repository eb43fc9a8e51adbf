"""`rasterd serve` as a process: keep-alive latency with several workers (the delayed-ACK trap of
DESIGN.md), metrics summed over workers, graceful shutdown, and start-up errors."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import statistics
import subprocess
import sys
import time

import httpx
import pytest

from glyph_core.client import AsyncGlyphgridClient
from serve_fixtures import start_server, write_configs


def keep_alive_latencies(url: str, path: str, count: int = 30) -> list[float]:
    """Milliseconds of ``count`` sequential requests on one keep-alive connection."""
    with httpx.Client(base_url=url, limits=httpx.Limits(max_connections=1)) as client:
        client.get(path)
        times = []
        for _ in range(count):
            began = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append((time.perf_counter() - began) * 1000)
    return times


@pytest.fixture(scope="module")
def two_workers(served_build, tmp_path_factory):
    """The configured server (httptools, uvloop) with two workers."""
    folder = tmp_path_factory.mktemp("two_workers")
    config = write_configs(folder, served_build.rasterizer, server={"workers": 2})
    running = start_server(config, folder / "server.log")
    yield running
    assert running.stop() in (0, -signal.SIGTERM), running.output()


def test_keep_alive_requests_take_milliseconds_with_several_workers(two_workers, served_build):
    glyph_id = int(httpx.get(f"{two_workers.url}/v1/glyphs", params={"limit": 1}).json()["items"][0]["glyph_id"])
    for path in ("/healthz", f"/v1/glyphs/{glyph_id}/raster.png", f"/v1/glyphs/{glyph_id}"):
        times = keep_alive_latencies(two_workers.url, path)
        assert statistics.median(times) < 10, (path, times)  # not ~44 ms per request


def test_metrics_add_up_over_workers(two_workers):
    def served(text: str) -> float:
        return sum(float(v) for v in re.findall(r'rasterd_requests_total\{[^}]*route="/healthz"[^}]*\} (\S+)', text))

    before = served(httpx.get(f"{two_workers.url}/metrics").text)
    for _ in range(20):  # a new connection each time: both workers answer some
        httpx.get(f"{two_workers.url}/healthz")
    assert served(httpx.get(f"{two_workers.url}/metrics").text) - before >= 20


def test_async_client_from_many_tasks(two_workers):
    async def fetch_all() -> list[int]:
        async with AsyncGlyphgridClient(two_workers.url) as api:
            page = await api.list_glyphs(limit=40)
            masks = await asyncio.gather(*(api.raster(g.glyph_id) for g in page.items))
            return [int(m.shape[0]) for m in masks]

    assert asyncio.run(fetch_all()) == [128] * 40


@pytest.mark.slow
def test_plain_h11_with_several_workers_shows_the_delayed_ack_trap(served_build, tmp_path):
    """Why the config says httptools: with h11 and two workers every keep-alive request waits for a
    delayed ACK (uvicorn issue #3149). If this fails, uvicorn fixed it and the warning can go."""
    config = write_configs(tmp_path, served_build.rasterizer, server={"workers": 2, "http": "h11", "loop": "asyncio"})
    running = start_server(config, tmp_path / "server.log")
    try:
        times = keep_alive_latencies(running.url, "/healthz", count=15)
    finally:
        running.stop()
    assert statistics.median(times) > 30, times
    assert "delayed ACK" in running.output()


def test_sigterm_shuts_down_gracefully(served_build, tmp_path):
    config = write_configs(tmp_path, served_build.rasterizer)
    running = start_server(config, tmp_path / "server.log")
    port = int(running.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=running.url) as client:
        assert client.get("/v1/labels").status_code == 200
    healthcheck = [sys.executable, "-m", "rasterd.healthcheck", str(port)]  # the images' HEALTHCHECK
    assert subprocess.run(healthcheck, capture_output=True, timeout=30).returncode == 0
    began = time.monotonic()
    # uvicorn re-raises SIGTERM once it has shut down, so the exit status says what stopped it.
    assert running.stop() in (0, -signal.SIGTERM)
    assert time.monotonic() - began < 10
    log = running.output()
    assert "Application shutdown complete" in log and "Finished server process" in log
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
    unhealthy = subprocess.run(healthcheck, capture_output=True, text=True, timeout=30)
    assert unhealthy.returncode == 1 and f"rasterd unhealthy: no answer on 127.0.0.1:{port}" in unhealthy.stderr


def test_startup_errors_are_one_line_naming_the_problem(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "rasterd.cli", "serve", "--config", str(tmp_path / "nope.yaml")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nope.yaml: cannot read config" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "rasterd.yaml"
    bad.write_text("server:\n  workers: 0\n  colour: blue\n")
    invalid = subprocess.run([sys.executable, "-m", "rasterd.cli", "serve", "--config", str(bad)], capture_output=True, text=True, timeout=60)
    assert invalid.returncode == 2 and "server.workers" in invalid.stderr and "server.colour: unknown key" in invalid.stderr
