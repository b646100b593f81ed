"""Value, the graph node; the topological order; backward, grad and no_grad.

A :class:`Value` holds a float and, when it was computed, the op that made it and its inputs.
Every op reads its forward rule and its local partials from :mod:`tracegrad.ops`, so this module
holds no calculus of its own: :func:`backward_steps` is the chain rule, written once, and
:meth:`Value.backward` is a fast twin of it that the tests check against it.
"""

from __future__ import annotations

import functools
import numbers
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    cast,
)

from .errors import DerivativeError
from .ops import OPS, VARIADIC, Op, describe_args

Number = Union[int, float]
ValueLike = Union["Value", int, float]
F = TypeVar("F", bound=Callable[..., Any])

_ADD, _SUB, _MUL, _DIV, _NEG = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"], OPS["neg"]
_POW, _VPOW = OPS["pow"], OPS["vpow"]


# --- modes: no_grad and hooks (anomaly mode). None, the default, is the fast path.


@dataclass(frozen=True)
class Mode:
    """What happens when a node is made: whether ops record their inputs, and hooks."""

    record: bool = True
    on_node: Optional[Callable[[Value], None]] = None
    """Called with every new node (anomaly mode uses it to note where it was made)."""
    on_step: Optional[Callable[[Step], None]] = None
    """Called with every chain-rule step of backward (anomaly mode checks the gradients)."""


_DEFAULT_MODE = Mode()
_mode: ContextVar[Optional[Mode]] = ContextVar("tracegrad_mode", default=None)
_mode_get = _mode.get


def current_mode() -> Mode:
    """The mode in force in this thread or task."""
    return _mode_get() or _DEFAULT_MODE


class mode_context:
    """Context manager that sets fields of the current :class:`Mode` (and restores them).

    Context variables keep it per thread and per asyncio task.
    """

    def __init__(self, **changes: Any) -> None:
        self._changes = changes
        self._tokens: List[Any] = []

    def __enter__(self) -> mode_context:
        new = replace(current_mode(), **self._changes)
        self._tokens.append(_mode.set(None if new == _DEFAULT_MODE else new))
        return self

    def __exit__(self, *exc: object) -> None:
        _mode.reset(self._tokens.pop())


class no_grad(mode_context):
    """Inside it, ops compute values but record no inputs: results are leaves.

    A context manager (``with no_grad(): ...``) and a decorator (``@no_grad()`` or
    ``@no_grad``). The setting lives in a context variable, so it holds for the current thread
    or asyncio task only.
    """

    def __new__(cls, func: Optional[Callable[..., Any]] = None) -> Any:
        if func is not None:
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: Optional[Callable[..., Any]] = None) -> None:
        super().__init__(record=False)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return func(*args, **kwargs)

        return cast(F, wrapper)


def is_grad_enabled() -> bool:
    """Whether ops record their inputs here (False inside :class:`no_grad`)."""
    return current_mode().record


# --- the node


def _to_float(data: Any) -> float:
    if isinstance(data, numbers.Real) or (
        hasattr(data, "__float__") and not isinstance(data, (str, bytes, numbers.Complex))
    ):
        try:
            return float(data)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"Value: data must be a real number, got {type(data).__name__} {data!r}")


_OPAQUE: Dict[str, Op] = {}


def _opaque_op(symbol: str) -> Op:
    """An op for nodes built with micrograd's constructor: no rule, so gradients stop there."""
    if symbol not in _OPAQUE:
        _OPAQUE[symbol] = Op(
            symbol or "opaque", symbol, VARIADIC, forward=None,  # type: ignore[arg-type]
            grads=lambda *args: (0.0,) * (len(args) - 1), formulas=(),
            doc="a node made with Value(data, children, op): it has no derivative rule",
        )
    return _OPAQUE[symbol]


