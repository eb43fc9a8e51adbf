"""The shape every Glyphgrid command line shares: `<prog> <command> --config <yaml>`.

Each command runs from one config path; failures a user can fix (listed per program) print one
line without a traceback and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    help: str
    default_config: str
    run: Callable[[str], object]  # config path -> printable summary (None prints nothing)


def run_cli(
    prog: str,
    description: str,
    commands: Mapping[str, Command],
    user_errors: tuple[type[BaseException], ...],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv``, run the chosen command, print its summary; returns the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in commands.items():
        cmd = sub.add_parser(name, help=command.help, description=command.help)
        cmd.add_argument("--config", default=command.default_config, help=f"YAML config (default: {command.default_config})")
    args = parser.parse_args(argv)
    try:
        summary = commands[args.command].run(args.config)
    except user_errors as exc:
        print(f"{prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog} {args.command}: interrupted", file=sys.stderr)
        return 130
    if summary is not None:
        print(summary)
    return 0
