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


def test_phase2_reads_the_baseline_only_when_distilling_and_the_pipeline_refuses_it_first(tmp_path):
    import pytest
    import yaml

    from glyph_train.pipeline import check_order
    from glyph_train.stages import STAGES, PipelineConfig

    distilling = Phase2Config.model_validate({"loss": {"distill": {"weight": 0.5}}})
    assert STAGES["phase2"].upstream_for(Phase2Config()) == ("phase1",)
    assert STAGES["phase2"].upstream_for(distilling) == ("phase1", "baseline")
    # The default order trains the baseline first, so a distilling Phase 2 finds its teacher.
    default = PipelineConfig().stages
    assert default.index("baseline") < default.index("phase2")
    path = tmp_path / "phase2.yaml"
    path.write_text(yaml.safe_dump(distilling.model_dump(mode="json")), encoding="utf-8")
    check_order(PipelineConfig(stages=["baseline", "phase2"], configs={"phase2": str(path), "baseline": "configs/baseline.yaml"}))
    check_order(PipelineConfig(stages=["phase2"], configs={"phase2": str(path)}))  # a teacher trained before is fine
    with pytest.raises(ValueError, match="phase2 .* reads baseline, which `stages` lists after it: list baseline first"):
        check_order(PipelineConfig(stages=["phase2", "baseline"], configs={"phase2": str(path), "baseline": "configs/baseline.yaml"}))
