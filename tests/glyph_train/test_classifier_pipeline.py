"""The whole training side on the small real store: `glyph-train pipeline` (primitives, tokenize, Phase 1,
baseline, Phase 2, evaluate, export), its stage skipping, Phase 2's outputs, resume and distillation, evaluation on a
second database whose labels the models partly never saw, and the exported bundle run by LiteRT."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from glyph_core.classifier_config import EvaluateConfig, Phase2Config
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs
from glyph_train.pipeline import run_pipeline

from train_helpers import EVALUATE_RESAMPLES, PIPELINE_STAGES as STAGES, rasterizer_config, write_pipeline_configs

# One xdist worker holds every test of the shared pipeline run (`make test` runs two): it trains once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline_run")]
def statuses(summary) -> dict[str, str]:
    return {name: status for name, status, _ in summary.stages}


def test_first_run_runs_every_stage_and_evaluates_three_ways(pipeline_run):
    root, _, _, summary = pipeline_run
    assert statuses(summary) == {s: "ran" for s in STAGES}
    layout = OutputLayout.at(root)
    result = json.loads((layout.analysis / "evaluate" / "evaluation.json").read_text())
    assert set(result["ways"]) == {"phase2_true_grids", "end_to_end", "baseline"}
    for way in result["ways"].values():
        assert way["params"] > 0 and way["flops"] > 0
        test = way["splits"]["test"]
        assert test["count"] > 0
        assert test["top1_strict"] <= test["top1_alt"] <= test["top5_alt"]
        assert 0 < test["expected_strict_ceiling"] <= 1
        intervals = test["intervals"]  # the small store's test split may hold a single design: then no interval
        assert intervals["designs"] >= 1 and intervals["resamples"] == EVALUATE_RESAMPLES
        if intervals["designs"] >= 2:
            low, high = intervals["top1_alt"]
            assert 0 <= low <= high <= 1
        else:
            assert intervals["top1_alt"] is None
    # End to end costs Phase 1 on every cell on top of Phase 2.
    ways = result["ways"]
    assert ways["end_to_end"]["flops"] > ways["phase2_true_grids"]["flops"]
    # Remembered per distinct cell pattern, Phase 1 costs less per glyph than on all 256 cells, but not nothing.
    assert ways["phase2_true_grids"]["flops"] < ways["end_to_end"]["flops_amortized"] < ways["end_to_end"]["flops"]
    assert ways["baseline"]["flops_amortized"] == ways["baseline"]["flops"]
    report = (layout.analysis / "evaluate" / "report.md").read_text()
    assert "phase2_true_grids" in report and "end_to_end" in report and "baseline" in report
    assert "](per_class_test.png)" in report  # figures are linked beside the report
    for name in ("per_class_test.png", "per_design_test.png", "confusions_end_to_end_test.png"):
        assert (layout.analysis / "evaluate" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| phase2_true_grids" in str(summary.final) and summary.final_printed


def test_phase2_learns_clearly_above_chance_on_unseen_designs(pipeline_run):
    root, *_ = pipeline_run
    result = json.loads((OutputLayout.at(root).analysis / "evaluate" / "evaluation.json").read_text())
    chance = 1 / len(result["labels"])
    for way in ("phase2_true_grids", "end_to_end"):
        assert result["ways"][way]["splits"]["test"]["top5_alt"] > 20 * chance, way
        assert result["ways"][way]["splits"]["val"]["top1_alt"] > 5 * chance, way


def test_phase2_writes_metrics_and_a_finished_run_resumes_without_training(pipeline_run, tmp_path):
    from glyph_train.phase2.run import run_phase2

    shared, base, _, _ = pipeline_run
    root = Path(shutil.copytree(shared, tmp_path / "outputs"))  # a run of its own must not touch the shared history
    layout = OutputLayout.at(root)
    metrics = json.loads((layout.analysis / "phase2" / "metrics.json").read_text())
    assert metrics["training"]["epochs_run"] >= 1
    assert set(metrics["scores"]) == {"test true", "test predicted"}
    record = [r for r in read_runs(layout) if r["command"] == "glyph-train phase2"][-1]
    assert record["stage_key"] and Path(record["outputs"]["checkpoint"]).is_file()
    config = Phase2Config.model_validate(yaml.safe_load((base / "configs" / "phase2.yaml").read_text()))
    again = run_phase2(config.model_copy(update={"outputs": config.outputs.model_copy(update={"root": str(root)})}))
    assert again.epochs_run == metrics["training"]["epochs_run"]  # resumed a finished run: no new epochs
    assert again.scores == metrics["scores"]


def test_second_run_skips_every_stage_and_a_changed_config_reruns_it_and_downstream(pipeline_run, small_glyphs_db):
    root, base, config, _ = pipeline_run
    second = run_pipeline(config)
    assert statuses(second) == {**{s: "skipped" for s in STAGES}, "tokenize": "ran"}  # rasterd skips itself
    assert "| phase2_true_grids" in str(second)  # the table is printed from the saved evaluation
    # The baseline is the cheapest stage with a stage downstream (evaluate); export does not read it.
    changed = write_pipeline_configs(base / "configs", root, small_glyphs_db, baseline_seed=7)
    third = run_pipeline(changed)
    assert statuses(third) == {**{s: "skipped" for s in STAGES}, "tokenize": "ran", "baseline": "ran", "evaluate": "ran"}
    # A deleted output makes its stage stale even with the same key.
    (OutputLayout.at(root).analysis / "evaluate" / "report.md").unlink()
    fourth = run_pipeline(changed)
    assert statuses(fourth) == {**{s: "skipped" for s in STAGES}, "tokenize": "ran", "evaluate": "ran"}


@pytest.fixture(scope="module")
def other_store(small_glyphs_db, tmp_path_factory, font_file) -> Path:
    """Outputs root of a store built from other fonts, every label kept and Latin letters recorded too:
    labels the models never saw."""
    from glyph_core.config import IngestConfig
    from rasterd.build import run_build
    from rasterd.ingest.run import run_ingest

    base = tmp_path_factory.mktemp("other_fonts")
    fonts = [
        font_file("opentype/fonts-hosny-amiri/AmiriQuran.ttf"),
        font_file("truetype/noto/NotoNastaliqUrdu-Regular.ttf"),
        font_file("truetype/kacst-one/KacstOne-Bold.ttf"),
    ]
    db = base / "dataset" / "glyphs.db"
    run_ingest(IngestConfig(
        fonts=[str(f) for f in fonts], database=str(db), workers=1, include_latin=True, outputs={"root": str(base / "ingest")}
    ))  # fmt: skip
    other = base / "other"
    build = rasterizer_config(db, other).model_copy(update={"labels": rasterizer_config(db, other).labels.model_copy(update={"min_count": 1})})
    run_build(build)
    return other


def test_evaluate_on_a_second_database_reports_unknown_labels_apart(pipeline_run, other_store):
    from glyph_train.evaluate.run import run_evaluate

    root, *_ = pipeline_run
    other = other_store
    summary = run_evaluate(EvaluateConfig(
        outputs={"root": str(root)}, splits=["test"], min_font_glyphs=5,
        external=[{"name": "other-fonts", "outputs_root": str(other)}],
    ))  # fmt: skip
    ext = summary.result["external"]["other-fonts"]
    home_labels = set(summary.result["labels"])
    other_table = OutputLayout.at(other)
    from glyph_train.data.glyphs import load_glyph_table
    from glyph_core.rasters import open_rasters

    table = load_glyph_table(open_rasters(other_table), other_table)
    unknown_rows = int(sum(table.labels[i] not in home_labels for i in table.label))
    assert unknown_rows > 0
    assert ext["unknown"]["rows"] == unknown_rows
    assert sum(ext["unknown"]["labels"].values()) == unknown_rows
    assert set(ext["unknown"]["labels"]) == {table.labels[i] for i in np.unique(table.label)} - home_labels
    known_counted = sum(split["count"] for split in ext["ways"]["end_to_end"]["splits"].values())
    assert known_counted + unknown_rows == len(table.label)
    assert "other-fonts" in Path(summary.report_path).read_text()


def _copied_phase2(pipeline_run, tmp_path: Path) -> tuple[Path, OutputLayout, dict]:
    """A copy of the shared run's outputs and its Phase 2 config (as a dict) writing into that copy."""
    shared, base, _, _ = pipeline_run
    root = Path(shutil.copytree(shared, tmp_path / "outputs"))
    data = yaml.safe_load((base / "configs" / "phase2.yaml").read_text())
    data["outputs"]["root"] = str(root)
    return root, OutputLayout.at(root), data


