"""Helpers for the `rasterd serve` tests: config files for a temporary outputs root, and a real
`rasterd serve` process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from glyph_core.config import RasterizerConfig
from glyph_core.serve_config import RasterdConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rasterizer_config(db: Path, root: Path) -> RasterizerConfig:
    """The small-DB build the serve tests use (min_count 3, so some labels stay out of the store)."""
    return RasterizerConfig.model_validate(
        {"database": str(db), "outputs": {"root": str(root)}, "labels": {"min_count": 3}, "dask": {"workers": 1}, "build": {"chunk_size": 256},
         "augment": {"variants": 0}}  # the service never reads variants
    )


def write_configs(folder: Path, rasterizer: RasterizerConfig, **overrides: Any) -> Path:
    """rasterizer.yaml + rasterd.yaml in ``folder``; returns the rasterd.yaml path."""
    folder.mkdir(parents=True, exist_ok=True)
    rasterizer_path = folder / "rasterizer.yaml"
    rasterizer_path.write_text(yaml.safe_dump(rasterizer.model_dump(mode="json")))
    data = RasterdConfig().model_dump(mode="json")
    data["rasterizer_config"] = str(rasterizer_path)
    data["cache"]["refresh_interval_s"] = 0.2
    for section, values in overrides.items():
        data[section].update(values)
    path = folder / "rasterd.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@dataclass
class ServerProcess:
    """A `rasterd serve` subprocess; ``stop()`` sends SIGTERM and returns the exit code."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_server(config: Path, log: Path, env: dict[str, str] | None = None, timeout: float = 60) -> ServerProcess:
    """Start `rasterd serve --config config` on a free port and wait until /healthz answers."""
    port = free_port()
    environment = {**os.environ, "RASTERD_SERVER__PORT": str(port), "RASTERD_SERVER__HOST": "127.0.0.1", **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasterd.cli", "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT, env=environment
        )
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rasterd serve exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code in (200, 503):
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"rasterd serve did not answer within {timeout} s:\n{server.output()}")
