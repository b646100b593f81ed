"""The op table: every op once, as data.

Each :class:`Op` holds its forward function, one local partial derivative per input (returned
together by ``grads``), the same partials as formula text, and the domain tests sample from.
The engine, ``grad``/``create_graph``, gradient checking, the pictures and the strategies all
read this table, so an op is defined in exactly one place.

Conventions for a fixed-arity op with inputs ``x`` (and ``y``) and output ``out``:

* ``forward(x[, y][, p])`` computes the output. It receives floats in the eager engine and
  complex numbers in complex-step gradient checking, so it is written for both.
* ``grads(x[, y][, p], out)`` returns a tuple with ``∂out/∂x`` (and ``∂out/∂y``). It receives
  floats in ``backward()`` and :class:`~tracegrad.engine.Value` objects under
  ``create_graph=True``, so it is written with the helpers of :mod:`tracegrad.engine.generic`:
  the derivative of a derivative needs no new rules.
* ``formulas`` are the same partials as Python expression text over the names ``x``, ``y``,
  ``out``, the op's parameter name and the functions in :data:`FORMULA_FUNCTIONS`; a test
  evaluates them against ``grads``.
* ``p`` is a numeric parameter that is not a graph input (the exponent of ``x ** 3``, the slope
  of ``leaky_relu``); ops without one take no ``p``.

Derivatives at kinks follow PyTorch: ``relu'(0) = 0``, ``abs'(0) = 0``, ``step'(x) = 0``,
``leaky_relu'(0) = slope``. NaN and infinite inputs go through as IEEE arithmetic (and ``math``) would: ``relu(nan)`` is
nan, ``exp(inf)`` is inf; checks refuse finite inputs only (``log(-2)``, ``exp(1000)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import reduce
from operator import add, mul
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from .errors import DomainError, error_class
from .generic import Number, cos, exp, log, real_part, sign, sin, sqrt, step, tanh, where_positive

VARIADIC = -1
"""Arity of an op that takes any number of inputs (its ``_a`` slot holds a tuple)."""


@dataclass(frozen=True)
class Domain:
    """Where tests draw an input from: a union of closed intervals that keeps away from the
    points where an op is undefined or has a kink (the derivative jumps there)."""

    intervals: Tuple[Tuple[float, float], ...] = ((-5.0, 5.0),)

    def contains(self, x: float) -> bool:
        return any(lo <= x <= hi for lo, hi in self.intervals)


ANYWHERE = Domain()
AWAY_FROM_ZERO = Domain(((-5.0, -0.01), (0.01, 5.0)))
POSITIVE = Domain(((0.05, 20.0),))


@dataclass(frozen=True, eq=False)
class Op:
    """One operation of the graph: forward, local partials, their formula text, test domain.

    Args:
        name: identifier, also the ``Value`` method name for built-ins (``"tanh"``).
        symbol: short text shown in pictures (``"*"``, ``"tanh"``).
        arity: number of graph inputs, or :data:`VARIADIC`.
        forward: computes the output from the inputs' data (and the parameter).
        grads: returns the tuple of local partials ``∂out/∂input_i``, given the inputs, the
            parameter if any, and the output.
        formulas: each partial as Python expression text (see the module docstring).
        domain: one :class:`Domain` per input, where tests sample it.
        param: name of the numeric parameter (``"n"``, ``"slope"``), or None.
        param_domain: where tests sample the parameter.
        check: called with the same arguments as ``forward`` before it; returns None if the
            inputs are valid, else an error text naming what is wrong (``"input must be > 0"``),
            or an exception of Python's own type for it (``ZeroDivisionError("division by
            zero")``), which the :class:`DomainError` raised then also is. A NaN input is
            valid wherever the forward gives NaN for it, as IEEE arithmetic does.
        doc: one line for the reader, including the derivative's convention at kinks.
        kinks: where the derivative jumps, as ``(at, left, right)``: the input and the one-sided
            derivatives there (numbers, or the parameter's name); gradient checking reads them.
        finite_partials: the partials are finite, and raise nothing, wherever the output is
            finite: then ``backward()`` skips a node with a finite output and an upstream gradient
            of exactly 0, as each step would add 0 (``inf * 0`` still gives NaN where it did). Not
            so for div, pow, vpow, log, sqrt: a partial overflows or divides by 0 where out is finite.
    """

    name: str
    symbol: str
    arity: int
    forward: Callable[..., Any]
    grads: Callable[..., Tuple[Any, ...]]
    formulas: Tuple[str, ...]
    domain: Tuple[Domain, ...] = ()
    param: Optional[str] = None
    param_domain: Optional[Domain] = None
    check: Optional[Callable[..., Union[str, ArithmeticError, None]]] = None
    doc: str = ""
    input_names: Tuple[str, ...] = field(default=())
    kinks: Tuple[Tuple[float, Any, Any], ...] = ()
    finite_partials: bool = False

    def __post_init__(self) -> None:
        if self.arity != VARIADIC:
            if len(self.formulas) != self.arity:
                raise ValueError(
                    f"op {self.name!r}: {self.arity} inputs need {self.arity} formulas, got {len(self.formulas)}"
                )
            if not self.domain:
                object.__setattr__(self, "domain", (ANYWHERE,) * self.arity)
            if not self.input_names:
                names = ("x", "y", "z")[: self.arity] if self.arity <= 3 else tuple(f"x{i}" for i in range(self.arity))
                object.__setattr__(self, "input_names", names)

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def fail(self, args: Sequence[Any], reason: Union[str, BaseException]) -> DomainError:
        """The error for inputs ``args`` outside this op's domain, naming the op and values;
        a reason of Python's own type (``ZeroDivisionError``) makes it that type too."""
        cause = reason if isinstance(reason, BaseException) else None
        return error_class(DomainError, cause)(f"{self.name}: {reason}, got {describe_args(self, args)}")


def describe_args(op: Op, args: Sequence[Any]) -> str:
    """``x=-2.0`` or ``x=1.0, y=0.0`` (and the parameter), for error messages."""
    names = list(op.input_names) if op.arity != VARIADIC else [f"x{i}" for i in range(len(args))]
    if op.param is not None:
        names.append(op.param)
    if len(args) == 1 and op.param is None:
        return repr(_plain(args[0]))
    return ", ".join(f"{n}={_plain(a)!r}" for n, a in zip(names, args))


def _plain(x: Any) -> Any:
    return x.data if hasattr(x, "data") else x


# --- forward functions (floats in the engine, complex numbers in complex-step checking)


def _pow_forward(x: Number, n: Number) -> Number:
    if isinstance(x, complex) or isinstance(n, complex):
        return x**n
    return math.pow(x, n)


def _pow_check(x: float, n: float) -> Union[str, ArithmeticError, None]:
    if x == 0 and n < 0:
        return ZeroDivisionError("0 cannot be raised to a negative power")
    if -math.inf < x < 0 and n.__class__ is not int and math.isfinite(n) and not float(n).is_integer():
        return "a negative base needs an integer exponent"
    return None


def _power_partial(x: Number, n: Number, out: Number) -> Number:
    """``n * x**(n - 1)``, as ``n * out / x`` for n < 0: x**(n - 1) overflows for tiny x where the partial may not."""
    if real_part(n) >= 0:
        return n * x ** (n - 1)
    partial = n * out / x
    if math.isinf(real_part(partial)) and math.isfinite(real_part(out)):
        raise OverflowError("the derivative overflows a float")  # as x ** (n - 1) does for n >= 0
    return partial


def _vpow_check(x: float, y: float) -> Optional[str]:
    return "base must be > 0 when the exponent is a Value (∂/∂exponent is out * log(base))" if x <= 0 else None


def _exp_check(x: float) -> Optional[OverflowError]:
    too_large = 709.782712893384 < x < math.inf
    return OverflowError("input too large, exp overflows a float (max ~709.78)") if too_large else None


def _sigmoid(x: Number) -> Number:
    # split by sign so exp never overflows; branch on the real part for complex inputs
    if real_part(x) >= 0:
        return 1.0 / (1.0 + exp(-x))
    e = exp(x)
    return e / (1.0 + e)


def _relu(x: Number) -> Number:
    return 0.0 if real_part(x) <= 0 else x  # NaN goes through


def _leaky_relu(x: Number, slope: float) -> Number:
    return x if real_part(x) > 0 else slope * x


def _abs(x: Number) -> Number:
    return -x if real_part(x) < 0 else x


def _div_check(x: float, y: float) -> Optional[ZeroDivisionError]:
    return ZeroDivisionError("division by zero") if y == 0 else None


def _sqrt_check(x: float) -> Optional[str]:
    return "input must be >= 0" if x < 0 else None


def _log_check(x: float) -> Optional[str]:
    return "input must be > 0" if x <= 0 else None


def _overflow_pow(x: float, n: float) -> Optional[OverflowError]:
    try:
        math.pow(x, n)
    except OverflowError:
        return OverflowError("result overflows a float")
    return None


_SLOPE = Domain(((0.0, 0.5),))
_DIVISOR = Domain(((-5.0, -0.5), (0.5, 5.0)))
_EXPONENT = Domain(((-3.0, 3.0),))

BUILTIN_OPS: Tuple[Op, ...] = (
    Op("add", "+", 2, lambda x, y: x + y, lambda x, y, out: (1.0, 1.0), ("1", "1"), doc="x + y", finite_partials=True),
    Op("sub", "-", 2, lambda x, y: x - y, lambda x, y, out: (1.0, -1.0), ("1", "-1"), doc="x - y",
       finite_partials=True),
    Op("mul", "*", 2, lambda x, y: x * y, lambda x, y, out: (y, x), ("y", "x"),
       doc="x * y", finite_partials=True),
    # ∂/∂y = -x/y² as -out/y: finite wherever the true value is (y*y under- or overflows)
    Op("div", "/", 2, lambda x, y: x / y, lambda x, y, out: (1.0 / y, -out / y),
       ("1 / y", "-out / y"), (ANYWHERE, _DIVISOR),
       check=_div_check, doc="x / y; y must not be 0"),
    Op("neg", "-", 1, lambda x: -x, lambda x, out: (-1.0,), ("-1",), doc="-x", finite_partials=True),
    Op("pow", "**", 1, _pow_forward, lambda x, n, out: (0.0,) if n == 0 else (_power_partial(x, n, out),),
       ("n * x**(n - 1)",), (POSITIVE,), param="n", param_domain=_EXPONENT,
       check=lambda x, n: _pow_check(x, n) or _overflow_pow(x, n),
       doc="x ** n for a number n; 0 ** negative and negative ** non-integer are errors"),
    Op("vpow", "**", 2, _pow_forward, lambda x, y, out: (_power_partial(x, y, out), out * log(x)),
       ("y * x**(y - 1)", "out * log(x)"), (POSITIVE, _EXPONENT),
       check=lambda x, y: _vpow_check(x, y) or _overflow_pow(x, y),
       doc="x ** y with a Value exponent; the base must be > 0"),
    Op("exp", "exp", 1, exp, lambda x, out: (out,), ("out",), check=_exp_check, doc="e ** x", finite_partials=True),
    Op("log", "log", 1, log, lambda x, out: (1.0 / x,), ("1 / x",), (POSITIVE,),
       check=_log_check, doc="natural logarithm; x must be > 0"),
    Op("sqrt", "sqrt", 1, sqrt, lambda x, out: (0.5 / out,), ("1 / (2 * out)",), (POSITIVE,),
       check=_sqrt_check, doc="square root; x must be >= 0, the derivative is undefined at 0"),
    Op("tanh", "tanh", 1, tanh, lambda x, out: (1.0 - out * out,), ("1 - out**2",),
       doc="hyperbolic tangent", finite_partials=True),
    Op("sigmoid", "σ", 1, _sigmoid, lambda x, out: (out * (1.0 - out),), ("out * (1 - out)",),
       doc="logistic sigmoid 1 / (1 + e**-x), computed without overflow", finite_partials=True),
    Op("relu", "relu", 1, _relu, lambda x, out: (step(x),), ("step(x)",), (AWAY_FROM_ZERO,),
       doc="max(0, x); relu'(0) = 0; relu(nan) is nan", kinks=((0.0, 0.0, 1.0),), finite_partials=True),
    Op("leaky_relu", "leaky_relu", 1, _leaky_relu,
       lambda x, slope, out: (where_positive(x, 1.0, slope),), ("1 if x > 0 else slope",),
       (AWAY_FROM_ZERO,), param="slope", param_domain=_SLOPE, kinks=((0.0, "slope", 1.0),),
       doc="x if x > 0 else slope * x; the derivative at 0 is slope", finite_partials=True),
    Op("sin", "sin", 1, sin, lambda x, out: (cos(x),), ("cos(x)",), doc="sine", finite_partials=True),
    Op("cos", "cos", 1, cos, lambda x, out: (-sin(x),), ("-sin(x)",), doc="cosine", finite_partials=True),
    Op("abs", "abs", 1, _abs, lambda x, out: (sign(x),), ("sign(x)",), (AWAY_FROM_ZERO,),
       doc="|x|; abs'(0) = 0", kinks=((0.0, -1.0, 1.0),), finite_partials=True),
    Op("step", "step", 1, step, lambda x, out: (0.0,), ("0",), (AWAY_FROM_ZERO,),
       doc="Heaviside step: 1.0 if x > 0 else 0.0; derivative 0 (the perceptron's activation)",
       kinks=((0.0, 0.0, 0.0),), finite_partials=True),
    Op("sign", "sign", 1, sign, lambda x, out: (0.0,), ("0",), (AWAY_FROM_ZERO,),
       doc="-1.0, 0.0 or 1.0; derivative 0", kinks=((0.0, 0.0, 0.0),), finite_partials=True),
)



def _sum_forward(*xs: Number) -> Number:
    return reduce(add, xs)  # left to right as + nodes add (sum() of floats is compensated from 3.12 on)


def _linear_forward(*args: Number) -> Number:
    n = (len(args) - 1) // 2
    return reduce(add, map(mul, args[:n], args[n:-1]), args[-1])  # b + w0*x0 + w1*x1 + ...


def _linear_grads(*args: Number) -> Tuple[Number, ...]:
    n = (len(args) - 2) // 2  # the last argument is out
    return (*args[n : 2 * n], *args[:n], 1.0)  # x_i for w_i, w_i for x_i


FUSED_OPS: Tuple[Op, ...] = (
    Op("sum", "Σ", VARIADIC, _sum_forward, lambda *args: (1.0,) * (len(args) - 1), ("1",),
       doc="x0 + x1 + ... added left to right: one node instead of a chain of +", finite_partials=True),
    Op("linear", "Σw·x+b", VARIADIC, _linear_forward, _linear_grads, ("x_i", "w_i", "1"), finite_partials=True,
       doc="b + w0*x0 + w1*x1 + ... over inputs (w..., x..., b): a neuron's pre-activation as one node"),
    Op("linear_relu", "relu(Σw·x+b)", VARIADIC, lambda *args: _relu(_linear_forward(*args)),
       lambda *args: tuple(p * step(args[-1]) for p in _linear_grads(*args)),  # relu'(pre) = step(out)
       ("x_i * step(out)", "w_i * step(out)", "step(out)"), (POSITIVE,),  # tests: away from the kink
       doc="relu(b + w0*x0 + w1*x1 + ...): a ReLU neuron as one node"),
)
"""Ops with any number of inputs, that stand for a chain of fine-grained ones; the partials of
``linear`` are ``x_i`` for ``w_i``, ``w_i`` for ``x_i`` and 1 for the bias."""

OPS: Dict[str, Op] = {op.name: op for op in BUILTIN_OPS + FUSED_OPS}
"""Every op by name: the built-ins and those added with :func:`register_op`."""


STOP_MAX = Op("stop_max", "max", VARIADIC, lambda *xs: max(map(real_part, xs)), lambda *a: (0.0,) * (len(a) - 1),
              ("0",), doc="the largest input, held constant (every partial is 0): the shift of a stable softmax")
"""Not in :data:`OPS`: its partials are 0 by design, not its forward's derivative (which the
strategies and ``verify_op`` check every op of OPS for). The forward returns a real number even
for complex inputs, so the complex step sees the constant that backward does."""


def register_op(op: Op) -> Op:
    """Add a custom op to the table, so strategies and pictures know it; returns it.

    Raises:
        ValueError: if an op of that name exists already.
    """
    if op.name in OPS:
        raise ValueError(f"register_op: an op named {op.name!r} exists already")
    OPS[op.name] = op
    return op


def pretty(formula: str) -> str:
    """Formula text as a person writes it: ``1 - out**2`` becomes ``1 - out²``."""
    return formula.replace("**2", "²").replace("**3", "³").replace(" * ", "·")