def test_joint_fine_tuning_runs_on_the_task_template_resumes_and_is_evaluated(pipeline_run, tmp_path):
    from glyph_train.evaluate.run import run_evaluate
    from glyph_train.phase2.run import run_phase2

    root, layout, data = _copied_phase2(pipeline_run, tmp_path)
    data["profiles"]["quick"]["joint"] = {"enabled": True, "epochs": 1, "batch_size": 8, "train_phase1": "head"}
    config = Phase2Config.model_validate(data)
    first = run_phase2(config)
    joint = first.joint
    assert joint is not None and joint["epochs_run"] == 1 and Path(joint["checkpoint"]).is_file()
    metrics = json.loads((layout.analysis / "phase2_joint" / "metrics.json").read_text())
    phase2 = json.loads((layout.analysis / "phase2" / "metrics.json").read_text())
    steps = phase2["training"]["steps_per_epoch"]  # one pass in batches of 32; the joint one is in batches of 8
    assert 4 * steps <= metrics["training"]["steps_per_epoch"] < 4 * (steps + 1)
    assert metrics["training"]["global_batch_size"] == 8 and first.epochs_run == phase2["training"]["epochs_run"]
    assert metrics["scores"]["test raster"]["top1_strict"] == joint["test_top1"]
    record = [r for r in read_runs(layout) if r["command"] == "glyph-train phase2 (joint fine-tuning)"][-1]
    assert record["outputs"]["checkpoint"] == joint["checkpoint"] and "phase2_model_hash" in record["inputs"]
    # Phase 2's own record and metrics name the joint checkpoint.
    assert [r for r in read_runs(layout) if r["command"] == "glyph-train phase2"][-1]["outputs"]["joint"] == joint["checkpoint"]
    again = run_phase2(config)  # both finished: nothing trains again, the same scores come back
    assert again.joint is not None and again.joint["epochs_run"] == 1 and again.joint["test_top1"] == joint["test_top1"]
    summary = run_evaluate(EvaluateConfig(outputs={"root": str(root)}, splits=["test"], min_font_glyphs=5, models=["joint"]))
    assert summary.result["ways"]["joint"]["splits"]["test"]["count"] > 0