class Value:
    """A scalar in the computation graph: its data, its gradient, and how it was computed.

    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh()
    >>> y.backward()
    >>> round(x.grad, 6)
    0.005364

    Attributes:
        data: the float this node holds.
        grad: ∂root/∂self after ``root.backward()``; 0.0 before.
        op: the :class:`~tracegrad.ops.Op` that computed it, or None for a leaf.
        label: a name to show in pictures and errors.

    ``Value(data, _children, _op)``, micrograd's positional form, is accepted too: such a node
    shows its children but has no derivative rule.
    """

    __slots__ = ("__weakref__", "_a", "_b", "data", "grad", "label", "op")
    # _a, _b: a unary op's input and its numeric parameter (or None); a binary op's two inputs;
    # a variadic op's tuple of inputs and its parameter. Slots, not a tuple, so that a node is a
    # single object for the garbage collector to track.

    data: float
    grad: Any
    op: Optional[Op]
    label: str
    _a: Any
    _b: Any

    def __init__(self, data: Any, _children: Iterable[Value] = (), _op: str = "", label: str = "") -> None:
        self.data = data if data.__class__ is float else _to_float(data)
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__} {label!r}")
        self.label = label
        children = tuple(_children)
        if children:
            for c in children:
                if not isinstance(c, Value):
                    raise TypeError(f"Value: children must be Values, got {type(c).__name__} {c!r}")
            self.op, self._a, self._b = _opaque_op(_op), children, None
        else:
            self.op = self._a = self._b = None

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
        return tuple(self._a)

    @property
    def param(self) -> Optional[float]:
        """The op's numeric parameter (the 3 of ``x ** 3``), or None."""
        op = self.op
        return None if op is None or op.arity == 2 else self._b

    @property
    def _prev(self) -> set:  # type: ignore[type-arg]
        """micrograd's name: the set of distinct inputs."""
        return set(self.inputs)

    @property
    def _op(self) -> str:
        """micrograd's name: the op as a short string (``'+'``, ``'**2'``, ``'ReLU'``)."""
        op = self.op
        if op is None:
            return ""
        if op is _POW:
            return f"**{self._b}"
        return "ReLU" if op.name == "relu" else op.symbol

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # --- arithmetic (each line names the op; the rules are in the op table)

    def __add__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return _record(_ADD, self.data + other.data, self, other)  # type: ignore[union-attr]

    def __radd__(self, other: Number) -> Value:  # other + self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted + self

    def __sub__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return _record(_SUB, self.data - other.data, self, other)  # type: ignore[union-attr]

    def __rsub__(self, other: Number) -> Value:  # other - self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted - self

    def __mul__(self, other: ValueLike) -> Value:
        if other.__class__ is not Value:
            other = _lift(other)
            if other is NotImplemented:
                return NotImplemented
        return _record(_MUL, self.data * other.data, self, other)  # type: ignore[union-attr]

    def __rmul__(self, other: Number) -> Value:  # other * self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else lifted * self

    def __truediv__(self, other: ValueLike) -> Value:
        lifted = _lift(other)
        if lifted is NotImplemented:
            return NotImplemented
        return _binary(_DIV, self, lifted)

    def __rtruediv__(self, other: Number) -> Value:  # other / self
        lifted = _lift(other)
        return NotImplemented if lifted is NotImplemented else _binary(_DIV, lifted, self)

    def __neg__(self) -> Value:
        return _record(_NEG, -self.data, self, None)

    def __pos__(self) -> Value:
        return self

    def __pow__(self, other: ValueLike) -> Value:
        if isinstance(other, Value):
            return _binary(_VPOW, self, other)
        if isinstance(other, numbers.Real):
            return _unary(_POW, self, other)
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
        return _unary(_RELU, self)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x; the derivative at 0 is slope."""
        return _unary(_LEAKY_RELU, self, _to_float(slope))

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
        """Fill in ``.grad`` of every node this Value was computed from.

        The root is seeded with ``gradient``. Leaves (Values with no inputs: your inputs and
        parameters) *accumulate* across calls until zeroed; interior nodes hold the gradient of
        the latest call. So a second call doubles every leaf gradient and leaves the interior
        ones as they were. Call :meth:`zero_grad` (or a model's ``zero_grad()``) between steps.

        Raises:
            DerivativeError: a local derivative is undefined at the point (``sqrt`` at 0); the
                leaves' gradients are then left as they were before the call.
        """
        seed = gradient if gradient.__class__ is float else _to_float(gradient)
        mode = _mode_get()
        if mode is not None and mode.on_step is not None:
            _backward_checked(self, seed, mode.on_step)
            return
        order = topological_order(self)
        # every node starts this pass at 0; leaves get their earlier gradient added back at the
        # end, so two calls give exactly twice the leaf gradients
        leaves: List[Value] = []
        saved: List[Any] = []
        for node in order:
            if node.op is None:
                leaves.append(node)
                saved.append(node.grad)
            node.grad = 0.0
        self.grad = seed
        node = self
        try:
            for node in reversed(order):
                op = node.op
                if op is None:
                    continue
                g = node.grad
                a = node._a
                arity = op.arity
                if arity == 2:
                    b = node._b
                    da, db = op.grads(a.data, b.data, node.data)
                    a.grad += da * g
                    b.grad += db * g
                elif arity == 1:
                    p = node._b
                    (da,) = op.grads(a.data, node.data) if p is None else op.grads(a.data, p, node.data)
                    a.grad += da * g
                else:
                    for inp, local in zip(a, op.grads(*_args(node, a), node.data)):
                        inp.grad += local * g
        except (ArithmeticError, ValueError) as exc:
            for leaf, before in zip(leaves, saved):
                leaf.grad = before
            raise _derivative_error(node, exc) from exc
        for leaf, before in zip(leaves, saved):
            leaf.grad = before + leaf.grad

    def backward_steps(self, gradient: float = 1.0, *, create_graph: bool = False) -> Iterator[Step]:
        """The chain rule one step at a time; see :func:`backward_steps`."""
        return backward_steps(self, gradient, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on this Value and every node it was computed from."""
        for node in topological_order(self):
            node.grad = 0.0

    @staticmethod
    def sum(values: Iterable[ValueLike]) -> Value:
        """``v0 + v1 + ...`` as one fused node; see :func:`value_sum`."""
        return value_sum(values)

    def detach(self) -> Value:
        """A new leaf with the same data: gradients do not flow through it."""
        return Value(self.data)


def _lift(x: Any) -> Any:
    """A Value for a Value or a real number; NotImplemented for anything else."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(x)
    return NotImplemented


_new = object.__new__


def _record(op: Op, data: float, a: Any, b: Any) -> Value:
    """Make the node ``op(a, b) = data`` (recording no inputs inside no_grad)."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    mode = _mode_get()
    if mode is None or mode.record:
        v.op = op
        v._a = a
        v._b = b
    else:
        v.op = v._a = v._b = None
    if mode is not None and mode.on_node is not None:
        mode.on_node(v)
    return v


def _forward(op: Op, args: Sequence[Any]) -> float:
    """Run ``op.forward`` on checked inputs; errors name the op and the values."""
    if op.check is not None:
        reason = op.check(*args)
        if reason:
            raise op.fail(args, reason)
    try:
        out = op.forward(*args)
    except (ArithmeticError, ValueError) as exc:
        raise op.fail(args, str(exc)) from exc
    if out.__class__ is not float:
        try:
            out = float(out)
        except TypeError:
            raise op.fail(args, f"forward returned {type(out).__name__} {out!r}, not a real number") from None
    return out  # type: ignore[no-any-return]


def _unary(op: Op, x: Value, p: Any = None) -> Value:
    return _record(op, _forward(op, (x.data,) if p is None else (x.data, p)), x, p)


def _binary(op: Op, x: Value, y: Value) -> Value:
    return _record(op, _forward(op, (x.data, y.data)), x, y)


def apply(op: Op, *inputs: ValueLike, param: Optional[float] = None) -> Value:
    """Apply any op (built-in or custom) to Values or numbers: a new node of the graph.

    Raises:
        TypeError: wrong number of inputs, or a parameter given to an op without one.
        DomainError: the inputs are outside the op's domain.
    """
    values, data = _values_and_data(inputs)
    if op.arity != VARIADIC and len(values) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} input(s), got {len(values)}")
    if (op.param is None) != (param is None):
        need = f"its parameter {op.param!r}" if op.param else "no parameter"
        raise TypeError(f"{op.name}: takes {need}, got param={param!r}")
    out = _forward(op, data + ([param] if param is not None else []))
    if op.arity == 2:
        return _record(op, out, values[0], values[1])
    if op.arity == 1:
        return _record(op, out, values[0], param)
    return _record(op, out, values, param)


