"""The evaluation report on real files: JSON, the comparison table, the markdown report and the PNG figures."""

import json

import numpy as np
import pytest

from glyph_train.evaluate.report import (
    comparison_table,
    human_flops,
    human_params,
    plot_confusions,
    plot_per_class,
    plot_per_design,
    write_json,
    write_markdown,
)
from test_evaluate_metrics import TOPK, metrics

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ["alef", "beh", "teh", "theh", "x4", "x5", "x6"]


@pytest.fixture(scope="module")
def result():
    hand = metrics()
    return {
        "ways": {
            "phase2_true_grids": {"params": 1_234_567, "flops": 35_400_000, "splits": {"test": hand, "val": metrics(topk=np.roll(TOPK, 1, axis=1))}},
            "baseline": {"params": 980, "flops": None, "splits": {"test": metrics(topk=TOPK[:, ::-1])}},
        },
        "external": {"old_fonts": {"ways": {"baseline": {"params": 980, "flops": None, "splits": {"test": hand}}},
                                   "unknown": {"rows": 5, "labels": {"yy": 2, "zz": 2, "xx": 1}}}},
        "labels": LABELS,
    }  # fmt: skip


def cells(table: str, *first: str) -> list[str]:
    """The cells of the first table row that starts with the cells ``first``."""
    for line in table.splitlines():
        row = [c.strip() for c in line.strip().strip("|").split("|")]
        if tuple(row[: len(first)]) == first:
            return row
    raise AssertionError(f"no row {first!r} in\n{table}")


def is_png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 1000


def test_human_units():
    assert human_params(1_234_567) == "1.2M"
    assert human_params(980) == "980"
    assert human_params(None) == human_flops(None) == "n/a"
    assert human_flops(35_400_000) == "35.4 MFLOPs"
    assert human_flops(2_500_000_000) == "2.5 GFLOPs"


def test_comparison_table_row_per_way(result):
    table = comparison_table(result, "test")
    lines = table.splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1  # header, rule, two ways, padded alike
    row = cells(table, "phase2_true_grids")
    low, high = result["ways"]["phase2_true_grids"]["splits"]["test"]["intervals"]["top1_strict"]
    assert row[4] == f"30.00% [{100 * low:.1f}-{100 * high:.1f}]" and low <= 0.3 <= high
    assert row[5].startswith("50.00% [")
    assert row[:4] + row[6:] == [
        "phase2_true_grids", "1.2M", "35.4 MFLOPs", "35.4 MFLOPs", "78.33%", "70.00%", "80.00%", "35.00%",
        "33.33%", "n/a", "n/a", "46.67 ± 13.33%",
    ]  # fmt: skip
    assert cells(table, "baseline")[1:3] == ["980", "n/a"]
    val = comparison_table(result, "val")
    assert "baseline" not in val and "phase2_true_grids" in val


def test_write_json_round_trips(result, tmp_path):
    path = write_json(tmp_path / "eval" / "evaluation.json", result)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    assert [p.name for p in path.parent.iterdir()] == ["evaluation.json"]


def test_write_json_refuses_nan(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "bad.json", {"ways": {}, "x": float("nan")})
    assert not (tmp_path / "bad.json").exists()


def test_markdown_report(result, tmp_path):
    figure = tmp_path / "figures" / "per_class_test.png"
    path = write_markdown(tmp_path / "report.md", result, {"per-class accuracy": figure})
    text = path.read_text()
    comparison = text[text.index("## Comparison") :]
    assert [c.split(" [")[0] for c in cells(comparison, "phase2_true_grids")[4:6]] == ["30.00%", "50.00%"]
    assert "### test" in text and "### val" in text
    assert "![per-class accuracy](figures/per_class_test.png)" in text
    assert cells(text, "letter")[:3] == ["letter", "6", "66.67%"]  # per char class, first way's column
    assert cells(text, "beh") == ["beh", "teh", "2"]  # top confusion by name
    assert cells(text, "alef")[:2] == ["alef", "x5"]
    worst = text[text.index("### Worst 10 fonts") :]
    assert worst.index("| Noto") < worst.index("| Amiri")  # 40% before 60%
    assert cells(text, "phase2_true_grids", "marks")[2:] == ["3", "33.33%", "33.33%", "66.67%"]
    headline = text[text.index("## Headline") : text.index("## Comparison")]
    assert cells(headline, "phase2_true_grids", "test")[2:4] == ["3", "10"]  # naskh, kufi and the unknown design; 10 glyphs
    assert cells(headline, "phase2_true_grids", "val") and cells(headline, "baseline", "test")
    assert "expected strict ceiling" in text and "strict ceiling*: share" not in text
    assert cells(text, "baseline", "ligatures")[2:] == ["0", "n/a", "n/a", "n/a"]
    external = text[text.index("## External sources") :]
    assert "### old_fonts" in external and "5 glyphs have a label the model does not know" in external
    assert cells(external, "yy") == ["yy", "2"]


def test_plots_are_pngs(result, tmp_path):
    assert is_png(plot_per_class(tmp_path / "per_class.png", result, "test"))
    assert is_png(plot_per_design(tmp_path / "per_design.png", result, "test"))
    mask = np.zeros((8, 8), dtype=np.uint8)
    mask[2:6, 3] = 1
    confusions = result["ways"]["phase2_true_grids"]["splits"]["test"]["top_confusions"]
    asked = []

    def example_of(label_id):
        asked.append(label_id)
        return mask if label_id != 5 else None  # no example: an empty box

    assert is_png(plot_confusions(tmp_path / "confusions.png", confusions, LABELS, example_of))
    assert sorted(asked) == sorted(i for c in confusions for i in (c["true"], c["predicted"]))
    assert is_png(plot_confusions(tmp_path / "none.png", [], LABELS, example_of))
