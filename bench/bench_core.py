"""Raster core benchmark, one CPU core: contour JSON text in -> primitive ids out, against FreeType
and skia rendering the same glyphs at 256 px in the same run; the downsample + threshold alone
against Pillow; and the raster store's form (dense uint8 vs bit-packed rows) in zarr.

    python bench/bench_core.py [--fonts 18] [--repeat 5]

Glyphs are the Arabic-block glyphs of the fonts under /usr/share/fonts (tests/rasterd/font_samples.py).
Centroids are a stand-in for `glyph-train primitives`: 1023 k-means centroids of these glyphs' own
8x8 cells (a few Lloyd steps over the distinct patterns). Times are CPU seconds of this process
(pinned to one core, BLAS on one thread), the best of --repeat runs: on a shared machine wall time
would count other processes' turns on the core.
"""

from __future__ import annotations

import os

# One core for everything, BLAS included (set before NumPy loads).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import freetype  # noqa: E402
import numpy as np  # noqa: E402
import skia  # noqa: E402
import zarr  # noqa: E402
from glyph_core.config import RasterConfig  # noqa: E402
from glyph_core.contours import VERB_CLOSE, VERB_CUBIC, VERB_LINE, VERB_MOVE, VERB_QUAD, Outline, parse_contours  # noqa: E402
from glyph_core.primitives import split_cells  # noqa: E402
from glyph_core.store import pack_masks, unpack_masks  # noqa: E402
from PIL import Image  # noqa: E402

from rasterd._core.contour_json import parse_batch  # noqa: E402
from rasterd.raster import CompiledPrimitiveAssigner, downsample_masks, rasterize_contours  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "rasterd"))
from font_samples import GlyphSample, available_fonts, font_samples  # noqa: E402

RENDER = 256


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        run()
        best = min(best, time.process_time() - began)
    return best


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def stand_in_centroids(masks: np.ndarray, count: int = 1023, steps: int = 4) -> np.ndarray:
    """k-means centroids of the non-empty 8x8 cells, weighted by how often each pattern occurs."""
    cells = split_cells(masks, 8).reshape(-1, 64)
    patterns, weights = np.unique(cells[cells.any(axis=1)], axis=0, return_counts=True)
    patterns = patterns.astype(np.float64)
    rng = np.random.default_rng(0)
    centroids = patterns[rng.choice(len(patterns), count, replace=False, p=weights / weights.sum())]
    for _ in range(steps):
        dist = (patterns**2).sum(1)[:, None] - 2 * patterns @ centroids.T + (centroids**2).sum(1)[None]
        nearest = dist.argmin(axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, patterns * weights[:, None])
        totals = np.bincount(nearest, weights=weights, minlength=count)
        used = totals > 0
        centroids[used] = sums[used] / totals[used, None]
    return centroids


# -- peers ---------------------------------------------------------------------------------------


class FreeTypePeer:
    """FreeType renders each glyph from its font file, scaled so that its major dimension is 256 px
    (unhinted, anti-aliased, one FT_Load_Glyph per glyph)."""

    def __init__(self, samples: list[GlyphSample], major_units: np.ndarray) -> None:
        self.faces: dict[str, freetype.Face] = {}
        paths = {p.name: p for p in available_fonts()}
        self.jobs = []
        for sample, major in zip(samples, major_units):
            face = self.faces.get(sample.font)
            if face is None:
                face = self.faces[sample.font] = freetype.Face(str(paths[sample.font]))
                face.set_char_size(sample.units_per_em * 64, 0, 72, 72)  # 1 font unit = 1 px
            scale = int(round(RENDER / major * 65536))
            self.jobs.append((face, face.get_char_index(sample.codepoint), freetype.Matrix(scale, 0, 0, scale)))

    def run(self) -> None:
        flags = freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING | freetype.FT_LOAD_NO_BITMAP
        delta = freetype.Vector(0, 0)
        for face, index, matrix in self.jobs:
            face.set_transform(matrix, delta)
            face.load_glyph(index, flags)


