"""Fixtures of the `rasterd serve` tests: one small build with a grids store, and real servers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from glyph_core.config import RasterizerConfig
from glyph_core.paths import OutputLayout

from serve_fixtures import ServerProcess, rasterizer_config, start_server, write_configs


@dataclass(frozen=True)
class ServedBuild:
    rasterizer: RasterizerConfig
    layout: OutputLayout
    config: Path  # rasterd.yaml
    centroids: np.ndarray


@pytest.fixture(scope="session")
def served_build(small_glyphs_db, tmp_path_factory) -> ServedBuild:
    """The small DB built (labels seen in fewer than 3 designs stay out of the store) and tokenized
    with 40 random centroids."""
    from rasterd.build import run_build
    from rasterd.tokenize import run_tokenize

    root = tmp_path_factory.mktemp("served")
    config = rasterizer_config(small_glyphs_db, root / "outputs")
    run_build(config)
    layout = OutputLayout.at(config.outputs.root)
    layout.primitives.mkdir(parents=True, exist_ok=True)
    centroids = np.random.default_rng(7).random((40, 64)).astype(np.float32)
    np.save(layout.centroids, centroids)
    run_tokenize(config)
    return ServedBuild(config, layout, write_configs(root / "configs", config), centroids)


@pytest.fixture(scope="session")
def database_only(small_glyphs_db, tmp_path_factory) -> Path:
    """rasterd.yaml over the same database with an empty outputs root: no store, no centroids."""
    root = tmp_path_factory.mktemp("database_only")
    return write_configs(root / "configs", rasterizer_config(small_glyphs_db, root / "outputs"))


@pytest.fixture(scope="session")
def server(served_build, tmp_path_factory) -> Iterator[ServerProcess]:
    """`rasterd serve` over the built store, the database, centroids and the grids store."""
    running = start_server(served_build.config, tmp_path_factory.mktemp("logs") / "server.log")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def bare_server(database_only, tmp_path_factory) -> Iterator[ServerProcess]:
    """`rasterd serve` with only the database: every glyph rasterized on request, no grids."""
    running = start_server(database_only, tmp_path_factory.mktemp("logs") / "bare_server.log")
    yield running
    running.stop()
