"""What the outline-augmented variants buy: Phase 2 trained with N variants per train glyph, scored end
to end on the val designs (never test: this chooses a default).

    python bench/bench_variants.py [--outputs outputs] [--variants 0 1 4] [--profile quick]

Needs a finished `make demo` (or the stages up to Phase 1) under --outputs. The stores, centroids and
Phase 1 checkpoint are copied to <outputs>/bench/variants/, and for each N the real commands run
there with the configs in configs/ and environment overrides only: `rasterd build` (augment.variants
= N), `rasterd tokenize`, `glyph-train phase2` (augment share 0 for N = 0, else the config's) and
`glyph-train evaluate` (end to end, val). Results: a Markdown table on stdout and variants.json there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COPIED = ("rasters/rasters.zarr", "grids", "meta", "primitives", "checkpoints/phase1")


def run(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    print("$", " ".join(f"{k}={v}" for k, v in env.items()), *command, flush=True)
    subprocess.run(command, check=True, env={**os.environ, **env})
    return time.perf_counter() - began


def prepare(outputs: Path, root: Path, parts: tuple[str, ...] = COPIED) -> None:
    """Copies ``parts`` of a finished run under ``outputs`` to ``root``, replacing what was there."""
    for part in parts:
        if not (outputs / part).exists():
            raise SystemExit(f"{outputs / part} is missing: run `make demo` (or the stages up to phase1) first")
    shutil.rmtree(root, ignore_errors=True)
    for part in parts:
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(outputs / part, root / part)
    (root / "meta" / "run_history.jsonl").unlink(missing_ok=True)


def measure(root: Path, variants: int, profile: str) -> dict:
    env = {
        "RASTERIZER_OUTPUTS__ROOT": str(root), "RASTERIZER_AUGMENT__VARIANTS": str(variants),
        "PHASE2_OUTPUTS__ROOT": str(root), "PHASE2_PROFILE": profile, "PHASE2_TENSORBOARD": "false",
        "EVALUATE_OUTPUTS__ROOT": str(root), "EVALUATE_MODELS": '["end_to_end"]', "EVALUATE_SPLITS": '["val"]',
    }  # fmt: skip
    if variants == 0:
        env["PHASE2_INPUT__AUGMENT__SHARE"] = "0"
    seconds = {"build": run([str(BIN / "rasterd"), "build", "--config", "configs/rasterizer.yaml"], env)}
    seconds["tokenize"] = run([str(BIN / "rasterd"), "tokenize", "--config", "configs/rasterizer.yaml"], env)
    shutil.rmtree(root / "checkpoints" / "phase2", ignore_errors=True)
    seconds["phase2"] = run([str(BIN / "glyph-train"), "phase2", "--config", "configs/phase2.yaml"], env)
    seconds["evaluate"] = run([str(BIN / "glyph-train"), "evaluate", "--config", "configs/evaluate.yaml"], env)
    evaluation = json.loads((root / "analysis" / "evaluate" / "evaluation.json").read_text(encoding="utf-8"))
    val = evaluation["ways"]["end_to_end"]["splits"]["val"]
    metrics = json.loads((root / "analysis" / "phase2" / "metrics.json").read_text(encoding="utf-8"))
    return {"variants": variants, "val": val, "seconds": seconds, "phase2_epochs": metrics.get("training", {}).get("epochs_run")}


def share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def interval(pair: list[float] | None) -> str:
    return "-" if not pair else f"[{100 * pair[0]:.1f}, {100 * pair[1]:.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", type=Path, default=Path("outputs"))
    parser.add_argument("--variants", type=int, nargs="+", default=[0, 1, 4])
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args()
    root = args.outputs / "bench" / "variants"
    prepare(args.outputs, root)
    began = time.perf_counter()
    rows = [measure(root, n, args.profile) for n in args.variants]
    load = os.getloadavg()[0]
    result = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "profile": args.profile, "seconds": time.perf_counter() - began, "load_after": load, "rows": rows,
    }  # fmt: skip
    (root / "variants.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"\n{result['date']}, {result['machine']}, Phase 2 profile {args.profile}, 1-min load after: {load:.1f}")
    print("| variants per train glyph | val top-1 strict | val top-1 alt-aware (95% interval) | top-5 alt-aware | val designs / glyphs | build + tokenize s | Phase 2 s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        val, s = row["val"], row["seconds"]
        print(
            f"| {row['variants']} | {share(val['top1_strict'])} | {share(val['top1_alt'])} {interval(val['intervals']['top1_alt'])} "
            f"| {share(val['top5_alt'])} | {val['intervals']['designs']} / {val['count']} | {s['build'] + s['tokenize']:.0f} | {s['phase2']:.0f} |"
        )


if __name__ == "__main__":
    main()
