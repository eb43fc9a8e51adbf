"""Which Phase 2 settings learn unseen designs fastest: each candidate is `glyph-train phase2` with a few
config entries changed by environment overrides, scored end to end on the **val** designs (never test:
this chooses defaults).

    python bench/bench_phase2.py [--outputs outputs] [--profile quick] [--candidates transformer cnn ...]

Needs a finished `make demo` (or the stages up to Phase 1 plus `rasterd tokenize`) under --outputs. Its
stores, centroids and Phase 1 checkpoint are copied to <outputs>/bench/phase2/ once; every candidate
then runs the real `glyph-train phase2` and `glyph-train evaluate` there with the configs in configs/.
Results: a Markdown table on stdout and phase2.json there (one row per candidate, rewritten as rows finish).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from pathlib import Path

from bench_variants import BIN, COPIED, interval, prepare, run, share

# Each candidate: what it changes, as PHASE2_* overrides (nested keys joined by __). The quick and long
# profiles only size the Transformer, so a backbone or dropout set here reaches them unchanged.
CANDIDATES: dict[str, dict[str, str]] = {
    "transformer": {},
    "transformer_mean_pool": {"TRAINING__MODEL__TRANSFORMER__POOL": "mean"},
    "transformer_no_dropout": {"TRAINING__MODEL__TRANSFORMER__DROPOUT": "0"},
    "cnn": {"TRAINING__MODEL__BACKBONE": "cnn"},
    "cnn_small": {
        "TRAINING__MODEL__BACKBONE": "cnn", "TRAINING__MODEL__CNN__STAGE_BLOCKS": "[1, 1, 1]",
        "TRAINING__MODEL__CNN__WIDTH": "48",
    },  # fmt: skip
    "cnn_no_dropout": {"TRAINING__MODEL__BACKBONE": "cnn", "TRAINING__MODEL__CNN__DROPOUT": "0"},
}


def measure(root: Path, name: str, profile: str) -> dict:
    overrides = {f"PHASE2_{key}": value for key, value in CANDIDATES[name].items()}
    env = {
        "PHASE2_OUTPUTS__ROOT": str(root), "PHASE2_PROFILE": profile, "PHASE2_TENSORBOARD": "false",
        "EVALUATE_OUTPUTS__ROOT": str(root), "EVALUATE_MODELS": '["end_to_end"]', "EVALUATE_SPLITS": '["val"]',
        **overrides,
    }  # fmt: skip
    shutil.rmtree(root / "checkpoints" / "phase2", ignore_errors=True)
    seconds = {"phase2": run([str(BIN / "glyph-train"), "phase2", "--config", "configs/phase2.yaml"], env)}
    seconds["evaluate"] = run([str(BIN / "glyph-train"), "evaluate", "--config", "configs/evaluate.yaml"], env)
    evaluation = json.loads((root / "analysis" / "evaluate" / "evaluation.json").read_text(encoding="utf-8"))
    metrics = json.loads((root / "analysis" / "phase2" / "metrics.json").read_text(encoding="utf-8"))
    training = metrics.get("training", {})
    return {
        "candidate": name, "overrides": overrides, "val": evaluation["ways"]["end_to_end"]["splits"]["val"],
        "seconds": seconds, "epochs_run": training.get("epochs_run"), "parameters": metrics.get("model", {}).get("parameters"),
    }  # fmt: skip


def table(rows: list[dict]) -> str:
    lines = [
        "| candidate | val top-1 strict | val top-1 alt-aware (95% interval) | top-5 alt-aware | val designs / glyphs | parameters | Phase 2 s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        val = row["val"]
        parameters = "-" if row["parameters"] is None else f"{row['parameters']:,}"
        lines.append(
            f"| {row['candidate']} | {share(val['top1_strict'])} | {share(val['top1_alt'])} {interval(val['intervals']['top1_alt'])} "
            f"| {share(val['top5_alt'])} | {val['intervals']['designs']} / {val['count']} | {parameters} | {row['seconds']['phase2']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", type=Path, default=Path("outputs"))
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--candidates", nargs="+", choices=sorted(CANDIDATES), default=list(CANDIDATES))
    parser.add_argument("--reuse", action="store_true", help="keep an earlier copy under <outputs>/bench/phase2")
    args = parser.parse_args()
    root = args.outputs / "bench" / "phase2"
    if not (args.reuse and root.is_dir()):
        prepare(args.outputs, root, (*COPIED, "rasters/variants.zarr"))
    began, rows = time.perf_counter(), []
    for name in args.candidates:
        rows.append(measure(root, name, args.profile))
        result = {
            "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "profile": args.profile, "seconds": time.perf_counter() - began, "load_after": os.getloadavg()[0], "rows": rows,
        }  # fmt: skip
        (root / "phase2.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\n{result['date']}, {result['machine']}, Phase 2 profile {args.profile}, 1-min load after: {result['load_after']:.1f}")
    print(table(rows))


if __name__ == "__main__":
    main()