def skia_path(outline: Outline) -> skia.Path:
    path = skia.Path()
    path.setFillType(skia.PathFillType.kWinding)
    pts = outline.points.tolist()
    cursor = 0
    for verb in outline.verbs.tolist():
        if verb == VERB_MOVE:
            path.moveTo(*pts[cursor])
            cursor += 1
        elif verb == VERB_LINE:
            path.lineTo(*pts[cursor])
            cursor += 1
        elif verb == VERB_QUAD:
            path.quadTo(*pts[cursor], *pts[cursor + 1])
            cursor += 2
        elif verb == VERB_CUBIC:
            path.cubicTo(*pts[cursor], *pts[cursor + 1], *pts[cursor + 2])
            cursor += 3
        elif verb == VERB_CLOSE:
            path.close()
    return path


class SkiaPeer:
    """skia fills each glyph's path (built once) on a 256 x 256 A8 surface, anti-aliased, with the
    same placement as the core (top-left, rows down)."""

    def __init__(self, outlines: list[Outline], bbox: np.ndarray, major_units: np.ndarray) -> None:
        self.surface = skia.Surface.MakeRaster(skia.ImageInfo.MakeA8(RENDER, RENDER))
        self.paint = skia.Paint(AntiAlias=True)
        self.paths = [skia_path(o) for o in outlines]
        self.matrices = []
        for (min_x, _, _, max_y), major in zip(bbox, major_units):
            s = RENDER / major
            self.matrices.append(skia.Matrix.MakeAll(s, 0, -min_x * s, 0, -s, max_y * s, 0, 0, 1))

    def render(self, index: int) -> None:
        canvas = self.surface.getCanvas()
        canvas.clear(0)
        canvas.save()
        canvas.concat(self.matrices[index])
        canvas.drawPath(self.paths[index], self.paint)
        canvas.restore()

    def run(self) -> None:
        for i in range(len(self.paths)):
            self.render(i)

    def canvases(self) -> np.ndarray:
        """Every glyph's 256 px render thresholded at 0.5, as 0/255."""
        out = np.empty((len(self.paths), RENDER, RENDER), np.uint8)
        for i in range(len(self.paths)):
            self.render(i)
            out[i] = np.where(self.surface.toarray() >= 128, 255, 0)
        return out


def pillow_downsample(canvases: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(c, "L").resize((128, 128), Image.BICUBIC)) >= 128 for c in canvases]).astype(np.uint8) * 255


