"""The notebooks run headless, top to bottom, on a real kernel (nbclient), writing only where they say."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("phase1.ipynb", "phase2.ipynb")

pytestmark = pytest.mark.slow


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for name in NAMES:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{name}: strip outputs before committing"


def execute(name: str) -> object:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def test_both_notebooks_run_and_save_their_run_manifests(tmp_path, monkeypatch):
    target = tmp_path / "notebooks"
    monkeypatch.setenv("NOTEBOOK_OUTPUTS", str(target))  # the kernel inherits the environment
    existed = (ROOT / "outputs" / "notebooks").exists()
    first = execute("phase1.ipynb")
    phase1 = json.loads((target / "phase1" / "run_manifest.json").read_text())
    assert phase1["seed"] == 42 and phase1["primitive_count"] == 127 and len(phase1["centroid_hash"]) == 64
    assert phase1["margin_schedule"] is None and set(phase1["split_manifest"]["design_groups"]) == {"train", "val", "test"}
    outputs = [o for cell in first.cells if cell.cell_type == "code" for o in cell.outputs]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for o in outputs)  # the plots rendered
    second = execute("phase2.ipynb")
    phase2 = json.loads((target / "phase2" / "run_manifest.json").read_text())
    assert phase2["centroid_hash"] == phase1["centroid_hash"]  # phase2.ipynb continued the same run
    schedule = phase2["margin_schedule"]
    assert schedule["kind"] == "cosface" and schedule["per_epoch"][0] == 0.0 and schedule["per_epoch"][-1] == pytest.approx(0.1)
    text = "".join(o.get("text", "") for cell in second.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "phase1       skipped" in text  # the stages phase1.ipynb ran were not run again
    assert {p.name for p in target.iterdir()} == {"quick_flow", "phase1", "phase2"}
    assert (ROOT / "outputs" / "notebooks").exists() == existed  # nothing written under the repository's outputs
    assert os.environ["NOTEBOOK_OUTPUTS"] == str(target)
