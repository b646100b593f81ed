"""tracegrad: a scalar reverse-mode autograd engine you can see into.

>>> from tracegrad import Value, tanh
>>> x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
>>> o = tanh(x * w + b)
>>> o.backward()
>>> round(x.grad, 4), round(w.grad, 4)
(-1.5, 1.0)

This module only re-exports. The rooms (see docs/ARCHITECTURE.md): ``engine`` (the op table,
the node, the chain rule; standard library only), ``nn`` (models, losses, optimizers, data,
training), ``check`` (gradient checking; ``testing`` is the public face of its strategies),
``viz`` (pictures and the step-through page; graphviz is imported only when drawing) and
``compile`` (the fast path), with ``cli`` on top.
"""

import sys as _sys

from . import check, engine, nn, testing, viz
from .check import (
    AnomalyError,
    ComplexStepError,
    GradcheckError,
    detect_anomaly,
    gradcheck,
    gradcheck_model,
    gradcheck_report,
    gradgradcheck,
)
from .compile import Compiled, compile
from .engine import (
    OPS,
    VARIADIC,
    CustomOp,
    DerivativeError,
    Domain,
    DomainError,
    Mode,
    Op,
    Step,
    TracegradError,
    Value,
    apply,
    as_value,
    backward_steps,
    cos,
    define_op,
    exp,
    grad,
    is_grad_enabled,
    leaky_relu,
    linear,
    log,
    neuron,
    no_grad,
    register_op,
    relu,
    sigmoid,
    sign,
    sin,
    sqrt,
    step,
    tanh,
    topological_order,
    value_sum,
)
from .nn import MLP, SGD, Adam, History, Layer, LoadError, Module, Neuron, Optimizer, data, fit, losses, optim
from .viz import GraphTooLarge, RendererNotFound, Trace, draw, explain, trace

__version__ = "0.1.0"

# The module paths of tracegrad 0.1.0, before the rooms: `from tracegrad.losses import hinge`
# and `import tracegrad.ops` keep working, and name the same modules as `tracegrad.nn.losses`
# and `tracegrad.engine.ops`.
for _old, _new in {
    "ops": "engine.ops", "errors": "engine.errors", "expr": "engine.expr", "functions": "engine.functions",
    "losses": "nn.losses", "optim": "nn.optim", "data": "nn.data", "train": "nn.train",
    "gradcheck": "check.gradcheck", "anomaly": "check.anomaly",
}.items():
    _sys.modules[f"{__name__}.{_old}"] = _sys.modules[f"{__name__}.{_new}"]
    globals().setdefault(_old, _sys.modules[f"{__name__}.{_new}"])  # `tracegrad.gradcheck` stays the function
del _old, _new

__all__ = [
    # the rooms
    "engine", "nn", "check", "viz",
    # engine
    "Value", "grad", "no_grad", "is_grad_enabled", "backward_steps", "topological_order", "apply",
    "as_value", "Step", "Mode", "value_sum", "linear", "neuron",
    "Op", "OPS", "Domain", "VARIADIC", "register_op", "define_op", "CustomOp",
    "TracegradError", "DomainError", "DerivativeError",
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "sin", "cos", "step", "sign",
    # neural nets
    "losses", "optim", "data", "Module", "Neuron", "Layer", "MLP", "LoadError",
    "Optimizer", "SGD", "Adam", "fit", "History",
    # checking gradients
    "gradcheck", "gradgradcheck", "gradcheck_report", "gradcheck_model", "GradcheckError", "ComplexStepError",
    "detect_anomaly", "AnomalyError",
    "testing",
    # speed
    "compile", "Compiled",
    # pictures
    "draw", "trace", "explain", "Trace", "GraphTooLarge", "RendererNotFound",
    "__version__",
]
