"""tracegrad's pytest plugin: gradient-check fixtures and ``--tracegrad-profile``.

pytest loads it through the ``pytest11`` entry point whenever tracegrad is installed. It is
active only with the ``test`` extra (``pip install 'tracegrad[test]'``, which brings hypothesis):
without hypothesis it defines nothing, so it never breaks a pytest run.

Fixtures (each a function that fails the test with tracegrad's table, not a traceback):

* ``assert_grads_close(f, inputs, **options)`` — :func:`~tracegrad.check.gradcheck.gradcheck`;
* ``assert_model_grads_close(model, loss_fn, batch, **options)`` —
  :func:`~tracegrad.check.model.gradcheck_model`;
* ``assert_engine(cls, ops=None, allow=(), **options)`` —
  :func:`~tracegrad.check.engine_check.check_engine`, for grading a learner's engine.

``--tracegrad-profile NAME`` loads the hypothesis profile ``NAME`` (``dev``, ``ci`` or
``thorough``): the project's own if its conftest registered one of that name, else tracegrad's
(:data:`PROFILES`). Without the option, the profile the project chose stays loaded.
"""

from __future__ import annotations

import contextlib
import importlib.util
from typing import Any, Callable, Dict

import pytest


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


HAVE_HYPOTHESIS = _installed("hypothesis")
"""Whether the test extra is there; hypothesis is not imported until pytest configures."""

PROFILES: Dict[str, Dict[str, Any]] = {
    "dev": {"max_examples": 60, "deadline": None},
    "ci": {"max_examples": 150, "deadline": None, "derandomize": True, "print_blob": True},
    "thorough": {"max_examples": 5000, "deadline": None},
}
"""tracegrad's hypothesis profiles, registered as ``tracegrad-dev``, ``tracegrad-ci`` and
``tracegrad-thorough`` and loaded by ``--tracegrad-profile`` where the project has none of its own."""


def _profile_in_use(config: pytest.Config) -> str:
    return str(config.stash.get(_CHOSEN, ""))


_CHOSEN = pytest.StashKey[str]()
_BEFORE = pytest.StashKey[Dict[str, Any]]()


def _profiles() -> Dict[str, Any]:
    """The hypothesis profiles registered now under the names ``--tracegrad-profile`` takes."""
    from hypothesis import settings

    found = {}
    for name in PROFILES:
        with contextlib.suppress(Exception):  # hypothesis.errors.InvalidArgument: none of that name
            found[name] = settings.get_profile(name)
    return found


def _assert_grads_close(f: Callable[..., Any], inputs: Any, **options: Any) -> None:
    __tracebackhide__ = True
    from .gradcheck import gradcheck_report

    report = gradcheck_report(f, inputs, **options)
    if not report.ok:
        pytest.fail(str(report), pytrace=False)


def _assert_model_grads_close(model: Any, loss_fn: Callable[..., Any], batch: Any, **options: Any) -> None:
    __tracebackhide__ = True
    from .model import gradcheck_model_report

    report = gradcheck_model_report(model, loss_fn, batch, **options)
    if not report.ok:
        pytest.fail(str(report), pytrace=False)


def _assert_engine(cls: Any, ops: Any = None, allow: Any = (), **options: Any) -> Any:
    __tracebackhide__ = True
    from .engine_check import check_engine

    report = check_engine(cls, ops, say=None, **options)
    if report.failing(allow):
        pytest.fail(str(report), pytrace=False)
    return report


if HAVE_HYPOTHESIS:

    def pytest_addoption(parser: pytest.Parser) -> None:
        group = parser.getgroup("tracegrad", "tracegrad gradient checks")
        group.addoption(
            "--tracegrad-profile", choices=sorted(PROFILES), default=None,
            help="load this hypothesis profile: the project's own of that name, else tracegrad's",
        )

    @pytest.hookimpl(tryfirst=True)  # before pytest loads the project's conftest
    def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
        """Note the profiles there are before the project's conftest runs (hypothesis has a
        built-in ``ci``), to tell them from the project's own."""
        early_config.stash[_BEFORE] = _profiles()

    @pytest.hookimpl(trylast=True)  # after the project's conftest and hypothesis's own plugin
    def pytest_configure(config: pytest.Config) -> None:
        from hypothesis import settings

        for name, options in PROFILES.items():
            settings.register_profile(f"tracegrad-{name}", **options)
        name = config.getoption("tracegrad_profile")
        if not name:
            return
        theirs = config.getoption("hypothesis_profile", None)
        if theirs and theirs != name:
            raise pytest.UsageError(
                f"--tracegrad-profile={name} and --hypothesis-profile={theirs} ask for two profiles: give one")
        before = config.stash.get(_BEFORE, {})
        own = _profiles().get(name)
        chosen = name if own is not None and own is not before.get(name) else f"tracegrad-{name}"
        settings.load_profile(chosen)
        config.stash[_CHOSEN] = chosen

    def pytest_report_header(config: pytest.Config) -> str:
        chosen = _profile_in_use(config)
        if chosen:
            return f"tracegrad: hypothesis profile {chosen!r} (--tracegrad-profile)"
        return "tracegrad: fixtures assert_grads_close, assert_model_grads_close, assert_engine"

    @pytest.fixture
    def assert_grads_close() -> Callable[..., None]:
        """``assert_grads_close(f, inputs, **gradcheck_options)``: fail with the table if any
        partial derivative of ``f`` disagrees with a numerical one."""
        return _assert_grads_close

    @pytest.fixture
    def assert_model_grads_close() -> Callable[..., None]:
        """``assert_model_grads_close(model, loss_fn, batch, **options)``: fail with the table of
        disagreeing parameter gradients, by name, worst first."""
        return _assert_model_grads_close

    @pytest.fixture
    def assert_engine() -> Callable[..., Any]:
        """``assert_engine(cls, ops=None, allow=(), **options)``: fail with check_engine's report
        on any finding but notes and the checks in ``allow``."""
        return _assert_engine
