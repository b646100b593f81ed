"""The chain rule: the topological order, backward, the step records, and ``grad``.

:func:`backward_steps` is the chain rule written once, as a generator of one :class:`Step` per
edge of the graph (the pictures, anomaly mode and :func:`grad` read it). :func:`backward` is its
fast twin for ``Value.backward()``: the same loop without the records, which the tests pin to
:func:`backward_steps` on generated graphs, bit for bit. Neither holds any calculus: every local
partial comes from the op table (the twin writes out those of add, mul, relu and linear, and skips
a node whose upstream gradient is exactly 0 where its op says that changes nothing).
"""

from __future__ import annotations

from itertools import filterfalse
from math import isfinite
from typing import Any, Callable, Dict, Iterable, Iterator, List, NamedTuple, Sequence, Union, cast

from .errors import DerivativeError, error_class
from .generic import to_float
from .modes import current_mode, mode_or_none
from .number import data_of
from .ops import OPS, Op, describe_args
from .value import Value

_ADD, _MUL, _RELU, _LINEAR, _LINEAR_RELU = OPS["add"], OPS["mul"], OPS["relu"], OPS["linear"], OPS["linear_relu"]


def topological_order(root: Value) -> List[Value]:
    """Every node ``root`` depends on, each after all its inputs, ``root`` last.

    Iterative (an explicit stack), so a chain of millions of nodes needs no recursion.
    """
    order: List[Value] = []
    emit = order.append
    seen: set[Value] = set()
    mark = seen.add
    visited = seen.__contains__
    walked: set[int] = set()  # the tuples of inputs that neurons share (by id: they are alive)
    stack: List[Any] = [root]
    push = stack.append
    pop = stack.pop
    while stack:
        node = pop()
        if node is None:  # the node below the marker has all its inputs in order now
            emit(pop())
            continue
        if node.__class__ is tuple:  # a neuron's weights or inputs: walked like a node, once
            if id(node) not in walked:
                walked.add(id(node))
                stack.extend(filterfalse(visited, reversed(node)))
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
        elif op is _LINEAR or op is _LINEAR_RELU:
            push(node._b)
            push(node._a)
        else:
            stack.extend(filterfalse(visited, reversed(node._a)))
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
    seed: Any = gradient if gradient.__class__ is float else to_float(gradient)
    if create_graph:
        seed = Value(seed)
    totals: Dict[Value, Any] = {root: seed}
    for node in reversed(topological_order(root)):
        op = node.op
        if op is None:
            continue
        upstream = totals[node]
        inputs = node.inputs
        args = _arguments(node, inputs if create_graph else [v._data for v in inputs])
        out: Any = node if create_graph else node._data
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


def backward(root: Value, gradient: float = 1.0) -> None:
    """``root.backward(gradient)``: fill in ``.grad`` of every node ``root`` was computed from.

    The root is seeded with ``gradient``. Leaves (Values with no inputs: your inputs and
    parameters) *accumulate* across calls until zeroed; interior nodes hold the gradient of the
    latest call, so a second call doubles every leaf gradient and leaves the interior ones as
    they were. Each call's leaf gradient is summed on its own and then added to the earlier one,
    so two calls give exactly twice the gradient.

    Raises:
        DerivativeError: a local derivative is undefined at the point (``sqrt`` at 0); the
            leaves' gradients are then left as they were before the call.
    """
    seed = gradient if gradient.__class__ is float else to_float(gradient)
    mode = mode_or_none()
    if mode is not None and mode.on_step is not None:
        _backward_checked(root, seed, mode.on_step)
        return
    order = topological_order(root)
    # every node starts this pass at 0; leaves get their earlier gradient added back at the
    # end, so two calls give exactly twice the leaf gradients
    leaves: List[Value] = []
    saved: List[Any] = []
    for node in order:
        if node.op is None:
            leaves.append(node)
            saved.append(node.grad)
        node.grad = 0.0
    root.grad = seed
    node = root
    try:
        for node in reversed(order):
            op = node.op
            if op is None:
                continue
            g = node.grad
            if not g and op.finite_partials and isfinite(node._data):
                continue  # each step would add local * 0.0 = 0.0: nothing changes (see Op.finite_partials)
            a = node._a
            arity = op.arity
            # the op table's partials, written out for the ops of a neural net: x * y has y and x,
            # x + y has 1 and 1, relu has step(x), linear has x_i, w_i and 1
            if op is _MUL:
                b = node._b
                a.grad += b._data * g
                b.grad += a._data * g
            elif op is _ADD:
                a.grad += g
                node._b.grad += g
            elif op is _RELU:
                x = a._data
                a.grad += g if x > 0 else (0.0 if x <= 0 else x) * g  # step(x) * g, NaN for NaN
            elif op is _LINEAR or (op is _LINEAR_RELU and node._data > 0):  # a: (w..., b), node._b: (x...)
                xs = node._b  # in input order (all w, all x, then b), as backward_steps takes them
                for w, x in zip(a, xs):
                    w.grad += x._data * g
                for w, x in zip(a, xs):
                    x.grad += w._data * g
                a[-1].grad += g
            elif op is _LINEAR_RELU:  # dead (out is 0) or NaN: step(out) is out, and each step adds (x·out)·g
                xs, s = node._b, node._data  # which is exactly 0 unless something is inf or nan
                if not (isfinite(g) and isfinite(sum(map(data_of, a), sum(map(data_of, xs))))):
                    for w, x in zip(a, xs):
                        w.grad += x._data * s * g
                    for w, x in zip(a, xs):
                        x.grad += w._data * s * g
                    a[-1].grad += s * g
            elif arity == 2:
                b = node._b
                da, db = op.grads(a._data, b._data, node._data)
                a.grad += da * g
                b.grad += db * g
            elif arity == 1:
                p = node._b
                (da,) = op.grads(a._data, node._data) if p is None else op.grads(a._data, p, node._data)
                a.grad += da * g
            else:
                for inp, local in zip(a, op.grads(*_arguments(node, map(data_of, a)), node._data)):
                    inp.grad += local * g
    except (ArithmeticError, ValueError) as exc:
        for leaf, before in zip(leaves, saved):
            leaf.grad = before
        raise _derivative_error(node, exc) from exc
    for leaf, before in zip(leaves, saved):
        leaf.grad = before + leaf.grad


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


def _arguments(node: Value, inputs: Iterable[Any]) -> List[Any]:
    """The arguments of ``node``'s op functions: ``inputs`` (its inputs' data, or the inputs
    themselves under ``create_graph``), then the op's parameter if it has one."""
    param = node.param
    return [*inputs] if param is None else [*inputs, param]


def _derivative_error(node: Value, exc: BaseException) -> DerivativeError:
    op = cast(Op, node.op)
    args = _arguments(node, [v._data for v in node.inputs])
    kind = error_class(DerivativeError, exc)  # also a ZeroDivisionError or OverflowError where exc is one
    return kind(f"{op.name}: local derivative undefined at {describe_args(op, args)} ({exc})")  # type: ignore[return-value]
