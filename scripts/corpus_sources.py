#!/usr/bin/env python3
"""The built-in corpus per source (Debian packages, npm packages): files, design groups, rows and
labels, and what each source adds that the other lacks. Reads what ingest and build wrote:
outputs/logs/ingest_fonts.jsonl, outputs/meta/splits.json, outputs/meta/meta.jsonl.

    .venv/bin/python scripts/corpus_sources.py [outputs root]
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def source_of(path: str) -> str:
    return "npm" if "/node_modules/" in path else "Debian"


def main(root: Path) -> str:
    fonts = [json.loads(line) for line in (root / "logs" / "ingest_fonts.jsonl").read_text().splitlines()]
    source = {f["font"]: source_of(f["path"]) for f in fonts}
    manifest = json.loads((root / "meta" / "splits.json").read_text())
    group_of = {font: group for groups in manifest["splits"].values() for group, members in groups.items() for font in members}
    rows: dict[str, int] = defaultdict(int)
    labels: dict[str, set[str]] = defaultdict(set)
    groups: dict[str, set[str]] = defaultdict(set)
    group_sources: dict[str, set[str]] = defaultdict(set)
    label_groups: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with (root / "meta" / "meta.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            glyph = json.loads(line)
            src = source[glyph["font_hash"]]
            rows[src] += 1
            labels[src].add(glyph["label"])
            label_groups[glyph["label"]][src].add(group_of[glyph["font_hash"]])
    for font, src in source.items():
        if font in group_of:
            groups[src].add(group_of[font])
            group_sources[group_of[font]].add(src)
    sources = sorted(groups)
    out = ["| source | font files | design groups | of them only in this source | rows kept | labels | labels only here "
           "| labels it lifts to >= 5 designs |", "|:--|--:|--:|--:|--:|--:|--:|--:|"]  # fmt: skip
    for src in sources:
        files = sum(1 for f in fonts if source_of(f["path"]) == src)
        own_groups = sum(1 for g in groups[src] if group_sources[g] == {src})
        others = set().union(*(labels[s] for s in sources if s != src))
        lifted = sum(
            1 for per in label_groups.values()
            if len(set().union(*per.values())) >= 5 and len(set().union(*(g for s, g in per.items() if s != src))) < 5
        )  # fmt: skip
        out.append(f"| {src} | {files} | {len(groups[src])} | {own_groups} | {rows[src]} | {len(labels[src])} | "
                   f"{len(labels[src] - others)} | {lifted} |")  # fmt: skip
    total_groups = len(group_sources)
    out.append(f"| all | {len(fonts)} | {total_groups} | | {sum(rows.values())} | {len(set().union(*labels.values()))} | | |")
    at_least = {n: sum(1 for per in label_groups.values() if len(set().union(*per.values())) >= n) for n in (5, 10, 20)}
    out.append("")
    out.append("labels drawn by at least 5 / 10 / 20 design groups: " + " / ".join(str(at_least[n]) for n in (5, 10, 20)))
    return "\n".join(out)


if __name__ == "__main__":
    print(main(Path(sys.argv[1] if len(sys.argv) > 1 else "outputs")))
