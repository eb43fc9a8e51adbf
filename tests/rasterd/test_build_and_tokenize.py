"""`rasterd build` and `rasterd tokenize` on a real glyphs.db ingested from real fonts."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from glyph_core.config import RasterizerConfig
from glyph_core.paths import OutputLayout
from glyph_core.primitives import assign_primitives, centroid_hash
from glyph_core.store import StoreError, open_store, read_masks
from glyph_core.splits import FontSplit

STORE_ARRAYS = ("raster", "glyph_id", "label", "font", "split", "char_class", "twin_labels", "is_diacritic",
                "bbox", "scale_factor", "major_dim_ratio", "target_dim")  # fmt: skip


def make_config(db: Path, root: Path, workers: int = 1, chunk: int = 256) -> RasterizerConfig:
    return RasterizerConfig.model_validate(
        {
            "database": str(db),
            "outputs": {"root": str(root)},
            "labels": {"min_count": 3},
            "dask": {"workers": workers},
            "build": {"chunk_size": chunk},
            "augment": {"variants": 0},  # the variants store has its own tests (test_build_variants.py)
        }
    )


def store_digest(path: Path) -> dict[str, str]:
    group = open_store(path, "rasters")
    return {name: hashlib.sha256(np.ascontiguousarray(group[name][:]).tobytes()).hexdigest() for name in STORE_ARRAYS}


def tree_state(folder: Path) -> dict[str, tuple[int, float, str]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(small_glyphs_db, tmp_path_factory):
    """One build of the small DB from a read-only dataset folder, shared by the checks below."""
    from rasterd.build import run_build

    dataset = tmp_path_factory.mktemp("ro") / "dataset"
    dataset.mkdir()
    db = dataset / "glyphs.db"
    shutil.copy(small_glyphs_db, db)
    db.chmod(0o444)
    dataset.chmod(0o555)
    before = tree_state(dataset)
    root = tmp_path_factory.mktemp("outputs")
    config = make_config(db, root, workers=1)
    summary = run_build(config)
    after = tree_state(dataset)
    dataset.chmod(0o755)
    return config, summary, before, after


def test_build_writes_a_complete_store_and_manifests(built):
    config, summary, _, _ = built
    layout = OutputLayout.at(config.outputs.root)
    group = open_store(layout.rasters_store, "rasters")
    n = int(group.attrs["count"])
    assert n == summary.glyphs > 1000
    labels = json.loads(layout.label_map.read_text())
    assert list(labels) == group.attrs["labels"] == sorted(labels)
    masks = read_masks(group, 0, 64)
    assert masks.shape == (64, 128, 128) and set(np.unique(masks)) <= {0, 255}
    # Top-left anchoring: ink starts at row 0 / column 0 (a thin tip may vanish in the downsample).
    for m in masks:
        if m.any():
            rows, cols = np.nonzero(m)
            assert rows.min() <= 2 and cols.min() <= 2
    glyph_ids = group["glyph_id"][:]
    assert np.all(np.diff(glyph_ids) > 0)
    split = FontSplit.from_json(layout.split_manifest.read_text())
    codes = group["split"][:]
    assert set(np.unique(codes)) == {0, 1, 2}
    fonts = group.attrs["fonts"]
    for font_index, code in zip(group["font"][:], codes, strict=True):
        assert split.split_of_font()[fonts[font_index]] == ("train", "val", "test")[code]
    meta = [json.loads(line) for line in layout.meta_jsonl.read_text().splitlines()]
    assert [m["glyph_id"] for m in meta] == glyph_ids.tolist()
    diacritics = [m for m in meta if m["is_diacritic"]]
    assert diacritics and all(m["target_dim"] == 64 for m in diacritics)
    assert {"label", "font_hash", "split", "original_bbox", "scale_factor", "major_dim_ratio"} <= set(meta[0])
    history = [json.loads(line) for line in layout.run_history.read_text().splitlines()]
    assert history[-1]["command"] == "rasterd build" and history[-1]["inputs"]["database_sha256"]


def test_build_never_writes_the_dataset_folder(built):
    _, _, before, after = built
    assert before == after and len(after) == 1


def test_second_build_is_up_to_date(built):
    from rasterd.build import run_build

    config, _, _, _ = built
    os.chmod(Path(config.database).parent, 0o555)
    try:
        again = run_build(config)
    finally:
        os.chmod(Path(config.database).parent, 0o755)
    assert again.up_to_date and "up to date" in str(again)


@pytest.mark.slow
def test_store_content_is_identical_for_one_or_two_workers(built, tmp_path):
    from rasterd.build import run_build

    config, _, _, _ = built
    other = make_config(Path(config.database), tmp_path / "outputs", workers=2)
    run_build(other)
    first = OutputLayout.at(config.outputs.root)
    second = OutputLayout.at(other.outputs.root)
    assert store_digest(first.rasters_store) == store_digest(second.rasters_store)
    assert first.meta_jsonl.read_bytes() == second.meta_jsonl.read_bytes()
    assert first.split_manifest.read_bytes() == second.split_manifest.read_bytes()


@pytest.mark.slow
def test_killed_build_resumes_to_the_same_content(built, tmp_path):
    config, _, _, _ = built
    root = tmp_path / "outputs"
    cfg = make_config(Path(config.database), root, workers=1, chunk=64)
    cfg_path = tmp_path / "rasterizer.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    layout = OutputLayout.at(root)
    cmd = [sys.executable, "-m", "rasterd.cli", "build", "--config", str(cfg_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(layout.tmp.glob("build-*/*.done"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not layout.rasters_store.exists(), "a killed build must not leave a store at the final path"
    with pytest.raises(StoreError):
        open_store(layout.rasters_store, "rasters")
    done_before = len(list(layout.tmp.glob("build-*/*.done")))
    assert done_before >= 3
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "kept from an interrupted run" in result.stdout
    kept = int(result.stdout.split("built, ")[1].split(" kept")[0])
    assert kept >= done_before
    # Same content as the clean build (chunking differs, content does not).
    assert store_digest(layout.rasters_store) == store_digest(OutputLayout.at(config.outputs.root).rasters_store)


def test_tokenize_matches_the_specification_and_refuses_other_centroids(built, tmp_path):
    from rasterd.tokenize import run_tokenize

    config, _, _, _ = built
    layout = OutputLayout.at(config.outputs.root)
    layout.primitives.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    centroids = rng.random((31, 64)).astype(np.float32)
    np.save(layout.centroids, centroids)
    summary = run_tokenize(config)
    grids = open_store(layout.grids_store, "grids", expect={"centroid_hash": centroid_hash(centroids)})
    rasters = open_store(layout.rasters_store, "rasters")
    assert np.array_equal(grids["glyph_id"][:], rasters["glyph_id"][:])
    sample = read_masks(rasters, 0, 300)
    assert np.array_equal(grids["grid"][0:300], assign_primitives(sample, centroids, 8))
    assert grids["grid"][:].max() <= 31
    assert run_tokenize(config).up_to_date

    np.save(layout.centroids, rng.random((15, 64)).astype(np.float32))
    with pytest.raises(StoreError, match="centroid_hash is"):
        open_store(layout.grids_store, "grids", expect={"centroid_hash": centroid_hash(np.load(layout.centroids))})
    rebuilt = run_tokenize(config)
    assert not rebuilt.up_to_date and rebuilt.centroid_hash != summary.centroid_hash
    assert open_store(layout.grids_store, "grids")["grid"][:].max() <= 15


def test_tokenize_without_centroids_names_the_command(built, tmp_path):
    from rasterd.tokenize import run_tokenize

    config, _, _, _ = built
    root = tmp_path / "outputs"
    shutil.copytree(OutputLayout.at(config.outputs.root).rasters_store, OutputLayout.at(root).rasters_store)
    other = config.model_copy(update={"outputs": config.outputs.model_copy(update={"root": str(root)})})
    with pytest.raises(FileNotFoundError, match="glyph-train primitives"):
        run_tokenize(other)


def test_fast_contour_validator_agrees_with_the_reference(small_glyphs_db):
    from glyph_core.catalog import contour_problems as reference
    from glyph_core.db import GlyphDatabase
    from rasterd.render import contour_problems

    with GlyphDatabase(small_glyphs_db) as db:
        texts = [r.contours for r in db.iter_rows(columns=["contours"])][:2000]
    broken = ["", "[]", "{", '[[["moveTo",[0,0]],["closePath",null]]]', '[[["moveTo",[0,NaN]],["lineTo",[1,1]]]]']
    texts += broken
    assert contour_problems(texts, 100_000) == reference(texts, 100_000)
    assert all(p is not None for p in contour_problems(broken, 100_000))


def test_build_prints_and_writes_the_split_report(built):
    config, summary, _, _ = built
    layout = OutputLayout.at(config.outputs.root)
    report = json.loads(layout.split_report.with_suffix(".json").read_text())
    group = open_store(layout.rasters_store, "rasters")
    codes = group["split"][:]
    split = FontSplit.from_json(layout.split_manifest.read_text())
    for code, name in enumerate(("train", "val", "test")):
        row = report["splits"][name]
        assert row["rows"] == int((codes == code).sum())
        assert row["design_groups"] == len(split.groups[name]) and row["fonts"] == len(split.fonts_in(name))
        labels = set(group["label"][:][codes == code].tolist())
        assert row["labels"] == len(labels)
    train = set(group["label"][:][codes == 0].tolist())
    names = group.attrs["labels"]
    for name, code in (("val", 1), ("test", 2)):
        absent = {names[i] for i in set(group["label"][:][codes == code].tolist()) - train}
        assert set(report["labels_absent_from_train"][name]) == absent
    assert sum(report["merges_by_rule"].values()) == sum(len(m) for m in split.merges.values())
    assert report["nearest_other_design"]["design_groups"] == sum(len(g) for g in split.groups.values())
    text = layout.split_report.read_text()
    assert "| train |" in text and "val labels absent from train" in text and "nearest other design" in text
    assert summary.split_report in str(summary) and summary.split_report in text


@pytest.mark.slow
def test_build_on_a_cluster_survives_a_killed_worker_with_the_same_bytes(built, tmp_path):
    """Two `dask worker` processes on 127.0.0.1; one is killed (SIGKILL, nanny included) while
    chunks are still being written; the scheduler reruns its tasks on the other, and the store
    equals a local build's, file for file."""
    from dask_cluster import dask_cluster

    config, _, _, _ = built
    local = make_config(Path(config.database), tmp_path / "local", workers=2, chunk=32)
    from rasterd.build import run_build

    run_build(local)
    root = tmp_path / "cluster"
    with dask_cluster(tmp_path / "cluster.log", workers=2) as cluster:
        cfg = local.model_copy(update={"outputs": local.outputs.model_copy(update={"root": str(root)}),
                                       "dask": local.dask.model_copy(update={"scheduler_address": cluster.address})})  # fmt: skip
        cfg_path = tmp_path / "rasterizer.yaml"
        cfg_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        layout = OutputLayout.at(root)
        proc = subprocess.Popen([sys.executable, "-m", "rasterd.cli", "build", "--config", str(cfg_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.time() + 120
        while time.time() < deadline and not list(layout.tmp.glob("build-*/*.done")):
            time.sleep(0.01)
        cluster.kill_worker(0)
        chunks = -(-int(open_store(OutputLayout.at(local.outputs.root).rasters_store, "rasters").attrs["count"]) // 32)
        done_at_kill = len(list(layout.tmp.glob("build-*/*.done")))
        assert proc.poll() is None and 0 < done_at_kill < chunks, "the worker must die mid-build"
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    assert f"{chunks} built" in out
    assert f"dask: scheduler {cluster.address}, 2 workers" in err
    local_store = OutputLayout.at(local.outputs.root).rasters_store
    files = sorted(p.relative_to(local_store) for p in local_store.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(layout.rasters_store) for p in layout.rasters_store.rglob("*") if p.is_file())
    for name in files:
        assert (local_store / name).read_bytes() == (layout.rasters_store / name).read_bytes(), name


@pytest.mark.slow
def test_a_scheduler_without_workers_fails_the_build_saying_what_to_start(built, tmp_path):
    """Instead of waiting forever for a worker that never comes (dask.worker_wait_s)."""
    from dask_cluster import dask_cluster
    from rasterd.build import run_build
    from rasterd.cluster import ClusterError

    config, _, _, _ = built
    local = make_config(Path(config.database), tmp_path / "outputs")
    with dask_cluster(tmp_path / "cluster.log", workers=0) as cluster:
        cfg = local.model_copy(update={"dask": local.dask.model_copy(update={"scheduler_address": cluster.address, "worker_wait_s": 1})})
        with pytest.raises(ClusterError, match=rf"no worker after 1 s .*dask worker {cluster.address}"):
            run_build(cfg)
    assert not OutputLayout.at(tmp_path / "outputs").rasters_store.exists()


@pytest.mark.slow
def test_an_ablated_raster_policy_holds_out_the_same_designs(built, tmp_path):
    """Design groups are judged under the default policy whatever the build draws: a centered,
    even-odd, 64-px build writes the same split manifest and report (shape scores included)."""
    from rasterd.build import build_id, run_build

    config = built[0]
    changed = config.model_copy(update={"outputs": config.outputs.model_copy(update={"root": str(tmp_path)}),
                                        "raster": config.raster.model_copy(update={"anchoring": "center", "fill_rule": "evenodd", "canvas_size": 64, "diacritic_target": 32})})  # fmt: skip
    run_build(changed)
    home, other = OutputLayout.at(config.outputs.root), OutputLayout.at(tmp_path)
    assert (other.split_manifest).read_bytes() == (home.split_manifest).read_bytes()
    assert other.split_report.with_suffix(".json").read_bytes() == home.split_report.with_suffix(".json").read_bytes()
    assert store_digest(other.rasters_store)["raster"] != store_digest(home.rasters_store)["raster"]  # the rasters did change
    # Builds whose policy once grouped them differently get a new id; a cell size never changed the rasters.
    cells = config.model_copy(update={"raster": config.raster.model_copy(update={"cell_size": 16})})
    assert build_id("db", cells) != build_id("db", config)  # the cell size is part of the content
    from rasterd.render import grouped_by_own_policy

    assert not grouped_by_own_policy(cells.raster) and not grouped_by_own_policy(config.raster)
    assert grouped_by_own_policy(changed.raster)
