"""The pipeline's profile override and stage keys (pure parts of `glyph-train pipeline`)."""

from __future__ import annotations

from glyph_core.classifier_config import BaselineConfig, EvaluateConfig, Phase2Config
from glyph_core.cell_config import Phase1Config
from glyph_train.pipeline import stage_key, with_profile


def test_profile_override_reaches_every_training_stage_but_long_leaves_phase1_alone():
    assert with_profile(Phase2Config(), "phase2", "long").profile == "long"
    assert with_profile(BaselineConfig(), "baseline", "full").profile == "full"
    assert with_profile(Phase1Config(), "phase1", "full").profile == "full"
    assert with_profile(Phase1Config(), "phase1", "long").profile == "quick"
    assert with_profile(Phase2Config(), "phase2", None).profile == "quick"
    assert with_profile(EvaluateConfig(), "evaluate", "long") == EvaluateConfig()


def test_stage_keys_change_with_config_build_and_upstream():
    base = stage_key("phase2", "c1", "b1", {"phase1": "k1"})
    assert base == stage_key("phase2", "c1", "b1", {"phase1": "k1"})
    assert len({base, stage_key("phase2", "c2", "b1", {"phase1": "k1"}), stage_key("phase2", "c1", "b2", {"phase1": "k1"}),
                stage_key("phase2", "c1", "b1", {"phase1": "k2"}), stage_key("baseline", "c1", "b1", {"phase1": "k1"})}) == 5
