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
from tracegrad.engine import topological_order
from tracegrad.engine.expr import ExpressionError

import needs

NEURON = ["tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432"]


def run(*args: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def needs_renderer() -> None:
    needs.any_renderer()


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
        ("x @ x", "the operator @ (matrix product) is not allowed"),
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


# --- the edges found by hostile testing


def test_a_large_graph_is_refused_with_its_size_and_how_to_go_on() -> None:
    text = "*".join(["x"] * 600)  # 600 values (x and 599 products): the limit is draw's, 500
    code, out, err = run("trace", text, "x=1.0001")
    assert code == 2 and out == ""
    assert "the graph has 600 values, more than --max-nodes 500" in err and "pass --max-nodes 600" in err
    code, out, err = run("trace", text, "x=1.0001", "--max-nodes", "600", "--text")
    assert code == 0 and "∂L/∂x = " in out
    code, _, err = run("trace", "x", "x=1", "--max-nodes", "0")
    assert code == 2 and "--max-nodes: must be at least 1" in err


def test_an_expression_starting_with_a_minus_goes_after_double_dash() -> None:
    code, out, err = run("trace", "--text", "--", "-x*2", "x=3")
    assert (code, err) == (0, "") and "∂L/∂x = -2" in out
    code, out, _ = run("trace", "--", "-x*2", "x=3")
    assert code == 0 and "∂L/∂x = -2" in out
    code, _, err = run("trace", "-x*2", "x=3")
    assert code == 2 and 'goes after --: trace -- "-x*2" x=1' in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x^2", "x=1"], "the operator ^ (for a power write **, as in x**2) is not allowed"),
        (["x**(1/0)", "x=1"], "the exponent 1/0 cannot be computed: float division by zero"),
        (["tanh(x, x)", "x=1"], "tanh takes 1 argument, got 2: tanh(x, x)"),
        (["exp()", "x=1"], "exp takes 1 argument, got 0"),
        (["1e999 * x", "x=1"], "the number 1e999 is too large for a float"),
        (["x", "x=1e999"], "x: '1e999' is not a finite number"),
        (["x", "x=inf"], "x: 'inf' is not a finite number"),
        (["x", "x=1", "x=2"], "x is given twice (x=1 and x=2): give it once"),
        (["x", "x=1", "-o", ""], "-o: the name is empty"),
        (["x", "x=1", "--frames", " "], "--frames: the folder name is empty"),
        ([], "no EXPRESSION given"),
    ],
)
def test_mistakes_are_named_for_what_they_are(args: List[str], message: str) -> None:
    code, out, err = run("trace", *args)
    assert code == 2 and out == "" and message in err


def test_an_unknown_command_says_which_there_are() -> None:
    code, _, err = run("draw", "x")
    assert code == 2 and "unknown command 'draw'; the command is trace" in err and "-o page.html" in err


def test_errors_never_echo_a_long_expression_in_full() -> None:
    text = "x+" * 4999 + "+"  # 9,999 characters, and a syntax error at the end
    code, _, err = run("trace", text, "x=1")
    assert code == 2 and "cannot parse" in err and len(err) < 300 and "(9999 characters)" in err
    code, _, err = run("trace", "x*" * 3000 + "y", "x=1", "z=2")
    assert code == 2 and len(err) < 400


def test_a_flat_product_of_thousands_of_factors_is_computed_not_called_nested() -> None:
    root = build("*".join(["x"] * 2000), {"x": 1.0001})
    assert root.data == pytest.approx(1.0001 ** 2000, rel=1e-12)
    root.backward()
    (x,) = [v for v in topological_order(root) if v.op is None]
    assert x.grad == pytest.approx(2000 * 1.0001 ** 1999, rel=1e-12)
    code, _, err = run("trace", "*".join(["x"] * 4500), "x=1")  # past what Python's parser reads
    assert code == 2 and "too deep for Python's parser" in err and "nested too deeply" not in err