def value_sum(values: Iterable[ValueLike]) -> Value:
    """``v0 + v1 + ...`` as one node (the same number as the chain of ``+``, added in order)."""
    items, data = _values_and_data(values)
    if not items:
        return Value(0.0)
    if len(items) == 1:
        return items[0]
    return _record(_SUM, _forward(_SUM, data), items, None)


def linear(ws: Sequence[ValueLike], xs: Sequence[ValueLike], b: ValueLike) -> Value:
    """``b + w0*x0 + w1*x1 + ...`` as one node: a neuron's pre-activation, fused.

    Gives the same number, bit for bit, as the fine-grained graph that adds in that order.
    """
    if len(ws) != len(xs):
        raise ValueError(f"linear: {len(ws)} weights for {len(xs)} inputs")
    items, data = _values_and_data((*ws, *xs, b))
    return _record(_LINEAR, _forward(_LINEAR, data), items, None)


def _values_and_data(items: Iterable[ValueLike]) -> Tuple[Tuple[Value, ...], List[float]]:
    """The items as Values (numbers lifted) and their data, for apply and the fused ops (whose
    hot path this is: it reads the data and checks the types in one pass when all are Values)."""
    values = tuple(items)
    data = [v.data for v in values if v.__class__ is Value]  # type: ignore[union-attr]
    if len(data) != len(values):  # numbers among them (or subclasses of Value): the slow way
        values = tuple(map(as_value, values))
        data = [v.data for v in values]  # type: ignore[union-attr]
    return values, data  # type: ignore[return-value]


