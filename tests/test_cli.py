"""The command line: what it writes, what it refuses, and its exit codes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import List, Tuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.cli import UsageError, build, functions, main
from tracegrad.engine.expr import ExpressionError
from tracegrad.viz.render import available_renderers

NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432"]


def run(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def needs_renderer() -> None:
    if not available_renderers():
        pytest.skip("no Graphviz renderer: install Graphviz, or `pip install tracegrad[viz]` for graphviz-pure")


def test_text_is_the_default() -> None:
    code, out, err = run("trace", *NEURON)
    assert (code, err) == (0, "")
    assert "∂L/∂x = -1.5" in out and "∂L/∂w = 1" in out and "∂L/∂b = 0.5" in out


def test_options_may_come_anywhere() -> None:
    code, out, _ = run("trace", "x*x", "--text", "x=3")
    assert code == 0 and "∂L/∂x = 6" in out


def test_writes_the_page(tmp_path: os.PathLike) -> None:
    needs_renderer()
    target = os.path.join(tmp_path, "trace.html")
    code, out, err = run("trace", *NEURON, "-o", target)
    assert (code, err) == (0, "") and f"wrote {target}" in out
    with open(target, encoding="utf-8") as handle:
        assert handle.read().startswith("<!DOCTYPE html>")


def test_writes_frames(tmp_path: os.PathLike) -> None:
    needs_renderer()
    folder = os.path.join(tmp_path, "frames")
    code, out, _ = run("trace", *NEURON, "--frames", folder, "--format", "png", "--text")
    assert code == 0 and "wrote 12 frames" in out and "forward pass" in out
    assert len(os.listdir(folder)) == 6 + 1 + 5  # forward, seed, backward steps


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("__import__('os')", "__import__('os')"),
        ("x.__class__", "attribute access"),
        ("(lambda: 1)()", "a lambda"),
        ("lambda: 1", "a lambda"),
        ("x[0]", "a subscript"),
        ("[x for x in y]", "a comprehension"),
        ("open('f')", "open('f')"),
        ("'text'", "the constant 'text'"),
        ("x ** 10 ** 10", "the exponent 10 ** 10 is too large"),
        ("9 ** 9 ** 9 ** 9", "the exponent 9 ** 9 ** 9 is too large"),
        ("x ** -1e9", "the exponent -1e9 is too large"),
        ("x if x > 0 else -x", "a conditional"),
        ("x and 1", "and/or"),
        ("x @ x", "MatMult"),
        ("(x := 2)", "an assignment expression"),
        ("x +", "cannot parse"),
    ],
)
def test_refuses_naming_what(expression: str, named: str) -> None:
    code, out, err = run("trace", expression, "x=2")
    assert code == 2 and out == ""
    assert named in err and err.startswith("python -m tracegrad trace: error: expression:")


def test_a_failing_computation_exits_1() -> None:
    code, _, err = run("trace", "log(x)", "x=-1")
    assert code == 1 and "log: input must be > 0, got -1.0" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "x*y", "x=1"], "no value for y: add e.g. y=1.0"),
        (["trace", "x", "x=1", "z=2"], "z: not used in 'x'"),
        (["trace", "x", "x=abc"], "x: 'abc' is not a number"),
        (["trace", "x", "x=nan"], "x: 'nan' is not a finite number"),
        (["trace", "x", "1x=2"], "expected NAME=NUMBER, got '1x=2'"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        ([], "usage: python -m tracegrad trace"),
        (["trace", "x", "x=1", "--format", "gif"], "invalid choice: 'gif'"),
    ],
)
def test_usage_errors_exit_2(args: List[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert message in err + capsys.readouterr().err


def test_help_exits_0() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "trace" in out


def test_functions_are_the_one_input_ops() -> None:
    assert set(functions()) == {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos", "abs", "step", "sign"}
    root = build("sigmoid(x) * relu(y) + abs(-x) ** 2", {"x": 0.5, "y": 2.0})
    assert root.label == "L" and root.data == pytest.approx(1 / (1 + 2.718281828459045 ** -0.5) * 2 + 0.25)


@given(st.text(max_size=40))
@example("__import__('os').system('true')")
@example("().__class__.__bases__[0]")
@example("9**9**9**9")
@example("1e308*10")
def test_any_text_is_computed_or_refused_with_a_reason(text: str) -> None:
    try:
        build(text, {})
    except (ExpressionError, UsageError) as exc:
        assert str(exc)


def test_python_dash_m() -> None:
    done = subprocess.run([sys.executable, "-m", "tracegrad", "trace", "x*x", "x=3"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and "∂L/∂x = 6" in done.stdout
    refused = subprocess.run([sys.executable, "-m", "tracegrad", "trace", "__import__('os')"], capture_output=True,
                             text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "__import__" in refused.stderr
