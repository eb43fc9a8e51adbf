"""Fixtures of the glyph-train tests: a real rasters store built by rasterd from the small font set,
and a primitive vocabulary fitted on it; each test copies them into its own outputs folder."""

from __future__ import annotations

import os

import pytest

from glyph_core.cell_config import PrimitivesConfig
from glyph_core.paths import OutputLayout

from train_helpers import SMALL_CLUSTERS, copy_outputs, rasterizer_config, write_pipeline_configs

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def rasters_root(small_glyphs_db, tmp_path_factory):
    """Outputs root holding a rasters store (and its meta folder) of the small real DB."""
    from rasterd.build import run_build

    root = tmp_path_factory.mktemp("train_rasters") / "outputs"
    run_build(rasterizer_config(small_glyphs_db, root))
    return root


@pytest.fixture(scope="session")
def primitives_root(rasters_root, tmp_path_factory):
    """Outputs root with the rasters store and a small primitive vocabulary fitted on it."""
    from glyph_train.primitives.run import run_primitives

    root = copy_outputs(rasters_root, tmp_path_factory.mktemp("train_primitives") / "outputs")
    run_primitives(PrimitivesConfig(outputs={"root": str(root)}, clusters=SMALL_CLUSTERS))
    return root


@pytest.fixture
def rasters_layout(rasters_root, tmp_path) -> OutputLayout:
    """A private copy of the rasters outputs."""
    return OutputLayout.at(copy_outputs(rasters_root, tmp_path / "outputs"))


@pytest.fixture
def primitives_layout(primitives_root, tmp_path) -> OutputLayout:
    """A private copy of the rasters outputs plus fitted centroids."""
    return OutputLayout.at(copy_outputs(primitives_root, tmp_path / "outputs"))


@pytest.fixture(scope="session")
def pipeline_run(rasters_root, small_glyphs_db, tmp_path_factory):
    """The small store taken through the whole pipeline once: (outputs root, configs folder, pipeline
    config, first summary). Shared by the pipeline, export and serving tests; the serving tests copy it."""
    from glyph_train.pipeline import run_pipeline

    base = tmp_path_factory.mktemp("pipeline")
    root = copy_outputs(rasters_root, base / "outputs")
    config = write_pipeline_configs(base / "configs", root, small_glyphs_db)
    return root, base, config, run_pipeline(config)