def test_phase2_distills_from_the_trained_baseline_and_is_refused_without_it(pipeline_run, tmp_path):
    from glyph_train.errors import TrainingInputError
    from glyph_train.phase2.run import run_phase2

    _, layout, data = _copied_phase2(pipeline_run, tmp_path)
    plain = json.loads((layout.analysis / "phase2" / "metrics.json").read_text())["training"]["history"]
    data["loss"]["distill"] = {"weight": 0.5, "temperature": 2.0, "top_k": 8}
    data["resume"] = False  # the copied root holds the plain Phase 2's checkpoint
    summary = run_phase2(Phase2Config.model_validate(data))
    metrics = json.loads((layout.analysis / "phase2" / "metrics.json").read_text())
    teacher = json.loads((layout.analysis / "baseline" / "metrics.json").read_text())
    assert metrics["inputs"]["teacher_model_hash"] == teacher["model"]["model_hash"]
    losses = [epoch["logits_loss"] for epoch in metrics["training"]["history"]]
    assert summary.epochs_run >= 1 and all(np.isfinite(losses))
    # Same seed, same batches: only the teacher's term can move the training loss of the first pass.
    assert abs(losses[0] - plain[0]["logits_loss"]) > 1e-3
    shutil.rmtree(layout.checkpoints("baseline"))
    with pytest.raises(TrainingInputError, match="run `glyph-train baseline` first"):
        run_phase2(Phase2Config.model_validate(data))