def _args(node: Value, a: Any) -> List[Any]:
    """The arguments of a variadic node's op functions: its inputs' data, then its parameter."""
    args = [v.data for v in a]
    if node._b is not None:
        args.append(node._b)
    return args


def _derivative_error(node: Value, exc: BaseException) -> DerivativeError:
    op = cast(Op, node.op)
    args = [v.data for v in node.inputs] + ([node._b] if op.arity == 1 and node._b is not None else [])
    return DerivativeError(f"{op.name}: local derivative undefined at {describe_args(op, args)} ({exc})")


_EXP, _LOG, _SQRT, _TANH = OPS["exp"], OPS["log"], OPS["sqrt"], OPS["tanh"]
_SIGMOID, _RELU, _LEAKY_RELU = OPS["sigmoid"], OPS["relu"], OPS["leaky_relu"]
_SIN, _COS, _ABS, _STEP, _SIGN = OPS["sin"], OPS["cos"], OPS["abs"], OPS["step"], OPS["sign"]
_SUM, _LINEAR = OPS["sum"], OPS["linear"]


# --- order and the chain rule


def topological_order(root: Value) -> List[Value]:
    """Every node ``root`` depends on, each after all its inputs, ``root`` last.

    Iterative (an explicit stack), so a chain of millions of nodes needs no recursion.
    """
    order: List[Value] = []
    emit = order.append
    seen: set[Value] = set()
    mark = seen.add
    stack: List[Any] = [root]
    push = stack.append
    pop = stack.pop
    while stack:
        node = pop()
        if node is None:  # the node below the marker has all its inputs in order now
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        op = node.op
        if op is None:
            emit(node)
            continue
        push(node)
        push(None)
        # inputs already visited are not pushed again: a parameter read by many nodes is
        # pushed once, not once per use
        if op.arity == 2:
            if node._b not in seen:
                push(node._b)
            if node._a not in seen:
                push(node._a)
        elif op.arity == 1:
            if node._a not in seen:
                push(node._a)
        else:
            stack.extend([x for x in reversed(node._a) if x not in seen])
    return order


class Step(NamedTuple):
    """One chain-rule step: ``∂root/∂input += local × upstream``.

    Attributes:
        node: the node being processed (its gradient is final by now).
        position: which input of ``node`` this step is about (0 for ``x`` in ``x - y``).
        input: that input.
        local: the local partial ∂node/∂input, from the op table.
        upstream: ∂root/∂node.
        contribution: ``local * upstream``.
        total: ∂root/∂input summed over the paths seen so far (the running total).
    """

    node: Value
    position: int
    input: Value
    local: Any
    upstream: Any
    contribution: Any
    total: Any


