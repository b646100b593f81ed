"""The hooks people expect: the pytest plugin (fixtures, --tracegrad-profile) and the hypothesis
entry point (st.from_type(Value), type-annotated @given), through the installed entry points."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import List

from hypothesis import given, settings
from hypothesis import strategies as st

from tracegrad import Value
from tracegrad.testing import Expression

import learner_engines as engines

TESTS = Path(__file__).resolve().parent


def _pytest(folder: Path, *args: str, hide_hypothesis: bool = False) -> subprocess.CompletedProcess:
    """pytest in a fresh process on ``folder`` (installed plugins load as for any user)."""
    boot = "import sys, pytest\n"
    if hide_hypothesis:  # as if the test extra were not installed: importing hypothesis fails
        boot += ("class Hide:\n"
                 "    def find_spec(self, name, path=None, target=None):\n"
                 "        if name.split('.')[0] == 'hypothesis':\n"
                 "            raise ModuleNotFoundError(name)\n"
                 "sys.meta_path.insert(0, Hide())\n")
    boot += f"sys.exit(pytest.main({list(args)!r} + ['-p', 'no:cacheprovider', {str(folder)!r}]))"
    return subprocess.run([sys.executable, "-c", boot], capture_output=True, text=True, cwd=folder,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TESTS)}, timeout=300)


def _write(folder: Path, name: str, code: str) -> None:
    (folder / name).write_text(textwrap.dedent(code), encoding="utf-8")


def test_the_entry_points_are_installed() -> None:
    groups = {group: {ep.name: ep.value for ep in metadata.entry_points(group=group)}
              for group in ("pytest11", "hypothesis")}
    assert groups["pytest11"]["tracegrad"] == "tracegrad.check.plugin [test]"
    assert groups["hypothesis"]["tracegrad"] == "tracegrad.check.hypothesis_hook:register_strategies [test]"


def test_the_fixtures_pass_right_gradients_and_fail_with_the_table(tmp_path: Path) -> None:
    _write(tmp_path, "test_grads.py", """
        from tracegrad.engine import define_op
        from tracegrad.engine.generic import cos, sin
        from tracegrad.nn import MLP
        from tracegrad.nn.losses import mse

        WRONG_SIN = define_op("wrong_sin", sin, [lambda x, out: -cos(x)], ["-cos(x)"], register=False)

        def test_right(assert_grads_close, assert_model_grads_close):
            assert_grads_close(lambda x, y: (x * y).tanh(), [0.5, -1.5])
            assert_grads_close(lambda x: x.relu(), [0.0])  # at the kink: no false alarm
            assert_model_grads_close(MLP(2, [3, 1], rng=0), mse, ([[0.5, 1.0]], [0.2]))

        def test_wrong(assert_grads_close):
            assert_grads_close(lambda x: WRONG_SIN(x), [1.0])

        def test_engine(assert_engine):
            import learner_engines
            assert_engine(learner_engines.Good, ["+", "*"], max_examples=20)
            assert_engine(learner_engines.Equals, ["+"], max_examples=20)
    """)
    done = _pytest(tmp_path, "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed, 1 passed" in done.stdout
    assert "gradcheck: 1 of 1 partial derivatives disagree at x0=1.0" in done.stdout
    assert "out0    x0     -0.5403023059  0.5403023059" in done.stdout
    assert "likely cause: '=' instead of '+='" in done.stdout
    assert "Traceback" not in done.stdout  # the table, not a traceback into tracegrad


PROFILE_TEST = """
    from hypothesis import settings

    def test_profile():
        print("max_examples", settings.default.max_examples)
"""


def test_the_profile_option_loads_tracegrads_profiles(tmp_path: Path) -> None:
    _write(tmp_path, "test_profile.py", PROFILE_TEST)
    done = _pytest(tmp_path, "-s", "--tracegrad-profile=ci")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tracegrad: hypothesis profile 'tracegrad-ci' (--tracegrad-profile)" in done.stdout
    assert "max_examples 150" in done.stdout


def test_the_profile_option_prefers_the_projects_own_profile(tmp_path: Path) -> None:
    _write(tmp_path, "conftest.py", """
        from hypothesis import settings
        settings.register_profile("ci", max_examples=7)
        settings.register_profile("dev", max_examples=3)
        settings.load_profile("dev")
    """)
    _write(tmp_path, "test_profile.py", PROFILE_TEST)
    chosen = _pytest(tmp_path, "-s", "--tracegrad-profile=ci")
    assert "hypothesis profile 'ci'" in chosen.stdout and "max_examples 7" in chosen.stdout, chosen.stdout
    untouched = _pytest(tmp_path, "-q", "-s")
    assert "max_examples 3" in untouched.stdout  # without the option the project's choice stands
    clash = _pytest(tmp_path, "-q", "--tracegrad-profile=ci", "--hypothesis-profile=dev")
    assert clash.returncode != 0 and "ask for two profiles: give one" in clash.stderr


def test_without_hypothesis_the_plugin_stays_out_of_the_way(tmp_path: Path) -> None:
    _write(tmp_path, "test_plain.py", """
        import pytest

        def test_plain(request):
            with pytest.raises(ImportError):
                import hypothesis  # hidden
            assert request.config.pluginmanager.has_plugin("tracegrad")

        def test_fixture(assert_grads_close):
            pass
    """)
    # plain asserts: pytest's rewriting import hook would find hypothesis past the hiding
    hidden = ("-q", "--assert=plain", "-p", "no:hypothesispytest")
    done = _pytest(tmp_path, *hidden, hide_hypothesis=True)
    assert "1 passed, 1 error" in done.stdout, done.stdout + done.stderr
    assert "fixture 'assert_grads_close' not found" in done.stdout
    refused = _pytest(tmp_path, *hidden, "--tracegrad-profile=ci", hide_hypothesis=True)
    assert refused.returncode != 0 and "unrecognized arguments: --tracegrad-profile" in refused.stderr


def test_the_fixture_works_in_this_suite(assert_grads_close) -> None:  # type: ignore[no-untyped-def]
    assert_grads_close(lambda x: abs(x) * 3.0, [0.0], method="complex")


# --- the hypothesis entry point


def test_from_type_draws_values_and_expressions() -> None:
    leaves: List[Value] = []

    @settings(max_examples=20)
    @given(st.from_type(Value), st.from_type(Expression))
    def draw(x: Value, e: Expression) -> None:
        leaves.append(x)
        assert isinstance(e(*e.leaves()), Value)

    draw()
    assert all(isinstance(x, Value) and x.op is None and -5.0 <= x.data <= 5.0 for x in leaves)


@settings(max_examples=20)
@given(...)
def test_a_type_annotated_given_draws_values(x: Value, y: Value) -> None:
    assert isinstance(x, Value) and isinstance(y, Value)
    (x * y).backward()
    assert x.grad == y.data


def test_the_hook_runs_when_hypothesis_is_imported_first() -> None:
    code = ("import hypothesis.strategies as st; from tracegrad import Value; "
            "print(type(st.from_type(Value).example()).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "Value"
    assert engines.Good(1.0).data == 1.0  # the test engines import without the plugin
