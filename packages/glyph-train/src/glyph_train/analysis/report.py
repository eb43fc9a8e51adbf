"""The pages and pictures of `glyph-train analyze` (docs/analysis.md), from the numbers ``run`` measured."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from glyph_core.analysis_config import AnalyzeConfig
from glyph_core.rasters import RasterStore

from glyph_train.analysis import drawing
from glyph_train.analysis.errors import COMPOSITION, PHASE1_NOISE, Attribution
from glyph_train.analysis.looks import cell_maps
from glyph_train.analysis.page import Section, write_page
from glyph_train.bundle.measure import masks_of
from glyph_train.data.glyphs import GlyphTable
from glyph_train.primitives.kmeans import usage_quality
from glyph_train.primitives.report import save_usage_plot

INDEX, JSON = "index.html", "analysis.json"


@dataclass(frozen=True)
class Evidence:
    """What the pictures are drawn from; arrays are over the analyzed rows unless named otherwise."""

    config: AnalyzeConfig
    source: RasterStore
    table: GlyphTable
    rows: np.ndarray  # store rows analyzed
    phase2: Any
    exact: np.ndarray  # (n, G, G) nearest-primitive grids
    predicted: np.ndarray  # (n, G, G) Phase 1's grids
    answer: np.ndarray  # (n,) end-to-end top-1
    probability: np.ndarray  # (n,) its probability
    right: np.ndarray  # (n,) alt-aware right end to end
    attribution: Attribution
    family_of: np.ndarray  # (errors,) family of each error
    counter_rows: dict[str, np.ndarray]  # store rows of each counter label
    holes: dict[str, np.ndarray]  # their hole counts
    usage: np.ndarray  # (K,) train cells per primitive

    def masks(self, picked: np.ndarray) -> np.ndarray:
        return masks_of(self.source, self.rows[picked])

    def caption(self, i: int) -> str:
        labels = self.table.labels
        true, answer = labels[self.table.label[self.rows[i]]], labels[self.answer[i]]
        return f"{true} {self.probability[i]:.2f}" if self.right[i] else f"{true}\nas {answer} {self.probability[i]:.2f}"


def _pick(indices: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.choice(indices, size=min(count, len(indices)), replace=False)) if len(indices) else indices


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _interval(value: list[float] | None) -> str:
    return "-" if not value else f"[{100 * value[0]:.1f}, {100 * value[1]:.1f}]"


def _looks(folder: Path, result: dict[str, Any], ev: Evidence, rng: np.random.Generator) -> Section:
    section = Section("looks", "Where the model looks")
    for name, pool in (("right", np.flatnonzero(ev.right)), ("wrong", ev.attribution.errors)):
        picked = _pick(pool, ev.config.look_samples, rng)
        maps, method = cell_maps(ev.phase2, ev.predicted[picked], ev.table.side[ev.rows[picked]], ev.answer[picked])
        result.setdefault("looks", {})[name] = {"method": method, "glyphs": int(len(picked))}
        image = drawing.plot_looks(folder / f"looks_{name}.png", ev.masks(picked), maps, [ev.caption(i) for i in picked])
        section.heading(f"{len(picked)} {name} glyphs").image(image.name, f"{method} over the cells, {name} glyphs")
    method = result["looks"]["right"]["method"]
    section.text(f"Red: how much each cell of Phase 1's grid drove the top-1 answer ({method}), caption: true label, answer and its probability.", "note")
    return section


def _families(folder: Path, result: dict[str, Any], ev: Evidence) -> Section:
    section = Section("families", "Confusion families")
    section.text(
        f"The {result['errors']} misclassified glyphs clustered by Phase 2's features (cosine k-means, "
        f"{len(result['families'])} families): glyphs the model sees alike, whatever their labels."
    )
    for number, family in enumerate(result["families"], start=1):
        members = ev.attribution.errors[np.flatnonzero(ev.family_of == family["cluster"])[: ev.config.family_examples]]
        pairs = ", ".join(f"{p['true']} as {p['predicted']} ({p['count']})" for p in family["pairs"])
        image = drawing.plot_strip(folder / f"family_{number}.png", ev.masks(members), [ev.caption(i) for i in members])
        section.heading(f"Family {number}: {family['size']} glyphs").text(f"Most frequent: {pairs}").image(image.name, f"family {number}")
    return section


def _attribution(folder: Path, result: dict[str, Any], ev: Evidence, rng: np.random.Generator) -> Section:
    counts = result["attribution"]
    section = Section("attribution", "Phase 1 noise or composition")
    section.text(
        f"Of {result['errors']} errors, {counts[PHASE1_NOISE]} are right on the exact grid (nearest primitive per cell) and wrong "
        f"only on Phase 1's grid: Phase 1 noise; {counts[COMPOSITION]} are wrong on both: Phase 2's composition. "
        f"{counts['rescued_by_phase1']} glyphs are wrong on the exact grid but right end to end."
    )
    rows = [[c["char_class"], c["errors"], c[PHASE1_NOISE], c[COMPOSITION]] for c in counts["per_char_class"]]
    section.table(["char class", "errors", "Phase 1 noise", "composition"], [*rows, ["total", result["errors"], counts[PHASE1_NOISE], counts[COMPOSITION]]])
    picked = _pick(ev.attribution.phase1_noise, ev.config.attribution_examples, rng)
    if len(picked):
        image = drawing.plot_cell_differences(folder / "phase1_noise.png", ev.masks(picked), ev.exact[picked], ev.predicted[picked],
                                              [ev.caption(i) for i in picked])  # fmt: skip
        section.image(image.name, "Phase 1 noise errors").text("Blue frames: cells whose Phase 1 primitive is not the nearest one.", "note")
    return section


def _designs(folder: Path, result: dict[str, Any]) -> Section:
    section = Section("designs", "Per design and worst labels")
    section.text(
        f"Alt-aware top-1 end to end on the {result['split']} split: {_percent(result['top1_alt'])} of {result['glyphs']} glyphs, "
        f"95% interval over {result['designs']} design groups {_interval(result['top1_alt_interval'])}; "
        f"mean over designs {_percent(result['per_design_mean'])}."
    )
    section.image(drawing.plot_design_accuracy(folder / "per_design.png", result["per_design"]).name, "accuracy per design")
    section.table(["design", "glyphs", "top-1 alt", "95% Wilson"], [[d["design"], d["glyphs"], _percent(d["top1_alt"]), _interval(d["interval"])] for d in result["per_design"]])
    section.heading("Worst labels")
    if not result["worst_labels"]:
        section.text(f"No label has {result['min_label_glyphs']} or more glyphs in this split.", "note")
    section.table(
        ["label", "glyphs", "top-1 alt", "most often read as"],
        [[w["label"], w["glyphs"], _percent(w["top1_alt"]), "-" if not w["most_often_read_as"] else
          f"{w['most_often_read_as']['label']} ({w['most_often_read_as']['count']})"] for w in result["worst_labels"]],
    )  # fmt: skip
    return section


def _qa(folder: Path, result: dict[str, Any], ev: Evidence) -> Section:
    checks = result["qa"]
    section = Section("qa", "Store quality checks")
    section.heading("Counters")
    section.table(["label", "glyphs", "with a hole"], [[n, c["glyphs"], c["with_a_hole"]] for n, c in checks["counters"].items()])
    if checks["counter_labels_missing"]:
        section.text(f"Not in this store: {', '.join(checks['counter_labels_missing'])}.", "note")
    for name, found in ev.counter_rows.items():
        order = np.argsort(ev.holes[name] > 0, kind="stable")[: ev.config.counter_examples]  # glyphs without a hole first
        masks = masks_of(ev.source, found[order])
        image = drawing.plot_strip(folder / f"counter_{name}.png", masks, [f"{name}\nholes {ev.holes[name][i]}" for i in order])
        section.image(image.name, f"{name} rasters")
    sizes = checks["sizes"]
    section.heading("Sizes (docs/raster-policy.md step 3)")
    section.table(
        ["glyphs", "count", f"ink box at its target ±{sizes['tolerance']} px", "targets", "smallest", "largest"],
        [[kind, s["glyphs"], _percent(s["share_ok"]), ", ".join(map(str, s["targets"])), s["min"], s["max"]]
         for kind, s in (("marks", sizes["marks"]), ("other glyphs", sizes["glyphs"]))],
    )  # fmt: skip
    splits = checks["splits"]
    section.heading("Split integrity")
    verdict = "no design group or font in two splits" if splits["ok"] else "SPLITS LEAK: see analysis.json qa.splits"
    groups = ", ".join(f"{split} {count}" for split, count in splits["groups"].items())
    section.text(f"{verdict}; design groups per split: {groups}; {splits['fonts']} fonts.", "" if splits["ok"] else "bad")
    section.heading("Primitive usage (train cells)")
    save_usage_plot(folder / "primitives.png", ev.usage, usage_quality(ev.usage))
    prim = checks["primitives"]
    return section.image("primitives.png", "primitive usage").text(f"{prim['vocabulary']} primitives, {prim['unused']} unused on {prim['train_cells']:,} train cells.")


def write_report(folder: Path, result: dict[str, Any], ev: Evidence) -> tuple[Path, Path]:
    """index.html and analysis.json in ``folder`` (old images there are replaced), with every picture beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    rng = np.random.default_rng(ev.config.seed)
    sections = [_designs(folder, result), _looks(folder, result, ev, rng), _families(folder, result, ev), _attribution(folder, result, ev, rng), _qa(folder, result, ev)]
    result["images"] = sorted(p.name for p in folder.glob("*.png"))
    intro = [
        f"End-to-end model (Phase 1 then Phase 2) on the {result['split']} designs: {result['glyphs']} glyphs, {result['designs']} design groups, "
        f"{result['errors']} errors alt-aware. Written by glyph-train analyze; every number is in {JSON}.",
    ]
    page = write_page(folder / INDEX, "Glyphgrid error analysis", intro, sections)
    path = folder / JSON
    path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return page, path
