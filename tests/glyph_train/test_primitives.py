"""`glyph-train primitives` on a real rasters store: determinism, hash in the run history, pictures, QA."""

import json

import numpy as np
import pytest
from matplotlib.image import imread
from threadpoolctl import threadpool_limits

from glyph_core.cell_config import PrimitivesConfig
from glyph_core.primitives import centroid_hash

from glyph_train.cli import main
from glyph_train.errors import TrainingInputError
from glyph_train.primitives.kmeans import fit_primitives, usage_quality
from glyph_train.primitives.run import QA_FILE, THUMBNAILS_FILE, USAGE_FILE, run_primitives
from train_helpers import SMALL_CLUSTERS, copy_outputs


def test_kmeans_recovers_hand_made_clusters_and_orders_them_by_use():
    a, b, c = np.zeros(64, np.uint8), np.zeros(64, np.uint8), np.zeros(64, np.uint8)
    a[:8], b[-8:], c[::8] = 1, 1, 1
    near_a = a.copy()
    near_a[8] = 1
    patterns = np.stack([a, near_a, b, c])
    result = fit_primitives(patterns, np.array([10, 10, 50, 5]), 3, init_patterns=100, max_iter=50, tolerance=0, seed=0)
    assert result.usage.tolist() == [50, 20, 5]
    np.testing.assert_allclose(result.centroids[0], b)
    np.testing.assert_allclose(result.centroids[1], (a + near_a) / 2)
    np.testing.assert_allclose(result.centroids[2], c)
    with pytest.raises(TrainingInputError, match="only 4 distinct .* for 5 clusters"):
        fit_primitives(patterns, np.ones(4), 5, init_patterns=100, max_iter=5, tolerance=0, seed=0)


def test_kmeans_gives_the_same_bytes_whatever_openmp_threads_the_process_allows():
    # scikit-learn centres the data, so its threads' partial sums round by the order they arrive in: a
    # machine (or container) with more cores once gave another centroid hash, and every stage after it reran.
    rng = np.random.default_rng(0)
    patterns = np.unique((rng.random((6000, 64)) < 0.3).astype(np.uint8), axis=0)
    counts = rng.integers(1, 50, len(patterns))

    def fitted(threads: int) -> bytes:
        with threadpool_limits(limits=threads, user_api="openmp"):
            return fit_primitives(patterns, counts, 64, init_patterns=2000, max_iter=30, tolerance=0, seed=0).centroids.tobytes()

    assert len({fitted(threads) for threads in (1, 2, 8, 8, 8, 8)}) == 1


def test_usage_quality_numbers():
    quality = usage_quality(np.array([50, 25, 25, 0]))
    assert quality["largest_cluster_share"] == 0.5 and quality["dead_clusters"] == 1
    assert quality["entropy_bits"] == pytest.approx(1.5) and quality["effective_clusters"] == pytest.approx(2 ** 1.5)


def test_primitives_are_deterministic_hashed_and_pictured(primitives_root, tmp_path):
    again = copy_outputs(primitives_root, tmp_path / "outputs")
    (again / "primitives").joinpath("primitive_centroids.npy").unlink()
    summary = run_primitives(PrimitivesConfig(outputs={"root": str(again)}, clusters=SMALL_CLUSTERS))
    first = np.load(primitives_root / "primitives" / "primitive_centroids.npy")
    second = np.load(again / "primitives" / "primitive_centroids.npy")
    assert first.dtype == np.float32 and first.shape == (SMALL_CLUSTERS, 64)
    assert first.tobytes() == second.tobytes()
    assert summary.centroid_hash == centroid_hash(second)
    runs = [json.loads(line) for line in (again / "meta" / "run_history.jsonl").read_text().splitlines()]
    assert runs[-1]["command"] == "glyph-train primitives" and runs[-1]["centroid_hash"] == summary.centroid_hash

    qa = json.loads((again / "primitives" / QA_FILE).read_text())
    assert qa["centroid_hash"] == summary.centroid_hash
    assert qa["sample"]["sampled_cells"] == qa["sample"]["nonempty_cells"] <= 1_000_000
    assert len(qa["usage"]) == SMALL_CLUSTERS and qa["usage"] == sorted(qa["usage"], reverse=True)
    assert sum(qa["usage"]) == qa["sample"]["sampled_cells"]
    q = qa["quality"]
    assert 0 < q["largest_cluster_share"] < 0.5 and q["dead_clusters"] == 0
    assert 0.5 < q["normalized_entropy"] <= 1

    sheet = imread(again / "primitives" / THUMBNAILS_FILE)[..., 0]
    columns = int(np.ceil(np.sqrt(SMALL_CLUSTERS)))
    assert sheet.shape[1] == columns * (8 * 4 + 2) + 2
    # Ink and paper both present, and the first prototype (most used) differs from the last.
    assert sheet.min() < 0.1 and sheet.max() > 0.9 and sheet.std() > 0.2
    first_tile, last_tile = sheet[2:34, 2:34], sheet[-34:-2, 2 + 34 * ((SMALL_CLUSTERS - 1) % columns):][:, :32]
    assert not np.array_equal(first_tile, last_tile)
    plot = imread(again / "primitives" / USAGE_FILE)
    assert plot.shape[0] > 300 and plot.shape[1] > 800 and plot[..., :3].std() > 0.05


def test_cli_runs_and_reports_user_errors_in_one_line(primitives_root, tmp_path, capsys):
    config = tmp_path / "primitives.yaml"
    config.write_text(f"outputs:\n  root: {tmp_path / 'nothing'}\n")
    assert main(["primitives", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glyph-train primitives: error: ") and "no rasters store" in err and err.count("\n") == 1
    config.write_text("clusterz: 5\n")
    assert main(["primitives", "--config", str(config)]) == 2
    assert "clusterz: unknown key" in capsys.readouterr().err
