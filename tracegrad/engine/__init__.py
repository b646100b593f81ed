"""The engine: the op table, the graph node (:class:`Value`), and the chain rule.

Standard library only. Its modules stand on each other in one direction:
``errors``, ``expr`` → ``generic`` → ``ops`` (the op table) → ``compat``, ``modes``, ``number`` → ``value``
(the node) → ``apply``, ``functions`` → ``custom``, ``autodiff`` (the chain rule). Nothing here knows of
models, pictures or checks.

>>> from tracegrad.engine import Value
>>> x = Value(3.0)
>>> (x * x).backward()
>>> x.grad
6.0
"""

from .apply import apply, as_value, linear, neuron, value_sum
from .autodiff import Step, backward, backward_steps, grad, topological_order
from .custom import CustomOp, define_op
from .errors import DerivativeError, DivisionByZeroError, DomainError, DomainOverflowError, TracegradError
from .functions import cos, exp, leaky_relu, log, relu, sigmoid, sign, sin, sqrt, step, tanh
from .modes import Mode, current_mode, is_grad_enabled, mode_context, no_grad
from .ops import OPS, VARIADIC, Domain, Op, register_op
from .value import Value, ValueLike

__all__ = [
    "OPS", "VARIADIC", "CustomOp", "DerivativeError", "DivisionByZeroError", "Domain", "DomainError",
    "DomainOverflowError", "Mode", "Op", "Step",
    "TracegradError", "Value", "ValueLike", "apply", "as_value", "backward", "backward_steps",
    "cos", "current_mode", "define_op", "exp", "grad", "is_grad_enabled", "leaky_relu", "linear", "log",
    "mode_context", "neuron", "no_grad", "register_op", "relu", "sigmoid", "sign", "sin", "sqrt", "step", "tanh",
    "topological_order", "value_sum",
]
