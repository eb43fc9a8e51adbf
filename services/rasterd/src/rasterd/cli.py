"""`rasterd` command line: every command takes a config path; every knob lives in that YAML."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from glyph_core.config import ConfigError, IngestConfig, RasterizerConfig, load_config
from glyph_core.contours import ContourError
from glyph_core.db import DatabaseError
from glyph_core.store import StoreError


# Environment variables <PREFIX><KEY> (nested keys joined by __) override a command's config, e.g.
# RASTERIZER_DASK__SCHEDULER_ADDRESS=tcp://dask-scheduler:8786 (docker-compose's cluster profile).
INGEST_ENV_PREFIX = "INGEST_"
RASTERIZER_ENV_PREFIX = "RASTERIZER_"


def _ingest(config_path: str) -> None:
    from rasterd.ingest.run import run_ingest

    summary = run_ingest(load_config(config_path, IngestConfig, env_prefix=INGEST_ENV_PREFIX), config_path=config_path)
    print(summary)


def _build(config_path: str) -> None:
    from rasterd.build import run_build

    print(run_build(load_config(config_path, RasterizerConfig, env_prefix=RASTERIZER_ENV_PREFIX), config_path=config_path))


def _tokenize(config_path: str) -> None:
    from rasterd.tokenize import run_tokenize

    print(run_tokenize(load_config(config_path, RasterizerConfig, env_prefix=RASTERIZER_ENV_PREFIX), config_path=config_path))


def _serve(config_path: str) -> None:
    from rasterd.app.server import serve

    serve(config_path)


COMMANDS: dict[str, tuple[str, str, Callable[[str], None]]] = {
    "ingest": ("font files -> a new glyphs.db", "configs/ingest.yaml", _ingest),
    "build": ("glyphs.db -> zarr rasters store, meta.jsonl, label map, splits", "configs/rasterizer.yaml", _build),
    "tokenize": ("rasters store + primitive centroids -> grids store", "configs/rasterizer.yaml", _tokenize),
    "serve": ("HTTP API and glyph explorer over the database and stores", "configs/rasterd.yaml", _serve),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rasterd", description="Glyphgrid dataset service.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, default_config, _) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--config", default=default_config, help=f"YAML config (default: {default_config})")
    args = parser.parse_args(argv)
    # Failures a user can fix are printed as one line, without a traceback.
    try:
        COMMANDS[args.command][2](args.config)
    except (ConfigError, DatabaseError, StoreError, ContourError, FileExistsError, FileNotFoundError) as exc:
        print(f"rasterd {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rasterd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
