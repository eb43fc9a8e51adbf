"""`rasterd` command line: every command takes a config path; every knob lives in that YAML."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from glyph_core.config import ConfigError, IngestConfig, load_config
from glyph_core.db import DatabaseError


def _ingest(config_path: str) -> None:
    from rasterd.ingest.run import run_ingest

    summary = run_ingest(load_config(config_path, IngestConfig), config_path=config_path)
    print(summary.describe())


COMMANDS: dict[str, tuple[str, str, Callable[[str], None]]] = {
    "ingest": ("font files -> a new glyphs.db", "configs/ingest.yaml", _ingest),
}


class UserError(Exception):
    """A failure the user can fix (bad config, missing input): printed without a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rasterd", description="Glyphgrid dataset service.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, default_config, _) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--config", default=default_config, help=f"YAML config (default: {default_config})")
    args = parser.parse_args(argv)
    try:
        COMMANDS[args.command][2](args.config)
    except (ConfigError, DatabaseError, UserError, FileExistsError, FileNotFoundError) as exc:
        print(f"rasterd {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rasterd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
