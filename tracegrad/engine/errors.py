"""The exceptions tracegrad raises: each names the operation and the offending value.

Where Python has an exception of its own for the failure, the error is also that type:
division by zero is a :class:`DomainError` *and* a :class:`ZeroDivisionError`, a result too
large for a float is also an :class:`OverflowError`, so code written for floats catches them.
"""

from __future__ import annotations

from typing import Optional, Type


class TracegradError(Exception):
    """Base class of every error tracegrad raises on purpose."""


class DomainError(TracegradError, ValueError):
    """An op was given inputs outside its domain (``log: input must be > 0, got -2.0``)."""


class DerivativeError(DomainError):
    """A local derivative is undefined where backward needs it (``sqrt`` at 0)."""


class DivisionByZeroError(DomainError, ZeroDivisionError):
    """Division by zero (or 0 to a negative power): also Python's ``ZeroDivisionError``."""


class DomainOverflowError(DomainError, OverflowError):
    """A result too large for a float (``exp(1000)``): also Python's ``OverflowError``."""


class DerivativeDivisionByZeroError(DerivativeError, ZeroDivisionError):
    """A local derivative divides by zero (``sqrt`` at 0): also Python's ``ZeroDivisionError``."""


class DerivativeOverflowError(DerivativeError, OverflowError):
    """A local derivative too large for a float: also Python's ``OverflowError``."""


_TYPED = {
    (DomainError, ZeroDivisionError): DivisionByZeroError,
    (DomainError, OverflowError): DomainOverflowError,
    (DerivativeError, ZeroDivisionError): DerivativeDivisionByZeroError,
    (DerivativeError, OverflowError): DerivativeOverflowError,
}


def error_class(base: Type[DomainError], cause: Optional[BaseException]) -> Type[DomainError]:
    """``base``, or its subclass that is also the Python type of ``cause`` where there is one."""
    if cause is not None:
        for python in (ZeroDivisionError, OverflowError):
            if isinstance(cause, python):
                return _TYPED[(base, python)]
    return base
