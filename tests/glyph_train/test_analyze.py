"""`glyph-train analyze` on the shared pipeline run: the report's sections, images and counts, and the
cell maps of both Phase 2 backbones."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from glyph_core.analysis_config import AnalyzeConfig
from glyph_core.classifier_config import GridModelConfig, MarginConfig
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs

# One xdist worker holds every test of the shared pipeline run (`make test` runs two): it trains once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline_run")]


@pytest.fixture(scope="module")
def analyzed(pipeline_run, tmp_path_factory):
    from glyph_train.analysis.run import run_analyze

    root = Path(shutil.copytree(pipeline_run[0], tmp_path_factory.mktemp("analyze") / "outputs"))
    config = AnalyzeConfig(
        outputs={"root": str(root)}, look_samples=4, families=3, family_examples=4, attribution_examples=3,
        counter_labels=["meem_isol", "heh_init", "no_such_label"], bootstrap_resamples=100,
    )  # fmt: skip
    summary = run_analyze(config)
    folder = OutputLayout.at(root).analysis / "report"
    return root, summary, folder, json.loads((folder / "analysis.json").read_text())


def test_the_report_has_every_section_and_every_image_it_links(analyzed):
    _, summary, folder, result = analyzed
    page = (folder / "index.html").read_text()
    for anchor in ("designs", "looks", "families", "attribution", "qa"):
        assert f'<section id="{anchor}">' in page
    linked = re.findall(r'<img src="([^"]+)"', page)
    assert linked and set(linked) <= set(result["images"])
    for name in linked:
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "looks_right.png" in linked and "looks_wrong.png" in linked and "per_design.png" in linked
    assert "Grad-CAM" in page  # the CPU profiles' CNN backbone
    assert summary.report_path == str(folder / "index.html")


def test_the_counts_add_up_to_the_errors_and_match_the_evaluation(analyzed):
    root, summary, _, result = analyzed
    n, errors = result["glyphs"], result["errors"]
    assert summary.errors == errors and 0 < errors <= n
    assert errors == round(n * (1 - result["top1_alt"]))
    attribution = result["attribution"]
    assert attribution["phase1_noise"] + attribution["composition"] == errors
    per_class = attribution["per_char_class"]
    assert sum(c["errors"] for c in per_class) == errors
    assert all(c["errors"] == c["phase1_noise"] + c["composition"] for c in per_class)
    assert sum(f["size"] for f in result["families"]) == errors and len(result["families"]) <= 3
    assert sum(d["glyphs"] for d in result["per_design"]) == n
    # The end-to-end way of `glyph-train evaluate` reads the same Phase 1 answers: the same errors.
    evaluation = json.loads((OutputLayout.at(root).analysis / "evaluate" / "evaluation.json").read_text())
    test = evaluation["ways"]["end_to_end"]["splits"]["test"]
    assert test["count"] == n and round(test["count"] * (1 - test["top1_alt"])) == errors
    assert result["looks"]["right"]["glyphs"] <= 4 and result["looks"]["wrong"]["glyphs"] == min(4, errors)


def test_store_checks_and_the_run_record(analyzed):
    root, _, _, result = analyzed
    checks = result["qa"]
    assert checks["splits"]["ok"] and checks["splits"]["fonts"] > 0
    assert checks["counter_labels_missing"] == ["no_such_label"]
    counters = checks["counters"]
    assert set(counters) == {"meem_isol", "heh_init"} and all(0 <= c["with_a_hole"] <= c["glyphs"] for c in counters.values())
    assert counters["heh_init"]["with_a_hole"] == counters["heh_init"]["glyphs"] > 0  # every font's initial heh keeps its counter
    sizes = checks["sizes"]
    assert sizes["marks"]["targets"] == [64] and sizes["glyphs"]["targets"] == [128]
    assert sizes["glyphs"]["share_ok"] > 0.95
    assert checks["primitives"]["vocabulary"] == 127 and checks["primitives"]["train_cells"] > 0
    record = [r for r in read_runs(OutputLayout.at(root)) if r["command"] == "glyph-train analyze"][-1]
    assert Path(record["outputs"]["report"]).is_file() and record["inputs"]["centroid_hash"] == result["inputs"]["centroid_hash"]


@pytest.mark.parametrize("backbone", ["cnn", "transformer"])
def test_cell_maps_cover_the_grid_for_both_backbones(backbone):
    from glyph_train.analysis.looks import cell_maps
    from glyph_train.data.glyphs import SIDE_FEATURES
    from glyph_train.phase2.classifier import build_grid_classifier

    model = GridModelConfig.model_validate({
        "backbone": backbone, "embed_dim": 16, "embedding_init": "random",
        "cnn": {"stage_blocks": [1, 1], "width": 8}, "transformer": {"layers": 2, "d_model": 32, "heads": 2, "mlp_dim": 32, "patch": 2},
    })  # fmt: skip
    classifier = build_grid_classifier(model, MarginConfig(), 20, 8, 5, aux=False)
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 20, (3, 8, 8)).astype(np.int32)
    maps, method = cell_maps(classifier, grids, rng.random((3, len(SIDE_FEATURES))).astype(np.float32), np.array([0, 1, 4]))
    assert maps.shape == (3, 8, 8) and method == ("Grad-CAM" if backbone == "cnn" else "attention rollout")
    peaks = maps.reshape(3, -1).max(axis=1)
    assert maps.min() >= 0 and peaks.max() == pytest.approx(1.0)  # scaled per glyph (all 0 without positive evidence)
    assert np.all(np.isclose(peaks, 1.0) | (peaks == 0))
    if backbone == "transformer":  # one weight per 2x2 patch, spread over its cells
        assert np.array_equal(maps[:, ::2, ::2].repeat(2, axis=1).repeat(2, axis=2), maps)