def _home(root: Path):
    from glyph_core.rasters import open_rasters
    from glyph_train.data.glyphs import load_glyph_table

    layout = OutputLayout.at(root)
    source = open_rasters(layout)
    return layout, source, load_glyph_table(source, layout)


def test_exported_bundle_runs_on_litert_exactly_like_glyph_train(pipeline_run):
    from glyph_core.bundle import INDEX, read_manifest, store_mismatches
    from glyph_core.primitives import load_centroids
    from glyph_core.recognizer import Recognizer
    from glyph_train.bundle.measure import read_masks
    from glyph_train.data.glyphs import load_grids
    from glyph_train.evaluate.ways import build_ways

    root, *_ = pipeline_run
    layout, source, table = _home(root)
    folder = layout.export("end_to_end")
    manifest = read_manifest(folder)
    centroids, chash = load_centroids(layout.centroids, source.cell_size)
    assert store_mismatches(manifest, dict(source.group.attrs), chash) == []
    assert set(manifest.precisions) == {"float32", "int8"} and manifest.classes == len(table.labels)
    for entry in manifest.precisions.values():
        for model in (entry.cell_model, entry.grid_model):
            assert (folder / model.file).stat().st_size == model.bytes > 0
        assert {s.name for s in entry.grid_model.inputs} == {"grid", "side"}
        assert {s.name for s in entry.grid_model.outputs} == {"logits", "features"}
    for form in (*manifest.keras.values(), *manifest.saved_model.values()):
        assert (folder / form).exists()

    # Every val and test glyph through the LiteRT bundle and through glyph-train's own end-to-end model.
    rows = np.sort(np.concatenate([table.rows_of("val"), table.rows_of("test")]))
    masks, side = read_masks(source, rows), table.side[rows]
    keras_logits = build_ways(["end_to_end"], layout, centroids, source.cell_size, source.canvas_size, 256)[0].predict(masks, side)
    float32 = Recognizer(folder, "float32").classify(masks, side)
    assert np.array_equal(float32.probabilities.argmax(axis=1), keras_logits.argmax(axis=1))
    expected = np.exp(keras_logits - keras_logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(float32.probabilities, expected / expected.sum(axis=1, keepdims=True), atol=1e-4)
    assert np.array_equal(float32.grids, load_grids(layout.predicted_grids_store, "predicted_grids", source)[rows])
    assert manifest.precisions["float32"].agreement_with_keras == 1.0

    # The manifest's numbers are the bundle's own: strict top-1 on test recomputed from the models' output.
    test = np.isin(rows, table.rows_of("test"))
    int8 = Recognizer(folder, "int8").classify(masks, side)
    for precision, out in (("float32", float32), ("int8", int8)):
        score = manifest.precisions[precision].accuracy["test"]
        assert score.glyphs == test.sum()
        assert score.top1_strict == pytest.approx(float((out.probabilities[test].argmax(axis=1) == table.label[rows][test]).mean()))
        np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=0.02)
    # int8 is the float32 model quantized: it agrees on most glyphs (a tiny model, so not on all).
    assert (int8.probabilities.argmax(axis=1) == float32.probabilities.argmax(axis=1)).mean() > 0.7

    # The retrieval index holds the float32 features of every store glyph, unit norm.
    index = np.load(folder / INDEX)
    assert np.array_equal(index["glyph_id"], table.glyph_id)
    np.testing.assert_allclose(index["features"][rows], float32.features, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(index["features"], axis=1), 1.0, atol=1e-4)
    measured = manifest.measured
    assert measured["retrieval"]["queries"] == len(table.rows_of("test")) and 0 <= measured["retrieval"]["same_label_share"] <= 1
    assert set(measured["latency"]) == {"keras", "float32", "int8"}
    assert all(v["single_ms_median"] > 0 for v in measured["latency"].values())


