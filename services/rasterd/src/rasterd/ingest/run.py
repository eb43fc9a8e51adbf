"""`rasterd ingest`: font files -> a new glyphs.db, fonts read in parallel, merged in a fixed order.

Fonts keep the canonical order of ``discover_fonts`` (config entry by entry, paths relative to each)
and rows within a font are sorted by label before glyph ids are assigned, so the same fonts give the
same database content whatever the number of workers and wherever the fonts or the checkout live.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from glyph_core.audit import AuditLog
from glyph_core.config import IngestConfig, config_hash
from glyph_core.paths import OutputLayout
from glyph_core.runs import record_run
from rasterd.ingest.discover import discover_fonts
from rasterd.ingest.extract import FaceResult, FileResult, extract_file
from rasterd.ingest.shaping import JoiningTable
from rasterd.ingest.writer import ensure_new_database, write_database


@dataclass(frozen=True)
class IngestSummary:
    """What one ingest run read and wrote; fonts count faces (a collection holds several)."""

    database: str
    audit_log: str
    fonts_seen: int
    fonts_used: int
    fonts_skipped: int
    """Faces without ``require_codepoint``, and byte-identical copies of a face already used."""
    fonts_broken: int
    """Files or faces that could not be read (listed in the audit log)."""
    rows: int
    labels: int
    rows_with_twin: int
    seconds: float
    forms: dict[str, int]
    """Rows per kind over every font (isolated, contextual, ligatures, marks, other)."""
    without_contextual: tuple[str, ...]
    """Fonts (family and file) that yield no init/medi/final form: GSUB missing or not reached."""
    metrics_corrected: int
    font_report: str

    def __str__(self) -> str:
        twin_share = self.rows_with_twin / self.rows if self.rows else 0.0
        lines = [
            f"database: {self.database}",
            f"fonts: {self.fonts_seen} seen, {self.fonts_used} used, {self.fonts_skipped} skipped, "
            f"{self.fonts_broken} broken (audit log: {self.audit_log})",
            f"rows: {self.rows} ({self.rows_with_twin} with an identical twin, {twin_share:.1%}), "
            f"labels: {self.labels}",
            "forms: " + ", ".join(f"{kind} {n}" for kind, n in self.forms.items()) + f" (per font: {self.font_report})",
            f"metrics corrected: {self.metrics_corrected} fonts (see the audit log)",
            f"fonts without contextual forms: {len(self.without_contextual)}",
            *(f"  {name}" for name in self.without_contextual),
            f"seconds: {self.seconds:.1f}",
        ]
        return "\n".join(lines)


def _extract_all(paths: Sequence[Path], config: IngestConfig) -> list[FileResult]:
    """Every file's result, in the order of ``paths``; the largest files start first to keep workers busy."""
    order = sorted(paths, key=lambda path: (-path.stat().st_size, path))
    results: list[FileResult] = []
    with tqdm(total=len(order), unit="font", desc="ingest", disable=None) as progress:
        if config.workers == 1 or len(order) <= 1:
            for path in order:
                results.append(extract_file(str(path), config))
                progress.update()
        else:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(config.workers, len(order)), mp_context=context) as pool:
                futures = [pool.submit(extract_file, str(path), config) for path in order]
                for future in as_completed(futures):
                    results.append(future.result())
                    progress.update()
    position = {str(path): i for i, path in enumerate(paths)}
    return sorted(results, key=lambda result: position[result.path])


def _select_faces(results: Sequence[FileResult], audit: AuditLog) -> tuple[list[FaceResult], int, int]:
    """Faces to write, in path order; failures and duplicate files go to the audit log.

    Returns (faces, skipped, broken).
    """
    faces: list[FaceResult] = []
    first_path: dict[str, str] = {}
    skipped = broken = 0
    for result in results:
        skipped += result.skipped
        for ident, reason in result.failures:
            audit.reject("unreadable_font", ident, reason, path=result.path)
            broken += 1
        for face in result.faces:
            file_hash = face.font.file_hash
            if file_hash in first_path:
                audit.reject(
                    "duplicate_font", face.path, f"same bytes as {first_path[file_hash]}", path=face.path
                )
                skipped += 1
                continue
            first_path[file_hash] = face.path
            faces.append(face)
            for note in face.corrections:
                audit.note("metric_corrected", face.path, note, font=file_hash)
    return faces, skipped, broken


def _font_report(faces: Sequence[FaceResult], path: Path) -> None:
    """One JSON line per font written: its file, family, and rows per kind (``FaceResult.form_counts``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for face in faces:
            record = {"path": face.path, "font": face.font.file_hash, "family": face.font.family_name,
                      "style": face.font.style, "rows": len(face.glyphs), **face.form_counts()}  # fmt: skip
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def run_ingest(config: IngestConfig, config_path: str | None = None) -> IngestSummary:
    """Read the configured fonts and write a new database at ``config.database``.

    Raises before any work when the database exists, the joining data is missing, or a ``fonts``
    entry names no font file; unreadable fonts are audited and skipped.
    """
    started = time.perf_counter()
    target = Path(config.database)
    ensure_new_database(target)
    JoiningTable.load(config.arabic_shaping)
    paths = discover_fonts(config.fonts, config.npm_files)
    layout = OutputLayout.at(config.outputs.root)
    audit_path = layout.audit_log("ingest")
    with AuditLog(audit_path) as audit:
        results = _extract_all(paths, config)
        faces, skipped, broken = _select_faces(results, audit)
    write_database(target, faces)
    font_report = layout.logs / "ingest_fonts.jsonl"
    _font_report(faces, font_report)
    rows = [glyph for face in faces for glyph in face.glyphs]
    forms: Counter[str] = Counter()
    for face in faces:
        forms.update(face.form_counts())
    summary = IngestSummary(
        database=str(target),
        audit_log=str(audit_path),
        fonts_seen=len(faces) + skipped + broken,
        fonts_used=len(faces),
        fonts_skipped=skipped,
        fonts_broken=broken,
        rows=len(rows),
        labels=len({glyph.label for glyph in rows}),
        rows_with_twin=sum(1 for glyph in rows if glyph.alt_label),
        seconds=round(time.perf_counter() - started, 2),
        forms=dict(forms),
        without_contextual=tuple(
            f"{face.font.family_name} ({face.path})" for face in faces if face.form_counts()["contextual"] == 0
        ),
        metrics_corrected=sum(1 for face in faces if face.corrections),
        font_report=str(font_report),
    )
    record_run(
        layout,
        "ingest",
        {"ingest": config_hash(config)},
        inputs={"config": config_path or "", "fonts": str(len(paths))},
        outputs={"database": str(target), "rows": summary.rows, "labels": summary.labels},
    )
    return summary
