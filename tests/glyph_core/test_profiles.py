"""Profiles as overlays: `training` holds every default once, a profile names only what it changes."""

import pytest

from glyph_core.classifier_config import BaselineConfig, Phase2Config
from glyph_core.config import ConfigError, load_config, overlay
from glyph_core.cell_config import Phase1Config


def test_overlay_merges_nested_mappings_and_replaces_the_rest():
    base = {"a": 1, "model": {"x": 1, "inner": {"y": 2, "z": 3}}, "list": [1, 2]}
    assert overlay(base, {"model": {"inner": {"z": 9}}, "list": [5]}) == {
        "a": 1, "model": {"x": 1, "inner": {"y": 2, "z": 9}}, "list": [5],
    }  # fmt: skip
    assert base["model"]["inner"]["z"] == 3  # the base is not modified


def test_a_profile_changes_only_what_it_names():
    config = Phase2Config(profile="long")
    assert config.active.epochs == 12 and config.active.model.backbone == "cnn" and config.active.model.cnn.width == 48
    assert config.active.model.transformer.d_model == 128  # the small Transformer, for backbone: transformer
    assert config.active.model.transformer.dropout == config.training.model.transformer.dropout
    assert config.active.epoch_glyphs is None  # not named by `long`: the base value
    full = Phase2Config(profile="full").active
    assert full.margin.kind == "arcface" and full.joint.enabled and full.model.transformer.d_model == 256
    assert full.model.backbone == "transformer"
    baseline = BaselineConfig()
    assert BaselineConfig(profile="long").active.epoch_glyphs == baseline.training.epoch_glyphs  # not named by `long`
    assert BaselineConfig(profile="quick").active.batch_size == 64 != baseline.training.batch_size  # named by `quick`
    assert BaselineConfig(profile="full").active == baseline.training  # `full` names nothing


def test_cpu_profiles_share_the_budget_and_drop_dropout_alike():
    for profile in ("quick", "long"):
        phase2, baseline = Phase2Config(profile=profile).active, BaselineConfig(profile=profile).active
        for key in ("epochs", "epoch_glyphs", "batch_size", "learning_rate", "early_stopping_patience"):
            assert getattr(phase2, key) == getattr(baseline, key), (profile, key)
    quick, quick_model = Phase2Config(profile="quick").active.model, BaselineConfig(profile="quick").active_model
    assert quick.head_dropout == quick.cnn.dropout == quick_model.dropout == quick_model.cnn.dropout == 0.0
    assert not quick.side_input and not Phase2Config(profile="long").active.model.side_input
    # long and full set no dropout of their own: the model's values stay.
    for profile in ("long", "full"):
        config = BaselineConfig(profile=profile)
        assert config.active_model == config.model and config.model.dropout == 0.2
    assert Phase2Config(profile="long").active.model.cnn.dropout == 0.1


def test_unknown_profile_keys_and_values_are_errors_that_name_them(tmp_path):
    path = tmp_path / "phase2.yaml"
    path.write_text("profiles:\n  quick:\n    epochs: 2\n    model: {transformer: {layerz: 3}}\n")
    with pytest.raises(ConfigError, match=r"profiles\.quick: model\.transformer\.layerz: unknown key"):
        load_config(path, Phase2Config)
    path.write_text("profiles:\n  quick: {epochs: 0}\n")
    with pytest.raises(ConfigError, match=r"profiles\.quick: epochs"):
        load_config(path, Phase2Config)
    path.write_text("profile: full\nprofiles:\n  quick: {}\n")
    with pytest.raises(ConfigError, match="profile 'full' is not one of the profiles"):
        load_config(path, Phase2Config)


def test_environment_overrides_reach_a_profile_and_the_base(tmp_path, monkeypatch):
    path = tmp_path / "phase1.yaml"
    path.write_text("profile: quick\n")
    monkeypatch.setenv("PHASE1_PROFILES__QUICK__EPOCHS", "3")
    monkeypatch.setenv("PHASE1_TRAINING__BATCH_SIZE", "256")
    config = load_config(path, Phase1Config, env_prefix=Phase1Config.env_prefix)
    assert config.active.epochs == 3 and config.active.batch_size == 256
    assert config.active.epoch_cells == 400_000  # the rest of the quick profile is kept