def backward_steps(root: Value, gradient: float = 1.0, *, create_graph: bool = False) -> Iterator[Step]:
    """Yield every chain-rule step of backprop from ``root``, in the order backward takes them.

    Nodes are processed in reverse topological order, so a node's gradient is complete before
    it is passed on. Touches no ``.grad``: the running totals are in the records. With
    ``create_graph=True`` the partials are evaluated on Values, so gradients are Values that can
    be differentiated again.
    """
    seed: Any = gradient if gradient.__class__ is float else _to_float(gradient)
    if create_graph:
        seed = Value(seed)
    totals: Dict[Value, Any] = {root: seed}
    for node in reversed(topological_order(root)):
        op = node.op
        if op is None:
            continue
        upstream = totals[node]
        inputs = node.inputs
        if create_graph:
            args: List[Any] = list(inputs)
            out: Any = node
        else:
            args = [v.data for v in inputs]
            out = node.data
        if op.arity != 2 and node._b is not None:
            args.append(node._b)
        try:
            locals_ = op.grads(*args, out)
        except (ArithmeticError, ValueError) as exc:
            raise _derivative_error(node, exc) from exc
        for position, (inp, local) in enumerate(zip(inputs, locals_)):
            contribution = _times(local, upstream) if create_graph else local * upstream
            before = totals.get(inp)
            total = contribution if before is None else before + contribution
            totals[inp] = total
            yield Step(node, position, inp, local, upstream, contribution, total)


def _times(local: Any, upstream: Any) -> Any:
    """``local * upstream`` without a node for multiplying by the constant 1."""
    if local.__class__ is float and local == 1.0:
        return upstream
    return local * upstream


def _backward_checked(root: Value, seed: float, on_step: Callable[[Step], None]) -> None:
    """``backward()`` through :func:`backward_steps`, reporting each step to a hook."""
    touched: Dict[Value, Any] = {}
    for step in backward_steps(root, seed):
        on_step(step)
        touched[step.input] = step.total
    for node in topological_order(root):
        if node.op is not None:
            node.grad = 0.0
    root.grad = root.grad + seed if root.op is None else seed
    for node, total in touched.items():
        node.grad = node.grad + total if node.op is None else total


def grad(
    outputs: Union[Value, Sequence[Value]],
    inputs: Union[Value, Sequence[Value]],
    create_graph: bool = False,
    allow_unused: bool = False,
) -> List[Any]:
    """The gradients of ``outputs`` (summed, if several) with respect to each of ``inputs``.

    Touches no ``.grad``. With ``create_graph=True`` the gradients are Values built from the
    same op table, so they can be differentiated again (second derivatives, Hessians, Newton's
    method); otherwise they are floats.

    >>> x = Value(3.0)
    >>> (dx,) = grad(x ** 3, [x], create_graph=True)
    >>> grad(dx, [x])   # d²/dx² x³ = 6x
    [18.0]

    Raises:
        ValueError: an input does not take part in computing the outputs (pass
            ``allow_unused=True`` to get None for it instead).
    """
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    ins = [inputs] if isinstance(inputs, Value) else list(inputs)
    for what, items in (("outputs", outs), ("inputs", ins)):
        for item in items:
            if not isinstance(item, Value):
                raise TypeError(f"grad: {what} must be Values, got {type(item).__name__} {item!r}")
    wanted = set(ins)
    found: Dict[Value, Any] = {}
    on_step = current_mode().on_step
    for out in outs:
        totals: Dict[Value, Any] = {out: Value(1.0) if create_graph else 1.0}
        for step in backward_steps(out, create_graph=create_graph):
            if on_step is not None:
                on_step(step)
            if step.input in wanted:
                totals[step.input] = step.total
        for node in wanted.intersection(totals):
            found[node] = totals[node] if node not in found else found[node] + totals[node]
    result: List[Any] = []
    for i, node in enumerate(ins):
        if node in found:
            result.append(found[node])
        elif allow_unused:
            result.append(None)
        else:
            name = f" ({node.label!r})" if node.label else ""
            raise ValueError(
                f"grad: input {i}{name} was not used to compute the output; "
                "pass allow_unused=True to get None for it"
            )
    return result


def as_value(x: ValueLike) -> Value:
    """``x`` itself if it is a Value, else a new leaf holding it."""
    return x if isinstance(x, Value) else Value(x)
