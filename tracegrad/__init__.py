"""tracegrad: a scalar reverse-mode autograd engine you can see into.

>>> from tracegrad import Value, tanh
>>> x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
>>> o = tanh(x * w + b)
>>> o.backward()
>>> round(x.grad, 4), round(w.grad, 4)
(-1.5, 1.0)

This module only re-exports: the engine (``engine``, ``ops``), neural nets (``nn``,
``losses``, ``optim``, ``data``, ``train``), gradient checking (``gradcheck``, ``anomaly``,
``testing``, which imports hypothesis only when a strategy is built), the fast path
(``compile``) and pictures (``viz``, which imports graphviz only when drawing).
"""

__version__ = "0.1.0"

from . import data, losses, nn, optim, testing
from .anomaly import AnomalyError, detect_anomaly
from .compile import Compiled, compile
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
from .gradcheck import ComplexStepError, GradcheckError, gradcheck, gradgradcheck
from .nn import MLP, Layer, LoadError, Module, Neuron
from .ops import OPS, VARIADIC, Domain, Op, define_op, register_op
from .optim import SGD, Adam, Optimizer
from .train import History, fit
from .viz import GraphTooLarge, RendererNotFound, Trace, draw, explain, trace

__all__ = [
    # engine
    "Value", "grad", "no_grad", "is_grad_enabled", "backward_steps", "topological_order", "apply",
    "as_value", "Step", "Mode", "value_sum", "linear",
    "Op", "OPS", "Domain", "VARIADIC", "register_op", "define_op",
    "TracegradError", "DomainError", "DerivativeError",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "sin", "cos", "step", "sign",
    # neural nets
    "nn", "losses", "optim", "data", "Module", "Neuron", "Layer", "MLP", "LoadError",
    "Optimizer", "SGD", "Adam", "fit", "History",
    # checking gradients
    "gradcheck", "gradgradcheck", "GradcheckError", "ComplexStepError", "detect_anomaly", "AnomalyError",
    "testing",
    # speed
    "compile", "Compiled",
    # pictures
    "draw", "trace", "explain", "Trace", "GraphTooLarge", "RendererNotFound",
    "__version__",
]
