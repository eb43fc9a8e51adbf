"""`rasterd serve`: uvicorn with the configured bind address, workers, parser and loop.

uvicorn starts workers by import string, so the config path travels in an environment variable and
each worker builds its app with ``create_app_from_environment``. SIGTERM/SIGINT shut down
gracefully: no new connections, in-flight requests get ``graceful_shutdown_timeout_s``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from rasterd.app.readers import Readers
from rasterd.app.settings import CONFIG_PATH_VARIABLE, RasterdSettings, load_settings

APP_FACTORY = "rasterd.app.main:create_app_from_environment"
log = logging.getLogger("rasterd.app")


def uvicorn_options(settings: RasterdSettings) -> dict[str, Any]:
    """uvicorn's keyword arguments for the configured server (shared with bench/bench_serve.py)."""
    server = settings.server
    return {
        "host": server.host,
        "port": server.port,
        "workers": server.workers,
        "http": server.http,
        "loop": server.loop,
        "backlog": server.backlog,
        "timeout_keep_alive": server.keep_alive_timeout_s,
        "timeout_graceful_shutdown": server.graceful_shutdown_timeout_s,
        "access_log": server.access_log,
        "log_level": server.log_level,
        "root_path": server.root_path,
        "server_header": False,
    }


def serve(config_path: str) -> None:
    settings = load_settings(config_path)
    # Fail here, with the CLI's one-line message, rather than in a worker's startup.
    Readers(settings).close()
    os.environ[CONFIG_PATH_VARIABLE] = str(Path(config_path).resolve())
    server = settings.server
    if server.workers > 1 and server.http == "h11":
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s:     %(message)s")
        log.warning(
            "server.http is h11 with %d workers: every keep-alive request will wait ~44 ms for a delayed ACK "
            "(uvicorn issue #3149); use http: httptools", server.workers
        )
    metrics_dir = None
    if server.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="rasterd-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(APP_FACTORY, factory=True, **uvicorn_options(settings))
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
