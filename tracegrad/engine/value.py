"""Value, the graph node, and its operators.

A :class:`Value` holds a float and, when it was computed, the op that made it and its inputs.
Every operator names its op and reads the forward rule from the op table
(:mod:`tracegrad.engine.ops`), so this module holds no calculus: the chain rule is in
:mod:`tracegrad.engine.autodiff`, which ``backward()`` calls.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional, Sequence, Tuple, Union

from .compat import MicrogradNames, made_elsewhere
from .errors import TracegradError
from .generic import to_float, to_param
from .modes import mode_or_none
from .number import NumberLike, checked_data
from .ops import OPS, Op

if TYPE_CHECKING:
    from .autodiff import Step

Number = Union[int, float]
ValueLike = Union["Value", int, float]

_ADD, _SUB, _MUL, _DIV, _NEG = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"], OPS["neg"]
NEURONS = (OPS["linear"], OPS["linear_relu"])  # the ops whose nodes hold (w..., b) and (x...)
_POW, _VPOW = OPS["pow"], OPS["vpow"]


class Value(NumberLike, MicrogradNames):
    """A scalar in the computation graph: its data, its gradient, and how it was computed.

    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.005364

    Attributes:
        data: the float this node holds (assigning anything but a real number raises TypeError).
        grad: ∂root/∂self after ``root.backward()``; 0.0 before.
        op: the :class:`~tracegrad.ops.Op` that computed it, or None for a leaf.
        label: a name to show in pictures and errors.

    It reads as a number (``float(v)``, ``f"{v:.4f}"``, ``round(v, 3)``, ``v > 0``, ``sorted``),
    but only operators and ops are differentiable; ``==`` is identity and ``bool(v)`` always True
    (:mod:`~tracegrad.engine.number`). micrograd's ``Value(data, _children, _op)`` and the
    GPT-style ``Value(data, children, local_grads)`` are accepted too (:mod:`~tracegrad.engine.compat`).
    """

    __slots__ = ("__weakref__", "_a", "_b", "_data", "grad", "label", "op")
    # _a, _b: a unary op's input and its numeric parameter (or None); a binary op's two inputs; a
    # variadic op's tuple of inputs and its parameter; a neuron's (linear's) tuple of weights and bias,
    # and its tuple of inputs, shared with other nodes (see apply.neuron). Slots, not a tuple, so
    # that a node is a single object for the garbage collector to track. _data: the number, read
    # and written by the engine directly; users' ``data`` is the same slot with assignment checked.

    _data: float
    grad: Any
    op: Optional[Op]
    label: str
    _a: Any
    _b: Any

    def __init__(self, data: Any, _children: Iterable[Value] = (), _op: Union[str, Sequence[float]] = "",
                 label: str = "", *, local_grads: Optional[Sequence[float]] = None) -> None:
        self._data = data if data.__class__ is float else checked_data(data)
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__} {label!r}")
        self.label = label
        if _children == () and local_grads is None:
            self.op = self._a = self._b = None
        else:
            self.op, self._a, self._b = made_elsewhere(_children, _op, local_grads, Value)

    # --- structure

    @property
    def inputs(self) -> Tuple[Value, ...]:
        """The op's inputs in order, duplicates kept: ``(x * x).inputs == (x, x)``."""
        op = self.op
        if op is None:
            return ()
        if op.arity == 2:
            return (self._a, self._b)
        if op.arity == 1:
            return (self._a,)
        if op in NEURONS:
            return (*self._a[:-1], *self._b, self._a[-1])
        return tuple(self._a)

    @property
    def param(self) -> Any:
        """The op's numeric parameter (the 3 of ``x ** 3``), or None."""
        op = self.op
        return None if op is None or op.arity == 2 or op in NEURONS else self._b

    def __repr__(self) -> str:
        return f"Value(data={self._data}, grad={self.grad})"

    # --- arithmetic (each line names the op; the rules are in the op table)

    def __add__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return record(_ADD, self._data + other._data, self, other)  # type: ignore[union-attr]

    def __radd__(self, other: Number) -> Value:  # other + self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted + self

    def __sub__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return record(_SUB, self._data - other._data, self, other)  # type: ignore[union-attr]

    def __rsub__(self, other: Number) -> Value:  # other - self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted - self

    def __mul__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return record(_MUL, self._data * other._data, self, other)  # type: ignore[union-attr]

    def __rmul__(self, other: Number) -> Value:  # other * self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted * self

    def __truediv__(self, other: ValueLike) -> Value:
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else _binary(_DIV, self, lifted)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else _binary(_DIV, lifted, self)

    def __neg__(self) -> Value:
        return record(_NEG, -self._data, self, None)

    def __pos__(self) -> Value:
        return self

    def __pow__(self, other: ValueLike) -> Value:
        if isinstance(other, Value):
            return _binary(_VPOW, self, other)
        if other.__class__ is int or other.__class__ is float:
            return _unary(_POW, self, other)
        if isinstance(other, numbers.Real):  # a NumPy scalar, a Fraction, a bool: as int or float
            return _unary(_POW, self, to_param(other, "pow: the exponent"))
        return NotImplemented

    def __rpow__(self, other: Number) -> Value:  # other ** self, e.g. 2 ** x
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else _binary(_VPOW, lifted, self)

    def __abs__(self) -> Value:
        return _unary(_ABS, self)

    # --- functions (each documented in the op table)

    def exp(self) -> Value:
        """e ** self."""
        return _unary(_EXP, self)

    def log(self) -> Value:
        """Natural logarithm; raises DomainError for data <= 0."""
        return _unary(_LOG, self)

    def sqrt(self) -> Value:
        """Square root; raises DomainError for data < 0 (and backward at 0)."""
        return _unary(_SQRT, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(_TANH, self)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1 / (1 + e**-x)."""
        return _unary(_SIGMOID, self)

    def relu(self) -> Value:
        """max(0, x), with relu'(0) = 0."""
        return record(_RELU, 0.0 if self._data <= 0 else self._data, self, None)  # the op's forward, inline; NaN stays

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x; the derivative at 0 is slope."""
        return _unary(_LEAKY_RELU, self, to_float(slope, "leaky_relu: slope"))

    def sin(self) -> Value:
        """Sine."""
        return _unary(_SIN, self)

    def cos(self) -> Value:
        """Cosine."""
        return _unary(_COS, self)

    def abs(self) -> Value:
        """|x|, with abs'(0) = 0."""
        return _unary(_ABS, self)

    def step(self) -> Value:
        """Heaviside step, 1.0 if x > 0 else 0.0, derivative 0: the perceptron's activation."""
        return _unary(_STEP, self)

    def sign(self) -> Value:
        """-1.0, 0.0 or 1.0, derivative 0."""
        return _unary(_SIGN, self)

    # --- gradients

    def backward(self, gradient: float = 1.0) -> None:
        """Fill in ``.grad`` of every node this Value was computed from, by the chain rule.

        Leaves (your inputs and parameters) *accumulate* across calls until zeroed; interior
        nodes hold the latest call's gradient (see :func:`tracegrad.engine.autodiff.backward`).

        Raises:
            DerivativeError: a local derivative is undefined at the point (``sqrt`` at 0); the
                leaves' gradients are then left as they were before the call.
        """
        from .autodiff import backward  # the chain rule stands on the node, not the reverse

        backward(self, gradient)

    def backward_steps(self, gradient: float = 1.0, *, create_graph: bool = False) -> Iterator[Step]:
        """The chain rule one step at a time; see :func:`tracegrad.engine.autodiff.backward_steps`."""
        from .autodiff import backward_steps

        return backward_steps(self, gradient, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on this Value and every node it was computed from."""
        from .autodiff import topological_order

        for node in topological_order(self):
            node.grad = 0.0

    @staticmethod
    def sum(values: Iterable[ValueLike]) -> Value:
        """``v0 + v1 + ...`` as one fused node; see :func:`tracegrad.engine.apply.value_sum`."""
        from .apply import value_sum

        return value_sum(values)

    def detach(self) -> Value:
        """A new leaf with the same data: gradients do not flow through it."""
        return Value(self._data)


def _lift(x: Any) -> Any:
    """A Value for a Value or a real number; NotImplemented for anything else."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        mode = mode_or_none()
        return Value(x) if mode is None or mode.constant is None else mode.constant(x)  # type: ignore[arg-type]
    return NotImplemented


_new = object.__new__


def record(op: Op, data: float, a: Any, b: Any) -> Value:
    """Make the node ``op(a, b) = data`` (recording no inputs inside no_grad)."""
    v = _new(Value)
    v._data = data
    v.grad = 0.0
    v.label = ""
    v.op = op
    v._a = a
    v._b = b
    mode = mode_or_none()
    if mode is not None:  # no_grad, or anomaly mode's hook
        if not mode.record:
            v.op = v._a = v._b = None
        if mode.on_node is not None:
            mode.on_node(v)
    return v


def run_forward(op: Op, args: Sequence[Any]) -> float:
    """Run ``op.forward`` on checked inputs; errors name the op and the values, and keep
    Python's type where it has one (division by zero is also a ``ZeroDivisionError``)."""
    try:
        if op.check is not None and (reason := op.check(*args)):
            raise op.fail(args, reason)
        out = op.forward(*args)
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, TracegradError):
            raise
        raise op.fail(args, exc) from exc
    if out.__class__ is not float:
        try:
            out = float(out)
        except TypeError:
            raise op.fail(args, f"forward returned {type(out).__name__} {out!r}, not a real number") from None
    return out  # type: ignore[no-any-return]


def _unary(op: Op, x: Value, p: Any = None) -> Value:
    return record(op, run_forward(op, (x._data,) if p is None else (x._data, p)), x, p)


def _binary(op: Op, x: Value, y: Value) -> Value:
    return record(op, run_forward(op, (x._data, y._data)), x, y)


_EXP, _LOG, _SQRT, _TANH = OPS["exp"], OPS["log"], OPS["sqrt"], OPS["tanh"]
_SIGMOID, _RELU, _LEAKY_RELU = OPS["sigmoid"], OPS["relu"], OPS["leaky_relu"]
_SIN, _COS, _ABS, _STEP, _SIGN = OPS["sin"], OPS["cos"], OPS["abs"], OPS["step"], OPS["sign"]
