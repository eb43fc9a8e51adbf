"""pytest plugin: under ``CI=true`` a test that skips fails instead, with the skip's reason.

Tests skip when a tool they need is missing (a Debian font, Chromium, docker-compose, npm fonts);
on a developer's machine that is a convenience, in CI it would let a run pass without testing.
"""

from __future__ import annotations

import os

import pytest


def skips_fail() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and skips_fail() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipping: {str(reason).removeprefix('Skipped: ')}"
