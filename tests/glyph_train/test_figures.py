"""Training curves: which Keras log keys go on which panel, and the PNG written from a history."""

from glyph_train.figures import curve_groups, plot_training_curves


def test_curve_groups_pair_training_and_validation_keys():
    keys = ["epoch", "loss", "val_loss", "logits_accuracy", "val_logits_accuracy", "val_logits_top5", "logits_top5",
            "diacritic_loss", "learning_rate"]  # fmt: skip
    assert curve_groups(keys) == {
        "loss": ["diacritic_loss", "loss"],
        "accuracy": ["logits_accuracy", "logits_top5"],
    }


def test_training_curves_are_written_for_a_history_and_skipped_without_one(tmp_path):
    history = [
        {"epoch": 1, "loss": 5.0, "val_loss": 4.5, "accuracy": 0.1, "val_accuracy": 0.12},
        {"epoch": 2, "loss": 3.0, "val_loss": 3.5, "accuracy": 0.4, "val_accuracy": 0.3},
    ]
    path = plot_training_curves(tmp_path / "logs" / "curves.png", history, "baseline")
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot_training_curves(tmp_path / "none.png", [], "empty") is None and not (tmp_path / "none.png").exists()
