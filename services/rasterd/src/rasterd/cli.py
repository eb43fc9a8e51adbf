"""`rasterd` command line: every command takes a config path; every knob lives in that YAML."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from glyph_core.cli import Command, run_cli
from glyph_core.config import ConfigError, IngestConfig, RasterizerConfig, load_config
from glyph_core.contours import ContourError
from glyph_core.db import DatabaseError
from glyph_core.store import StoreError

from rasterd.cluster import ClusterError


# Environment variables <PREFIX><KEY> (nested keys joined by __; the prefix is the config model's
# env_prefix) override a command's config, e.g. RASTERIZER_DASK__SCHEDULER_ADDRESS=tcp://dask-scheduler:8786
# (docker-compose's cluster profile).


def _ingest(config_path: str) -> object:
    from rasterd.ingest.run import run_ingest

    return run_ingest(load_config(config_path, IngestConfig, env_prefix=IngestConfig.env_prefix), config_path=config_path)


def _build(config_path: str) -> object:
    from rasterd.build import run_build

    return run_build(load_config(config_path, RasterizerConfig, env_prefix=RasterizerConfig.env_prefix), config_path=config_path)


def _tokenize(config_path: str) -> object:
    from rasterd.tokenize import run_tokenize

    return run_tokenize(load_config(config_path, RasterizerConfig, env_prefix=RasterizerConfig.env_prefix), config_path=config_path)


def _serve(config_path: str) -> None:
    from rasterd.app.server import serve

    serve(config_path)


COMMANDS: dict[str, Command] = {
    "ingest": Command("font files -> a new glyphs.db", "configs/ingest.yaml", _ingest),
    "build": Command("glyphs.db -> zarr rasters store, meta.jsonl, label map, splits", "configs/rasterizer.yaml", _build),
    "tokenize": Command("rasters store + primitive centroids -> grids store", "configs/rasterizer.yaml", _tokenize),
    "serve": Command("HTTP API and glyph explorer over the database and stores", "configs/rasterd.yaml", _serve),
}
USER_ERRORS = (ClusterError, ConfigError, DatabaseError, StoreError, ContourError, FileExistsError, FileNotFoundError)


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("rasterd", "Glyphgrid dataset service.", COMMANDS, USER_ERRORS, argv)


if __name__ == "__main__":
    sys.exit(main())
