"""Under CI=true a skipped test fails and names what was missing (tests/no_skip_in_ci.py)."""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_needs_a_tool.py").write_text(
        "import pytest\n\n"
        "def test_needs_a_tool():\n"
        "    pytest.skip('wrk is not installed (Debian package wrk)')\n\n"
        "@pytest.mark.skipif(True, reason='chromium is missing')\n"
        "def test_marked():\n"
        "    pass\n\n"
        "def test_plain():\n"
        "    assert True\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no_skip_in_ci", "-q", "-rA", "-p", "no:cacheprovider", "-c", "/dev/null",
         str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip


def test_skips_fail_under_ci_and_name_the_tool(tmp_path):
    result = run_pytest(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "1 failed, 1 passed, 1 error" in result.stdout  # a skip in setup (a marker, a fixture) reads as an error
    assert "CI=true forbids skipping: wrk is not installed" in result.stdout
    assert "CI=true forbids skipping: chromium is missing" in result.stdout


def test_skips_stay_skips_elsewhere(tmp_path):
    result = run_pytest(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 2 skipped" in result.stdout
