"""Recognition service benchmark: `rasterd serve` with the exported bundle (configs/rasterd.yaml, the
real outputs/, read only) on one uvicorn worker on 127.0.0.1, bounded load, two routes in the same run:

* ``POST /v1/classify`` of random stored glyphs' outlines (contour JSON and font metrics from
  dataset/glyphs.db), ``--batch`` outlines per request: rasterized with the build's policy, then
  Phase 1 and Phase 2 on LiteRT;
* ``raster.png`` of random stored glyphs: the service's cheapest route, as the peer.

Goal (issue 14): at least 300 classified glyphs/s with p99 under 50 ms and no errors. The result
goes to bench/README.md under "Recognition service" (only that section is rewritten).

    python bench/bench_classify.py [--seconds 20] [--connections 32] [--batch 8] [--client wrk|httpx]

Needs `make demo` (or `make export`) first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_serve import ROOT, LoadResult, httpx_load, wait_until_up, write_section, wrk_load  # noqa: E402

SECTION = "## Recognition service"


def bodies_of(database: str, glyph_ids: list[int], batch: int) -> list[str]:
    """classify request bodies of ``batch`` stored outlines each, in the order of ``glyph_ids``."""
    from glyph_core.db import GlyphDatabase

    outlines = []
    with GlyphDatabase(database) as db:
        fonts = db.fonts()
        for glyph_id in glyph_ids:
            row = db.get(glyph_id)
            metrics = fonts.get(row.f_id or "")
            font = {k: float(v) for k in ("ascent", "descent", "typo_ascent", "typo_descent") if metrics and (v := getattr(metrics, k)) is not None}
            outlines.append({"contours": row.contours, "font": font})
    return [json.dumps({"glyphs": outlines[i : i + batch], "top_k": 5}) for i in range(0, len(outlines) - batch + 1, batch)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "rasterd.yaml"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8, help="outlines per classify request")
    parser.add_argument("--rounds", type=int, default=4, help="slices per route, taken in turns")
    parser.add_argument("--client", choices=("wrk", "httpx"), default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--no-readme", action="store_true", help="print only")
    args = parser.parse_args()

    from glyph_core.config import RasterizerConfig, load_config
    from glyph_core.paths import OutputLayout
    from glyph_core.retrieval import RetrievalIndex
    from rasterd.app.readers.recognition import bundle_folder
    from rasterd.app.settings import load_settings

    settings = load_settings(args.config)
    rasterizer = load_config(settings.rasterizer_config, RasterizerConfig)
    folder = bundle_folder(settings.recognition, OutputLayout.at(rasterizer.outputs.root))
    if folder is None or not (folder / "index.npz").is_file():
        raise SystemExit(f"no bundle with an index at {folder}: run `make demo` (or `make export`) first")
    index = RetrievalIndex.load(folder / "index.npz")
    work = Path(tempfile.mkdtemp(prefix="glyphgrid-bench-classify-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = yaml.safe_load(Path(args.config).read_text())
    data["server"] |= {"port": port, "workers": 1, "host": "127.0.0.1", "access_log": False}
    data["recognition"]["max_batch"] = max(args.batch, data["recognition"]["max_batch"])
    config = work / "rasterd.yaml"
    config.write_text(yaml.safe_dump(data))
    url = f"http://127.0.0.1:{port}"
    sample = random.Random(0).sample(index.glyph_id.tolist(), min(len(index), 2000))
    bodies = bodies_of(rasterizer.database, sample, args.batch)
    routes = {
        "classify": (["/v1/classify"] * len(bodies), bodies),
        "raster.png": ([f"/v1/glyphs/{g}/raster.png" for g in sample], None),
    }
    server = subprocess.Popen([sys.executable, "-m", "rasterd.cli", "serve", "--config", str(config)], cwd=ROOT)
    load = wrk_load if args.client == "wrk" else httpx_load
    loads = [os.getloadavg()[0]]
    try:
        wait_until_up(url, server)
        for route, (paths, posted) in routes.items():
            load(url, route, paths, 2, args.connections, work, posted)  # warm-up: Phase 1's remembered patterns fill here too
        slices: dict[str, list[LoadResult]] = {route: [] for route in routes}
        for _ in range(args.rounds):
            for route, (paths, posted) in routes.items():
                part = load(url, route, paths, args.seconds // args.rounds, args.connections, work, posted)
                loads.append(os.getloadavg()[0])
                print(f"  slice {route:11s} {part.rate:8,.0f} req/s  p50 {part.p50_ms:5.1f} ms  p99 {part.p99_ms:5.1f} ms  load {loads[-1]:.1f}")
                slices[route].append(part)
    finally:
        server.terminate()
        server.wait(30)
    results = {
        route: LoadResult(
            route, sum(r.requests for r in parts), sum(r.seconds for r in parts), statistics.median(r.p50_ms for r in parts),
            statistics.median(r.p99_ms for r in parts), sum(r.errors for r in parts), tuple(r.p99_ms for r in parts),
        )
        for route, parts in slices.items()
    }  # fmt: skip
    classify = results["classify"]
    glyph_rate = classify.rate * args.batch
    ok = glyph_rate >= 300 and classify.p99_ms < 50 and classify.errors == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = [
        SECTION, "",
        f"`python bench/bench_classify.py --batch {args.batch}` ({time.strftime('%Y-%m-%d')}): `rasterd serve` with the "
        f"bundle {manifest['name']} ({settings.recognition.precision}, {settings.recognition.threads} LiteRT threads) on one "
        f"uvicorn worker on 127.0.0.1, {args.connections} connections x {args.seconds} s per route in {args.rounds} slices "
        f"taken in turns (p50 and p99: the slices' medians), load from {args.client}; {os.cpu_count()} cores shared by client "
        f"and server; Python {platform.python_version()}. Classify requests hold {args.batch} outlines of random stored glyphs "
        f"(of {len(index):,}), rasterized by the service; 1-minute load average during the run: {min(loads):.1f} to {max(loads):.1f}.",
        "",
        "| route | req/s | glyphs/s | p50 ms | p99 ms | p99 of each slice, ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for r in results.values():
        per = args.batch if r.route == "classify" else 1
        lines.append(
            f"| {r.route} | {r.rate:,.0f} | {r.rate * per:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
            f"{', '.join(f'{v:.0f}' for v in r.slice_p99_ms)} | {r.errors} |"
        )
    lines += ["", f"Goal (>= 300 classified glyphs/s, p99 < 50 ms, no errors): {'met' if ok else 'NOT met'}.", ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_readme:
        write_section(text, SECTION)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
