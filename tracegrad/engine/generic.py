"""Math that takes floats, complex numbers and Values alike, so one formula serves all three.

Floats and ints go to :mod:`math`, complex numbers to :mod:`cmath` (the complex step of gradient
checking), and anything else (a :class:`~tracegrad.engine.value.Value`, under
``create_graph=True``) to its own method of the same name. The op table writes every forward rule
and every local partial with these, which is how the derivative of a derivative needs no new rules.
"""

from __future__ import annotations

import cmath
import math
import numbers
from typing import Any, Callable, Dict

Number = Any  # float, complex or Value: the op functions are generic over all three


def _dispatch(
    name: str, real: Callable[[float], float], cplx: Callable[[complex], complex]
) -> Callable[[Number], Number]:
    def apply(x: Number) -> Number:
        if isinstance(x, (float, int)):
            return real(x)
        if isinstance(x, complex):
            return cplx(x)
        return getattr(x, name)()

    apply.__name__ = name
    apply.__doc__ = f"{name}(x) for floats, complex numbers and Values alike."
    return apply


exp = _dispatch("exp", math.exp, cmath.exp)
log = _dispatch("log", math.log, cmath.log)
sqrt = _dispatch("sqrt", math.sqrt, cmath.sqrt)
sin = _dispatch("sin", math.sin, cmath.sin)
cos = _dispatch("cos", math.cos, cmath.cos)
tanh = _dispatch("tanh", math.tanh, cmath.tanh)


def real_part(x: Number) -> float:
    """The real number behind ``x`` (a Value's data, a complex number's real part)."""
    if isinstance(x, (float, int)):
        return float(x)
    if isinstance(x, complex):
        return x.real
    return float(x.data)


# The piecewise functions below compare the real part with 0. NaN is neither above nor below
# 0, so each returns NaN for it: a NaN goes through them as through IEEE arithmetic, never
# turned into a 0 or 1 that hides it.


def step(x: Number) -> Number:
    """Heaviside step, 1.0 if x > 0 else 0.0 (NaN for NaN); a Value gives a ``step`` node."""
    if isinstance(x, (float, int, complex)):
        r = real_part(x)
        return 1.0 if r > 0 else (0.0 if r <= 0 else math.nan)
    return x.step()


def sign(x: Number) -> Number:
    """-1.0, 0.0 or 1.0 (NaN for NaN); a Value gives a ``sign`` node (derivative 0)."""
    if isinstance(x, (float, int, complex)):
        r = real_part(x)
        return 1.0 if r > 0 else (-1.0 if r < 0 else (0.0 if r == 0 else math.nan))
    return x.sign()


def where_positive(x: Number, a: float, b: float) -> Number:
    """``a if x > 0 else b`` (NaN for NaN); for a Value, the same as a differentiable expression."""
    if isinstance(x, (float, int, complex)):
        r = real_part(x)
        return a if r > 0 else (b if r <= 0 else math.nan)
    return x.step() * (a - b) + b


FORMULA_FUNCTIONS: Dict[str, Callable[[Number], Number]] = {
    "exp": exp,
    "log": log,
    "sqrt": sqrt,
    "sin": sin,
    "cos": cos,
    "tanh": tanh,
    "step": step,
    "sign": sign,
    "abs": abs,
}
"""The functions a formula text may call."""


def to_float(data: Any, what: str = "Value: data") -> float:
    """``data`` as a plain Python float, or a TypeError naming it (a Value's data, every
    gradient and every op parameter is one, whatever number type it came in as)."""
    if isinstance(data, numbers.Real) or (
        hasattr(data, "__float__") and not isinstance(data, (str, bytes, numbers.Complex))
    ):
        try:
            return float(data)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"{what} must be a real number, got {type(data).__name__} {_clip(repr(data))}")


def to_param(n: Any, what: str = "parameter") -> Any:
    """An op's numeric parameter as a plain ``int`` (for integers, so ``x ** 2`` stays exact and
    reads ``**2``) or ``float`` (numpy scalars, ``Fraction``, ...)."""
    if n.__class__ is int or n.__class__ is float:
        return n
    if isinstance(n, numbers.Integral):
        return int(n)
    return to_float(n, what)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