def test_a_bundle_is_refused_where_it_does_not_belong(pipeline_run, tmp_path):
    from glyph_core.bundle import MANIFEST, BundleError, read_manifest, store_mismatches
    from glyph_core.recognizer import Recognizer

    root, *_ = pipeline_run
    layout, source, _ = _home(root)
    folder = Path(shutil.copytree(layout.export("end_to_end"), tmp_path / "bundle"))
    manifest = read_manifest(folder)
    attrs = dict(source.group.attrs) | {"build_id": "another-build", "cell_size": 16}
    problems = store_mismatches(manifest, attrs, "0" * 64)
    assert [p.split(":")[0] for p in problems] == ["build_id", "cell_size", "centroid_hash"]
    with pytest.raises(BundleError, match="no bundle"):
        Recognizer(tmp_path / "nowhere")
    recognizer = Recognizer(folder)
    with pytest.raises(ValueError, match=r"\(n, 128, 128\)"):
        recognizer.grids(np.zeros((2, 64, 64), np.uint8))
    data = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps(data | {"schema_version": 99}))
    with pytest.raises(BundleError, match="schema version 99"):
        read_manifest(folder)
    (folder / MANIFEST).write_text(json.dumps({k: v for k, v in data.items() if k != "precisions"} | {"precisions": {"int8": data["precisions"]["int8"]}}))
    with pytest.raises(BundleError, match="no float32 models"):
        Recognizer(folder, "float32")


def test_predict_scores_the_home_store_like_the_manifest_and_counts_unknown_labels(pipeline_run, other_store, tmp_path):
    from glyph_core.bundle import read_manifest
    from glyph_core.export_config import PredictConfig
    from glyph_train.bundle.predict import run_predict

    root, *_ = pipeline_run
    layout, source, table = _home(root)
    bundle = layout.export("end_to_end")
    home = run_predict(PredictConfig(outputs={"root": str(tmp_path)}, bundle=str(bundle), source_root=str(root), splits=["test"]))
    lines = [json.loads(line) for line in (home.folder / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == len(table.rows_of("test")) == home.glyphs == home.scored
    assert {line["glyph_id"] for line in lines} == set(table.glyph_id[table.rows_of("test")].tolist())
    assert all(len(line["top"]) == 5 and line["top"][0]["probability"] >= line["top"][1]["probability"] for line in lines)
    score = read_manifest(bundle).precisions["float32"].accuracy["test"]
    assert home.top1_strict == pytest.approx(score.top1_strict) and home.top1_alt == pytest.approx(score.top1_alt)

    other = run_predict(PredictConfig(outputs={"root": str(tmp_path)}, bundle=str(bundle), source_root=str(other_store), name="other"))
    summary = json.loads((other.folder / "summary.json").read_text())
    lines = [json.loads(line) for line in (other.folder / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == summary["glyphs"] == other.glyphs > other.scored == summary["known"] > 0
    assert sum(not line["known_label"] for line in lines) == other.glyphs - other.scored
    assert sum(f["glyphs"] for f in summary["fonts"]) == other.glyphs
    markdown = (other.folder / "summary.md").read_text()
    assert re.search(r"^\| font +\|", markdown, re.M)
    assert all(f["font"] in markdown for f in summary["fonts"])
