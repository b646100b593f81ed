"""Errors keep Python's own types where Python has one, so code written for floats catches them."""

from __future__ import annotations

import math

import pytest

from tracegrad import DerivativeError, DomainError, Value, compile, grad
from tracegrad.engine.errors import (
    DerivativeDivisionByZeroError,
    DerivativeOverflowError,
    DivisionByZeroError,
    DomainOverflowError,
)

import needs


@pytest.mark.parametrize(
    ("make", "python", "ours", "message"),
    [
        (lambda: Value(1.0) / 0, ZeroDivisionError, DivisionByZeroError, "div: division by zero, got x=1.0, y=0.0"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, DivisionByZeroError, "div: division by zero"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, DivisionByZeroError, "pow: 0 cannot be raised to a negative"),
        (lambda: Value(1000.0).exp(), OverflowError, DomainOverflowError, "exp: input too large"),
        (lambda: Value(10.0) ** 400, OverflowError, DomainOverflowError, "pow: result overflows a float"),
        (lambda: Value(10.0) ** Value(400.0), OverflowError, DomainOverflowError, "vpow: result overflows a float"),
        (lambda: 2 ** Value(1e5), OverflowError, DomainOverflowError, "vpow: result overflows"),
    ],
)
def test_forward_errors_are_also_pythons_own_type(make, python, ours, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(python, match=message) as caught:
        make()
    assert isinstance(caught.value, DomainError) and type(caught.value) is ours


def test_errors_without_a_python_type_stay_plain_domain_errors() -> None:
    with pytest.raises(DomainError) as caught:
        Value(-1.0).log()
    assert type(caught.value) is DomainError and isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, ArithmeticError)


def test_derivative_errors_keep_the_type_too() -> None:
    x = Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"sqrt: local derivative undefined at 0.0") as caught:
        x.sqrt().backward()
    assert type(caught.value) is DerivativeDivisionByZeroError and isinstance(caught.value, DerivativeError)
    with pytest.raises(ZeroDivisionError):
        grad(x.sqrt(), [x])
    y = Value(1e-200)
    with pytest.raises(OverflowError, match="pow: local derivative undefined") as over:
        (y ** -1.5).backward()  # the result 1e300 is a float; 1.5 * y ** -2.5 is not
    assert type(over.value) is DerivativeOverflowError


def test_compiled_code_raises_the_same_types() -> None:
    x = Value(1.0)
    f = compile(lambda d: x / d)
    assert f(2.0) == 0.5
    with pytest.raises(ZeroDivisionError, match="div: division by zero"):
        f(0.0)
    g = compile(lambda a: (a * x).exp())
    with pytest.raises(OverflowError, match="exp: input too large"):
        g(1000.0)


@pytest.mark.parametrize("vectorise", [False, True])
def test_a_power_whose_derivative_overflows_raises_in_compiled_code_too(vectorise: bool) -> None:
    """x ** -1.5 at 1e-200 is 1e300, a float; its derivative -1.5e500 is not: eager, the loop over a
    batch and the vectorised batch all raise, and at 1e-100 all give the same finite numbers."""
    if vectorise:
        needs.numpy()
    w = Value(1.0)
    f = compile(lambda xs: Value.sum((w * x) ** -1.5 for x in xs), vectorise=vectorise)
    assert f([1e-100, 2.0]) == (1e-100) ** -1.5 + 2.0 ** -1.5
    want = -1.5 * (1e-100) ** -1.5 + -1.5 * 2.0 ** -1.5  # d/dw (w x) ** -1.5 at w = 1
    assert math.isclose(w.grad, want, rel_tol=1e-12)
    with pytest.raises(OverflowError, match="pow: local derivative undefined"):
        f([1e-200, 2.0])
