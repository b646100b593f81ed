"""tracegrad: a scalar reverse-mode autograd engine you can see into.

>>> from tracegrad import Value, tanh
>>> x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
>>> n = tanh(x * w + b)
>>> n.backward()
"""

from .engine import (
    Mode,
    Step,
    Value,
    apply,
    as_value,
    backward_steps,
    grad,
    is_grad_enabled,
    linear,
    no_grad,
    topological_order,
    value_sum,
)
from .errors import DerivativeError, DomainError, TracegradError
from .functions import cos, exp, leaky_relu, log, relu, sigmoid, sign, sin, sqrt, step, tanh
from .ops import OPS, VARIADIC, Domain, Op, register_op

__version__ = "0.1.0"

__all__ = [
    "linear",
    "value_sum",
    "OPS",
    "VARIADIC",
    "DerivativeError",
    "Domain",
    "DomainError",
    "Mode",
    "Op",
    "Step",
    "TracegradError",
    "Value",
    "__version__",
    "apply",
    "as_value",
    "backward_steps",
    "cos",
    "exp",
    "grad",
    "is_grad_enabled",
    "leaky_relu",
    "log",
    "no_grad",
    "register_op",
    "relu",
    "sigmoid",
    "sign",
    "sin",
    "sqrt",
    "step",
    "tanh",
    "topological_order",
]
