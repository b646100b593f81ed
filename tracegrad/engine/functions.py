"""The ops as functions of a Value or a number, for writing ``tanh(x * w + b)``."""

from __future__ import annotations

from .apply import as_value
from .value import Value, ValueLike


def exp(x: ValueLike) -> Value:
    """e ** x."""
    return as_value(x).exp()


def log(x: ValueLike) -> Value:
    """Natural logarithm; x must be > 0."""
    return as_value(x).log()


def sqrt(x: ValueLike) -> Value:
    """Square root; x must be >= 0."""
    return as_value(x).sqrt()


def tanh(x: ValueLike) -> Value:
    """Hyperbolic tangent."""
    return as_value(x).tanh()


def sigmoid(x: ValueLike) -> Value:
    """Logistic sigmoid 1 / (1 + e**-x)."""
    return as_value(x).sigmoid()


def relu(x: ValueLike) -> Value:
    """max(0, x), with relu'(0) = 0."""
    return as_value(x).relu()


def leaky_relu(x: ValueLike, slope: float = 0.01) -> Value:
    """x if x > 0 else slope * x."""
    return as_value(x).leaky_relu(slope)


def sin(x: ValueLike) -> Value:
    """Sine."""
    return as_value(x).sin()


def cos(x: ValueLike) -> Value:
    """Cosine."""
    return as_value(x).cos()


def step(x: ValueLike) -> Value:
    """Heaviside step: 1.0 if x > 0 else 0.0, derivative 0."""
    return as_value(x).step()


def sign(x: ValueLike) -> Value:
    """-1.0, 0.0 or 1.0, derivative 0."""
    return as_value(x).sign()
