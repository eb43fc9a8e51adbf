"""Run history (docs/outputs.md policy 3): one JSON line per command that wrote outputs."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from glyph_core.paths import OutputLayout


def git_commit(cwd: str | Path | None = None) -> str | None:
    """HEAD of the checkout the code runs from (None outside git), with '+dirty' when modified."""
    where = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def record_run(
    layout: OutputLayout,
    command: str,
    config_hashes: dict[str, str],
    inputs: dict[str, str] | None = None,
    outputs: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Append a run record (command, git commit, config and input hashes, results) and return it."""
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": command,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "config_hashes": config_hashes,
        "inputs": inputs or {},
        "outputs": outputs or {},
        **extra,
    }
    layout.run_history.parent.mkdir(parents=True, exist_ok=True)
    with layout.run_history.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    return record


def read_runs(layout: OutputLayout) -> list[dict[str, Any]]:
    if not layout.run_history.is_file():
        return []
    with layout.run_history.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