def store_forms(masks: np.ndarray, repeat: int) -> list[tuple[str, int, float, float]]:
    """(form, bytes on disk, write s, read+decode s) for a zarr v3 array of the masks, chunks of 1024."""
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for form, data in (("dense uint8 (N,128,128)", masks), ("bit-packed (N,128,16)", pack_masks(masks))):
            path = Path(root) / form.split()[0]
            began = time.process_time()
            array = zarr.create_array(str(path), shape=data.shape, chunks=(1024, *data.shape[1:]), dtype=data.dtype)
            array[:] = data
            write = time.process_time() - began
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            decode = (lambda a: a) if data is masks else unpack_masks
            read = best_of(repeat, lambda: decode(zarr.open_array(str(path), mode="r")[:]))
            rows.append((form, size, write, read))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fonts", type=int, default=18, help="how many of the preferred fonts to use")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the best counts)")
    args = parser.parse_args()

    samples = [s for path in available_fonts()[: args.fonts] for s in font_samples(path)]
    texts = [s.contours for s in samples]
    em = np.array([s.em_height for s in samples])
    config = RasterConfig()
    n = len(texts)
    batch = rasterize_contours(texts, em, config)
    outlines = [parse_contours(t) for t in texts]
    major_units = (batch.bbox[:, 2:] - batch.bbox[:, :2]).max(axis=1)
    major_units[major_units == 0] = 1.0
    centroids = stand_in_centroids(batch.masks)
    fonts = len({s.font for s in samples})
    print(f"{n} glyphs from {fonts} fonts; {cpu_name()} ({os.cpu_count()} cores), pinned to one core; "
          f"CPU time, best of {args.repeat}; load average {os.getloadavg()[0]:.1f} at start")  # fmt: skip

    parse = best_of(args.repeat, lambda: parse_batch(texts, config.max_points))
    raster = best_of(args.repeat, lambda: rasterize_contours(texts, em, config))
    warm_assigner = CompiledPrimitiveAssigner(centroids, 8)
    warm_assigner.assign(batch.masks)
    assign_warm = best_of(args.repeat, lambda: warm_assigner.assign(batch.masks))
    assign_cold = best_of(args.repeat, lambda: CompiledPrimitiveAssigner(centroids, 8).assign(batch.masks))
    patterns = warm_assigner.known_patterns
    end_to_end_warm = best_of(args.repeat, lambda: warm_assigner.assign(rasterize_contours(texts, em, config).masks))
    end_to_end_cold = best_of(args.repeat, lambda: CompiledPrimitiveAssigner(centroids, 8).assign(rasterize_contours(texts, em, config).masks))

    freetype_peer = FreeTypePeer(samples, major_units)
    freetype_time = best_of(args.repeat, freetype_peer.run)
    path_build = best_of(args.repeat, lambda: [skia_path(o) for o in outlines])
    skia_peer = SkiaPeer(outlines, batch.bbox, major_units)
    skia_time = best_of(args.repeat, skia_peer.run)

    def rate(seconds: float) -> str:
        return f"{n / seconds:10,.0f} glyphs/s  {seconds / n * 1e6:7.1f} us/glyph"

    print("\nContour JSON -> 128x128 mask -> 256 ids (one core)")
    print(f"  C contour reader only                    {rate(parse)}")
    print(f"  rasterize_contours (read + raster)       {rate(raster)}")
    print(f"  assign, memo warm                        {rate(assign_warm)}")
    print(f"  assign, memo cold ({patterns} new patterns) {rate(assign_cold)}  "
          f"({(assign_cold - assign_warm) / patterns * 1e6:.1f} us per new pattern)")  # fmt: skip
    print(f"  end to end, memo warm                    {rate(end_to_end_warm)}")
    print(f"  end to end, memo cold                    {rate(end_to_end_cold)}")
    print("\nPeers rendering the same glyphs at 256 px (no JSON, no downsample, no ids)")
    print(f"  FreeType (freetype-py, from the font)    {rate(freetype_time)}")
    print(f"  skia-python fill (paths prebuilt)        {rate(skia_time)}")
    print(f"  skia-python path building from outlines  {rate(path_build)}")
    print(f"  end to end (warm) / FreeType render: {freetype_time / end_to_end_warm:.2f}x; "
          f"/ skia fill: {skia_time / end_to_end_warm:.2f}x")  # fmt: skip

    canvases = skia_peer.canvases()
    ours = downsample_masks(canvases, 128)
    pillow = pillow_downsample(canvases)
    identical = np.array_equal(ours, pillow)
    ours_time = best_of(args.repeat, lambda: downsample_masks(canvases, 128))
    pillow_time = best_of(max(1, args.repeat // 2), lambda: pillow_downsample(canvases))
    print("\nDownsample 256 -> 128 + threshold alone (real glyph canvases, dense uint8 in)")
    print(f"  Pillow resize(BICUBIC) + >= 128          {rate(pillow_time)}")
    print(f"  rasterd downsample_masks                 {rate(ours_time)}")
    print(f"  identical: {identical}; speed-up {pillow_time / ours_time:.1f}x")

    print(f"\nRaster store form (zarr {zarr.__version__} defaults, chunks of 1024 rasters)")
    for form, size, write, read in store_forms(batch.masks, args.repeat):
        print(f"  {form:24s} {size / 1e6:7.2f} MB  {size / n:6.1f} B/raster  write {write * 1e3:6.1f} ms  "
              f"read+decode {n / read:10,.0f} rasters/s")  # fmt: skip
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
