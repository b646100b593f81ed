"""Errors keep Python's own types where Python has one, so code written for floats catches them."""

from __future__ import annotations

import pytest

from tracegrad import DerivativeError, DomainError, Value, compile, grad
from tracegrad.engine.errors import (
    DerivativeDivisionByZeroError,
    DerivativeOverflowError,
    DivisionByZeroError,
    DomainOverflowError,
)


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
