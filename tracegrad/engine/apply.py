"""Building a node of any op from Values or numbers: ``apply`` (custom ops) and the fused ops.

The fused ops stand for a whole chain of fine-grained ones in one node: ``value_sum`` adds many
Values, ``linear`` is a neuron's ``b + w0*x0 + w1*x1 + ...``. Both add in the order the chain
of ``+`` nodes would, so the numbers are the same bit for bit.
"""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence, Tuple

from .generic import to_param
from .ops import OPS, VARIADIC, Op
from .value import NEURONS, Value, ValueLike, _lift, record, run_forward

_SUM, _LINEAR, _LINEAR_RELU = OPS["sum"], OPS["linear"], OPS["linear_relu"]


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
    if param is not None:
        param = to_param(param, f"{op.name}: param")
    out = run_forward(op, data + ([param] if param is not None else []))
    if op in NEURONS:  # kept as the weights and bias, and the inputs
        n = len(values) // 2
        if len(values) % 2 == 0:
            raise TypeError(f"{op.name}: takes the weights, the inputs and the bias, got {len(values)} inputs")
        return record(op, out, (*values[:n], values[-1]), values[n:-1])
    if op.arity == 2:
        return record(op, out, values[0], values[1])
    if op.arity == 1:
        return record(op, out, values[0], param)
    return record(op, out, values, param)


def value_sum(values: Iterable[ValueLike]) -> Value:
    """``v0 + v1 + ...`` as one node (the same number as the chain of ``+``, added in order)."""
    items, data = _values_and_data(values)
    if not items:
        return Value(0.0)
    if len(items) == 1:
        return items[0]
    return record(_SUM, run_forward(_SUM, data), items, None)


def linear(ws: Sequence[ValueLike], xs: Sequence[ValueLike], b: ValueLike) -> Value:
    """``b + w0*x0 + w1*x1 + ...`` as one node: a neuron's pre-activation, fused.

    Gives the same number, bit for bit, as the fine-grained graph that adds in that order.
    """
    if len(ws) != len(xs):
        raise ValueError(f"linear: {len(ws)} weights for {len(xs)} inputs")
    return neuron((*ws, b), xs)


def neuron(params: Sequence[ValueLike], xs: Sequence[ValueLike], relu: bool = False) -> Value:
    """``b + w0*x0 + w1*x1 + ...``, or its ReLU, as one node, for ``params = (w0, w1, ..., b)``.

    The node's inputs are ``(w0, ..., x0, ..., b)`` as for :func:`linear`. It keeps ``params`` and
    ``xs`` themselves when they are tuples: a neuron that passes the same tuple of its parameters
    for every sample, and a layer the same tuple of inputs to all its neurons, make nodes that
    share them, and the chain rule walks each shared tuple once.
    """
    op = _LINEAR_RELU if relu else _LINEAR
    if len(params) != len(xs) + 1:
        raise ValueError(f"{op.name}: {len(params) - 1} weights for {len(xs)} inputs")
    params = params if params.__class__ is tuple else tuple(params)
    xs = xs if xs.__class__ is tuple else tuple(xs)
    b = params[-1]
    if b.__class__ is Value:
        # one pass that checks the types and adds the products left to right (the op table's
        # forward, inline); numbers or subclasses of Value among the inputs take the way below
        total = b._data  # type: ignore[union-attr]
        for w, x in zip(params, xs):
            if w.__class__ is not Value or x.__class__ is not Value:
                break
            total += w._data * x._data  # type: ignore[union-attr]
        else:
            return record(op, 0.0 if relu and total <= 0 else total, params, xs)  # NaN goes through
    if not all(isinstance(v, Value) for v in params):  # numbers lifted (a tuple of Values is kept)
        params = tuple(map(as_value, params))
    if not all(isinstance(v, Value) for v in xs):
        xs = tuple(map(as_value, xs))
    data = [v._data for v in (*params[:-1], *xs, params[-1])]  # type: ignore[union-attr]
    return record(op, run_forward(op, data), params, xs)


def _values_and_data(items: Iterable[ValueLike]) -> Tuple[Tuple[Value, ...], List[float]]:
    """The items as Values (numbers lifted) and their data, for apply and the fused ops (whose
    hot path this is: it reads the data and checks the types in one pass when all are Values)."""
    values = tuple(items)
    data = [v._data for v in values if v.__class__ is Value]  # type: ignore[union-attr]
    if len(data) != len(values):  # numbers among them (or subclasses of Value): the slow way
        values = tuple(map(as_value, values))
        data = [v._data for v in values]  # type: ignore[union-attr]
    return values, data  # type: ignore[return-value]


def as_value(x: ValueLike) -> Value:
    """``x`` itself if it is a Value, else a new leaf holding it."""
    lifted = _lift(x)
    return Value(x) if lifted is NotImplemented else lifted  # Value(x) names what is not a number
