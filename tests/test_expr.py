"""The expression whitelist: what it evaluates, and what it refuses (with the reason)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad import Value
from tracegrad.engine.expr import MAX_LENGTH, ExpressionError, evaluate, free_names
from tracegrad.engine.generic import FORMULA_FUNCTIONS


def test_arithmetic_on_floats_and_values() -> None:
    assert evaluate("1 - out**2", {"out": 0.5}) == 0.75
    assert evaluate("2 * x + -y / 4", {"x": 1.0, "y": 8.0}) == 0.0
    v = evaluate("tanh(x * w + b)", {"x": Value(2.0), "w": Value(-3.0), "b": Value(6.0)}, FORMULA_FUNCTIONS)
    assert isinstance(v, Value) and v.data == math.tanh(0.0)


def test_conditionals_and_comparisons() -> None:
    assert evaluate("1 if x > 0 else slope", {"x": -1.0, "slope": 0.1}) == 0.1
    assert evaluate("1 if x >= 0 else 2", {"x": 0.0}) == 1


def test_numbers_are_floats() -> None:
    assert type(evaluate("7", {})) is float


def test_free_names_skip_function_names() -> None:
    assert free_names("tanh(x*w + b) + exp(x)", FORMULA_FUNCTIONS) == {"x", "w", "b"}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("__import__('os')", "calling anything but"),
        ("open('f')", "calling anything but"),
        ("x.__class__", "attribute access"),
        ("(lambda: 1)()", "lambda"),
        ("x.y()", "attribute access"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehensions"),
        ("x[0]", "subscripts"),
        ("'abc'", "the constant 'abc'"),
        ("True", "the constant True"),
        ("1j", "the constant 1j"),
        ("x and y", "and/or"),
        ("(y := 2)", "assignment expressions"),
        ("exp(x=1)", "keyword arguments"),
        ("x % 2", "the operator % (remainder)"),
        ("x // 2", "the operator // (floor division"),
        ("~x", "the operator ~ (bitwise not)"),
        ("1 < x < 2", "chained comparisons"),
        ("x == 1", "the operator == (compare with <"),
        ("f'{x}'", "f-strings"),
        ("x ^ 2", "the operator ^ (for a power write **, as in x**2)"),
        ("1e999 * x", "the number 1e999 is too large for a float"),
        ("1" + "0" * 400, "is too large for a float"),
        ("x = 1", "cannot parse"),
        ("import os", "cannot parse"),
    ],
)
def test_refuses_what_is_not_arithmetic_naming_it(text: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match="expression: .*" + re.escape(reason)):
        evaluate(text, {"x": 1.0, "y": 2.0}, FORMULA_FUNCTIONS)


@pytest.mark.parametrize("text", ["10 ** 10 ** 10", "2 ** 100000", "9" * 5000 + " ** 9"])
def test_huge_exponents_fail_at_once(text: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(text, {})


def test_overlong_and_deeply_nested_text_is_refused() -> None:
    with pytest.raises(ExpressionError, match="longer than"):
        evaluate("1+" * MAX_LENGTH + "1", {})
    with pytest.raises(ExpressionError):
        evaluate("(" * 1000 + "1" + ")" * 1000, {})


def test_unknown_names_and_domain_errors_are_reported() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'z'"):
        evaluate("z + 1", {"x": 1.0})
    with pytest.raises(ExpressionError, match="log: input must be > 0"):
        evaluate("log(x)", {"x": Value(-1.0)}, FORMULA_FUNCTIONS)
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate("1 / x", {"x": 0.0})


def test_text_must_be_a_string() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        evaluate(3, {})  # type: ignore[arg-type]


@given(st.floats(-100, 100), st.floats(-100, 100))
def test_agrees_with_python_arithmetic(x: float, y: float) -> None:
    assert evaluate("x * y - (x + 3) * 2", {"x": x, "y": y}) == x * y - (x + 3) * 2
