"""Audit log of rejected inputs: one JSON line per rejected font or glyph row, with the reason, and
one per input that was kept but corrected (``note``).

Runs never stop at a bad row: they record it here and go on with the good ones (docs/data.md).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class AuditLog:
    """Append-only JSONL writer; ``counts`` tallies rejections by kind for the run summary."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.counts: Counter[str] = Counter()
        self._file: IO[str] | None = None

    def __enter__(self) -> AuditLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Each run starts its own log: the file describes the last run only.
        self._file = self.path.open("w", encoding="utf-8")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def reject(self, kind: str, ident: str | int, reason: str, **extra: Any) -> None:
        """Record one rejected item: ``kind`` is a short machine-readable category."""
        self._write({"kind": kind, "id": ident, "reason": reason, **extra})
        self.counts[kind] += 1

    def note(self, kind: str, ident: str | int, reason: str, **extra: Any) -> None:
        """Record an input that was kept but changed (e.g. a font metric with the wrong sign).

        Notes are marked ``"kept": true`` and are not counted as rejections.
        """
        self._write({"kind": kind, "id": ident, "reason": reason, "kept": True, **extra})

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError("AuditLog used outside its 'with' block")
        self._file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """All records of an audit log (for reports and tests)."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
