"""Training input and k-means benchmark: `glyph-train primitives` stage by stage, and the Phase 1 input
pipeline's delivered cells/s against the model's training step rate, on a real rasters store.

    python bench/bench_train.py [--outputs outputs] [--clusters 1023] [--steps 150]

Times are wall seconds on this machine with every core available (the k-means goal is <= 60 s on
2 cores; the input goal is >= 3x the step rate). The pipeline and the model are first measured
alone (each with the whole machine), then together: Keras fitting from the stream against fitting
from batches already in memory, which shows whether the input ever makes the model wait.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from glyph_core.cell_config import Phase1Config, PrimitivesConfig  # noqa: E402
from glyph_core.paths import OutputLayout  # noqa: E402
from sklearn.cluster import KMeans, kmeans_plusplus  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from glyph_core.cells import CellCodec, PrimitiveAssigner  # noqa: E402
from glyph_core.rasters import open_rasters  # noqa: E402
from glyph_train.phase1.inputs import training_signature, training_stream  # noqa: E402
from glyph_train.phase1.preprocessor import CellPreprocessor  # noqa: E402
from glyph_train.phase1.training import build_classifier, compile_classifier  # noqa: E402
from glyph_train.training import TrainSettings  # noqa: E402
from glyph_train.primitives.kmeans import fit_primitives, sample_without_replacement  # noqa: E402
from glyph_train.primitives.run import nonempty_train_keys  # noqa: E402


def cpu_name() -> str:
    for line in open("/proc/cpuinfo", encoding="utf-8"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def bench_kmeans(layout: OutputLayout, clusters: int) -> np.ndarray:
    config = PrimitivesConfig(clusters=clusters)
    source = open_rasters(layout)
    codec = CellCodec(source.cell_size)
    began = time.perf_counter()
    keys, total = nonempty_train_keys(source, codec)
    sample = sample_without_replacement(keys, config.sample_cells, np.random.default_rng(config.seed))
    distinct, counts = np.unique(sample, return_counts=True)
    read = time.perf_counter() - began
    patterns = codec.decode(distinct)

    # The stages fit_primitives runs, timed one by one (same seeds, so the same result).
    x, w = patterns.astype(np.float32), counts.astype(np.float32)
    began = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    seeding = rng.choice(len(x), size=min(config.init_patterns, len(x)), replace=False, p=w / w.sum())
    with threadpool_limits(limits=1, user_api="blas"):
        init, _ = kmeans_plusplus(x[seeding], clusters, sample_weight=w[seeding], random_state=config.seed)
    seed_seconds = time.perf_counter() - began
    began = time.perf_counter()
    kmeans = KMeans(clusters, init=init, n_init=1, max_iter=config.max_iter, tol=config.tolerance, random_state=config.seed)
    kmeans.fit(x, sample_weight=w)
    lloyd_seconds = time.perf_counter() - began

    began = time.perf_counter()
    result = fit_primitives(
        patterns, counts, clusters, init_patterns=config.init_patterns, max_iter=config.max_iter,
        tolerance=config.tolerance, seed=config.seed,
    )  # fmt: skip
    whole = time.perf_counter() - began
    print(f"k-means (k={clusters})")
    print(f"  train cells {total:,}, non-empty {len(keys):,}, sampled {len(sample):,}, distinct {len(distinct):,}")
    print(f"  read + sample + distinct   {read:6.1f} s")
    print(f"  k-means++ seeding          {seed_seconds:6.1f} s  ({len(seeding):,} patterns)")
    print(f"  Lloyd                      {lloyd_seconds:6.1f} s  ({kmeans.n_iter_} iterations, "
          f"{lloyd_seconds / max(kmeans.n_iter_, 1):.2f} s each)")  # fmt: skip
    print(f"  fit_primitives end to end  {whole:6.1f} s  (seeding, Lloyd, usage order)")
    print(f"  primitives total           {read + whole:6.1f} s  (goal <= 60 s)")
    return result.centroids


def bench_pipeline(layout: OutputLayout, centroids: np.ndarray, steps: int) -> None:
    import keras
    import tensorflow as tf

    config = Phase1Config()
    profile = config.active
    source = open_rasters(layout)
    assigner = PrimitiveAssigner(centroids, source.cell_size)
    preprocessor = CellPreprocessor(assigner, config.augment, config.data.empty_share, config.data.empty_weight)
    rows = source.rows_of("train")
    batch = profile.batch_size

    def stream(seed: int) -> object:
        return training_stream(source, rows, preprocessor, batch, seed=[seed], shuffle_chunks=config.data.shuffle_chunks,
                               workers=config.data.workers)  # fmt: skip

    def rate(iterator: object, count: int, warmup: int = 20) -> float:
        for _ in range(warmup):
            next(iterator)  # type: ignore[call-overload]
        began = time.perf_counter()
        for _ in range(count):
            next(iterator)  # type: ignore[call-overload]
        return count * batch / (time.perf_counter() - began)

    # The first batches compute most primitive ids; later ones mostly find them remembered.
    # About three passes over the train split, so read-ahead buffers do not flatter the rate.
    fresh = rate(iter(stream(0).batches()), 300, warmup=0)
    numpy_rate = rate(iter(stream(1).batches()), 3000)
    dataset = stream(2).dataset(training_signature(source.cell_size), config.data.prefetch_batches)
    tf_rate = rate(iter(dataset), 3000)

    settings = TrainSettings(epochs=1, steps_per_epoch=steps, learning_rate=1e-3, patience=1)
    model = build_classifier(assigner.primitive_count, source.cell_size, config.model)
    compile_classifier(model, settings, weight_decay=1e-4, final_lr_fraction=0.01)
    cached = [next(iter(stream(3).batches())) for _ in range(1)]
    memory = tf.data.Dataset.from_tensors(cached[0]).repeat()
    model.fit(memory, steps_per_epoch=10, epochs=1, verbose=0, shuffle=False)
    began = time.perf_counter()
    model.fit(memory, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    step_rate = steps * batch / (time.perf_counter() - began)
    live = stream(4).dataset(training_signature(source.cell_size), config.data.prefetch_batches)
    model.fit(live, steps_per_epoch=10, epochs=1, verbose=0, shuffle=False)
    began = time.perf_counter()
    model.fit(live, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    fed_rate = steps * batch / (time.perf_counter() - began)
    keras.backend.clear_session()

    print(f"Phase 1 input pipeline (batch {batch}, {config.data.workers} threads, augmentation on, "
          f"empty share {config.data.empty_share})")  # fmt: skip
    print(f"  stream, first batches (ids new)    {fresh:10,.0f} cells/s")
    print(f"  stream, NumPy batches              {numpy_rate:10,.0f} cells/s")
    print(f"  stream through tf.data             {tf_rate:10,.0f} cells/s")
    print(f"  model train steps, data in memory  {step_rate:10,.0f} cells/s  ({step_rate / batch:.1f} steps/s)")
    print(f"  input / step rate                  {tf_rate / step_rate:10.1f} x  (goal >= 3x)")
    print(f"  model train steps fed by stream    {fed_rate:10,.0f} cells/s  ({fed_rate / step_rate:.0%} of in-memory)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", default="outputs", help="outputs root holding rasters/rasters.zarr")
    parser.add_argument("--clusters", type=int, default=1023)
    parser.add_argument("--steps", type=int, default=150, help="training steps per model measurement")
    args = parser.parse_args()
    print(f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    layout = OutputLayout.at(args.outputs)
    centroids = bench_kmeans(layout, args.clusters)
    bench_pipeline(layout, centroids, args.steps)


if __name__ == "__main__":
    main()
