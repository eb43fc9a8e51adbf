"""Config validation, hashing, the shipped YAML files, and the run history."""

from pathlib import Path

import pytest

from glyph_core import ablation_config as abcfg
from glyph_core import analysis_config as acfg
from glyph_core import classifier_config as ccfg
from glyph_core import cell_config as cell_cfg
from glyph_core import config as cfg
from glyph_core import export_config as ecfg
from glyph_core import serve_config as scfg
from glyph_core.paths import OutputLayout
from glyph_core.runs import read_runs, record_run
from glyph_train.stages import PipelineConfig

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
MODELS = {
    "ingest.yaml": cfg.IngestConfig,
    "rasterizer.yaml": cfg.RasterizerConfig,
    "rasterd.yaml": scfg.RasterdConfig,
    "primitives.yaml": cell_cfg.PrimitivesConfig,
    "phase1.yaml": cell_cfg.Phase1Config,
    "phase2.yaml": ccfg.Phase2Config,
    "baseline.yaml": ccfg.BaselineConfig,
    "evaluate.yaml": ccfg.EvaluateConfig,
    "pipeline.yaml": PipelineConfig,
    "export.yaml": ecfg.ExportConfig,
    "predict.yaml": ecfg.PredictConfig,
    "analyze.yaml": acfg.AnalyzeConfig,
    "ablations.yaml": abcfg.AblateConfig,
    "ablations-phase2.yaml": abcfg.AblateConfig,
    "ablations-combined.yaml": abcfg.AblateConfig,
    "ablations-long.yaml": abcfg.AblateConfig,
}


# Configs of a model whose defaults another file writes out: a second ablation table.
OTHER_TABLES = {"ablations-phase2.yaml", "ablations-combined.yaml", "ablations-long.yaml"}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shipped_configs_write_out_every_default(name):
    loaded = cfg.load_config(CONFIGS / name, MODELS[name])
    assert loaded == MODELS[name]() or name in OTHER_TABLES
    # Every key of the model appears in the file (nothing left implicit).
    import yaml

    def keys(d, prefix=""):
        return {prefix + k for k in d} | {kk for k, v in d.items() if isinstance(v, dict) for kk in keys(v, prefix + k + ".")}

    assert keys(yaml.safe_load((CONFIGS / name).read_text())) == keys(MODELS[name]().model_dump())


def test_every_config_file_has_a_model():
    assert {p.name for p in CONFIGS.glob("*.yaml")} == set(MODELS)


def test_unknown_and_mistyped_keys_name_the_key_and_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("raster:\n  canvas_sise: 64\n  supersample: two\n")
    with pytest.raises(cfg.ConfigError) as err:
        cfg.load_config(path, cfg.RasterizerConfig)
    text = str(err.value)
    assert str(path) in text and "raster.canvas_sise: unknown key" in text and "raster.supersample" in text


def test_invalid_values_and_files(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("splits:\n  train: 0.9\n")
    with pytest.raises(cfg.ConfigError, match="must be 1.0"):
        cfg.load_config(path, cfg.RasterizerConfig)
    path.write_text("raster:\n  canvas_size: 100\n")
    with pytest.raises(cfg.ConfigError, match="not a multiple of cell_size"):
        cfg.load_config(path, cfg.RasterizerConfig)
    path.write_text("- a\n- b\n")
    with pytest.raises(cfg.ConfigError, match="expected a mapping"):
        cfg.load_config(path, cfg.RasterizerConfig)
    with pytest.raises(cfg.ConfigError, match="cannot read"):
        cfg.load_config(tmp_path / "missing.yaml", cfg.RasterizerConfig)


def test_config_hash_is_canonical():
    a = cfg.RasterizerConfig()
    b = cfg.RasterizerConfig.model_validate({"dask": {"workers": 2}, "database": "dataset/glyphs.db"})
    assert cfg.config_hash(a) == cfg.config_hash(b)
    c = cfg.RasterizerConfig.model_validate({"raster": {"fill_rule": "evenodd"}})
    assert cfg.config_hash(a) != cfg.config_hash(c)


def test_run_history_appends_records(tmp_path):
    layout = OutputLayout.at(tmp_path / "outputs")
    record_run(layout, "build", {"rasterizer": "abc"}, inputs={"db": "123"})
    record_run(layout, "tokenize", {"rasterizer": "abc"}, centroid_hash="ff")
    runs = read_runs(layout)
    assert [r["command"] for r in runs] == ["build", "tokenize"]
    assert runs[0]["inputs"] == {"db": "123"} and runs[1]["centroid_hash"] == "ff"
    assert "git_commit" in runs[0] and "python" in runs[0]
