"""Shared test set-up: hypothesis profiles, and no skipped tests in CI.

``HYPOTHESIS_PROFILE`` picks the profile: ``dev`` (the default on a user's machine), ``ci``
(derandomised, the default when ``CI=true``) or ``thorough`` (many more examples, minutes to
hours). In CI every test must run: a skip there fails the session, because it means a
dependency CI should have installed is missing.
"""

from __future__ import annotations

import os
from typing import List

import pytest
from hypothesis import HealthCheck, settings

import needs

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=50_000,  # the two random-graph tests of test_properties.py: 100,000 graphs
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))

_skipped: List[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    if IN_CI and _skipped:
        terminalreporter.write_line(
            f"CI=true: {len(_skipped)} test(s) skipped, which CI does not allow (install what they need):",
            red=True,
        )
        for nodeid in _skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.needs("torch")``: skip at set-up when it is missing, so that a property test
    skips before hypothesis runs it (a skip inside an explicit example reads as a failing one)."""
    for mark in item.iter_markers("needs"):
        for name in mark.args:
            getattr(needs, name)()


@pytest.fixture(params=needs.RENDERERS)
def renderer(request: pytest.FixtureRequest) -> object:
    """Each Graphviz renderer in turn: tests that render run against every one present."""
    return needs.renderer(request.param)
