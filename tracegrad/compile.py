"""Tracing a fixed-shape computation into straight-line Python code over floats: the fast path.

The eager engine builds a graph of :class:`~tracegrad.engine.Value` nodes on every call and walks
it backwards. For a computation whose *shape* stays the same from call to call (a training step:
the same network on a batch of the same size), :func:`compile` builds that graph once, then writes
it out as one Python function of plain floats: one line per node forward, then one line per
chain-rule step backward, in the order :meth:`Value.backward` takes them. The local derivatives
come from the op table, so the generated code computes the same numbers as the eager engine.

>>> from tracegrad import Value
>>> w = Value(0.5, label="w")
>>> step = compile(lambda x, y: ((w * x - y) ** 2))
>>> step(3.0, 1.0)          # forward and backward: returns the output, fills w.grad
0.25
>>> w.grad
3.0
>>> print(step.source)      # doctest: +ELLIPSIS
def forward_backward(X, P, nonfinite):
...
"""

from __future__ import annotations

import builtins
import math
import sys
from functools import reduce
from math import isfinite
from operator import add, mul
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from .engine import Value, mode_context, topological_order
from .ops import OPS, Op

__all__ = ["Compiled", "compile"]

Spec = Any  # None for a number, else (container type, tuple of the items' specs)

# sum() of floats adds left to right up to Python 3.11 (exactly as a chain of + nodes does);
# from 3.12 on it is compensated, so the generated code uses reduce(add, ...) there instead.
# A fused node's backward: with math.sumprod (Python 3.12+) whole tuples at a time in C
# (_dot_columns); before that, one line per step, which is faster than sum(map(mul, ...)).
_COLUMNS = hasattr(math, "sumprod")
_SUM = "sum" if sys.version_info < (3, 12) else "_reduce_add"


def compile(fn: Callable[..., Value]) -> Compiled:
    """Trace ``fn`` once per argument shape into straight-line float code, and replay it.

    ``fn`` takes numbers, or lists and tuples of them (a batch), and returns a Value: for
    example a training step's loss, using a model's parameters that it does not receive as
    arguments. Calling the result runs forward and backward in generated code:

    * it returns the output's data (a float);
    * every Value ``fn`` used without receiving it (the parameters, and constants) gets
      ``.grad += ∂output/∂value``, exactly as ``fn(...).backward()`` does for leaves;
    * their ``.data`` is read afresh at every call, so an optimiser may update them in place.

    The arguments are inputs of the generated code, never baked in as constants. A call with a
    different shape (another batch size, a list where a number was) is traced anew; a call
    with the same shape replays. Like any tracer, it records the path the Python code took:
    ``fn`` must not branch on the *data* of Values (``if v.data > 0``), only use ops
    (``relu``, ``abs``, ``step``) whose branches are part of their definition.

    >>> from tracegrad import Value
    >>> w, b = Value(2.0), Value(0.5)
    >>> f = compile(lambda xs: sum(w * x for x in xs) + b)
    >>> f([1.0, 2.0, 3.0])
    12.5
    >>> w.grad, b.grad
    (6.0, 1.0)

    Args:
        fn: the computation, from numbers and nested lists/tuples of numbers to a Value.

    Returns:
        A :class:`Compiled` callable; ``.forward(*args)`` runs the forward part alone and
        ``.source`` shows the code of the latest trace.
    """
    return Compiled(fn)


class Compiled:
    """A computation traced into float code, one program per argument shape (see :func:`compile`)."""

    def __init__(self, fn: Callable[..., Value]) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function returning a Value, got {type(fn).__name__} {fn!r}")
        self.fn = fn
        self._programs: Dict[Spec, _Program] = {}
        self._latest: Optional[_Program] = None

    def __call__(self, *args: Any) -> float:
        """Forward and backward: returns the output, adds the gradients into the leaves' ``.grad``."""
        flat: List[float] = []
        program = self._program(args, flat)
        try:
            data = [v.data for v in program.leaves]
            nonfinite = not (isfinite(sum(flat)) and isfinite(sum(data)))  # a sum is finite only if each term is
            out, grads = program.forward_backward(flat, data, nonfinite)
        except (ArithmeticError, ValueError):
            return self._eager(args, backward=True)
        for leaf, g in zip(program.leaves, grads):
            leaf.grad += g
        return out  # type: ignore[no-any-return]

    def forward(self, *args: Any) -> float:
        """The output alone, computed by the forward half of the generated code."""
        flat: List[float] = []
        program = self._program(args, flat)
        try:
            return program.forward(flat, [v.data for v in program.leaves])  # type: ignore[no-any-return]
        except (ArithmeticError, ValueError):
            return self._eager(args, backward=False)

    @property
    def source(self) -> str:
        """The generated Python source of the latest trace ("" before the first call)."""
        return self._latest.source if self._latest is not None else ""

    @property
    def leaves(self) -> Tuple[Value, ...]:
        """The Values of the latest trace that ``fn`` used without receiving them as arguments."""
        return self._latest.leaves if self._latest is not None else ()

    @property
    def traces(self) -> int:
        """How many argument shapes have been traced so far."""
        return len(self._programs)

    def _program(self, args: Sequence[Any], flat: List[float]) -> _Program:
        spec = _flatten(args, flat)
        program = self._programs.get(spec)
        if program is None:
            program = self._programs[spec] = _trace(self.fn, args, spec)
        self._latest = program
        return program

    def _eager(self, args: Sequence[Any], backward: bool) -> float:
        """Run ``fn`` on the eager engine: its errors name the op and the offending value."""
        out = self.fn(*_rebuild(args, iter([Value(x) for x in _flat_values(args)])))
        if backward:
            out.backward()
        return out.data


# --- arguments: nested lists and tuples of numbers, flattened in order, with their shape


def _flatten(obj: Any, flat: List[float]) -> Spec:
    """Append the numbers in ``obj`` to ``flat``; return its shape."""
    cls = obj.__class__
    if cls is float:
        flat.append(obj)
        return None
    if cls is list or cls is tuple:
        if all(x.__class__ is float for x in obj):  # the common case: a row of floats
            flat.extend(obj)
            return (cls, len(obj))
        return (cls, tuple([_flatten(x, flat) for x in obj]))
    if isinstance(obj, (list, tuple)):
        return (tuple if isinstance(obj, tuple) else list, tuple([_flatten(x, flat) for x in obj]))
    if isinstance(obj, Value):
        flat.append(obj.data)
        return None
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        flat.append(float(obj))
        return None
    raise TypeError(
        f"compile: arguments must be numbers or lists/tuples of them, got {type(obj).__name__} {obj!r}"
    )


def _flat_values(args: Any) -> List[float]:
    flat: List[float] = []
    _flatten(args, flat)
    return flat


# --- tracing and code generation


class _Program:
    """The generated code for one argument shape, and the leaves it reads and writes."""

    def __init__(self, source: str, leaves: Tuple[Value, ...], namespace: Dict[str, Any]) -> None:
        self.source = source
        self.leaves = leaves
        exec(builtins.compile(source, "<tracegrad.compile>", "exec"), namespace)
        self.forward_backward: Callable[..., Tuple[float, Tuple[float, ...]]] = namespace["forward_backward"]
        self.forward: Callable[..., float] = namespace["forward"]


def _trace(fn: Callable[..., Value], args: Sequence[Any], spec: Spec) -> _Program:
    """Run ``fn`` once on Values standing for the arguments, and write its graph out as code."""
    inputs: List[Value] = [Value(x) for x in _flat_values(args)]
    with mode_context(record=True, on_node=None, on_step=None):
        out = fn(*_rebuild(args, iter(inputs)))
    if not isinstance(out, Value):
        raise TypeError(f"compile: the function must return a Value, got {type(out).__name__} {out!r}")
    return _Writer(out, inputs).program()


def _rebuild(obj: Any, values: Iterator[Value]) -> Any:
    """``obj`` with each number replaced by the next of ``values`` (the traced inputs)."""
    if isinstance(obj, (list, tuple)):
        items = [_rebuild(x, values) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    return next(values)


# Forward expressions and local partials of the built-in ops, as code over floats. Each is the
# float arithmetic of the op's own forward and grads functions, written out so that the
# generated code gives the same numbers as the eager engine; other ops call those functions.
# {a}, {b}: the inputs; {o}: the output; {p}: the parameter; {g}: the upstream gradient.
_FORWARD: Dict[str, str] = {
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "neg": "-{a}",
    "pow": "_pow({a}, {p})",
    "exp": "_exp({a})",
    "log": "_log({a})",
    "sqrt": "_sqrt({a})",
    "tanh": "_tanh({a})",
    "sin": "_sin({a})",
    "cos": "_cos({a})",
    "relu": "{a} if {a} > 0 else 0.0",
}
_CONTRIBUTIONS: Dict[str, Tuple[str, ...]] = {
    "add": ("{g}", "{g}"),
    "sub": ("{g}", "-{g}"),
    "mul": ("{b} * {g}", "{a} * {g}"),
    "div": ("(1.0 / {b}) * {g}", "(-{a} / ({b} * {b})) * {g}"),
    "neg": ("-{g}",),
    "exp": ("{o} * {g}",),
    "log": ("(1.0 / {a}) * {g}",),
    "sqrt": ("(0.5 / {o}) * {g}",),
    "tanh": ("(1.0 - {o} * {o}) * {g}",),
    "sigmoid": ("({o} * (1.0 - {o})) * {g}",),
    "relu": ("({g} if {a} > 0 else 0.0 * {g})",),
    "sin": ("_cos({a}) * {g}",),
    "cos": ("(-_sin({a})) * {g}",),
}


class _Writer:
    """Writes the graph below ``out`` as a forward and a forward-and-backward function."""

    def __init__(self, out: Value, inputs: List[Value]) -> None:
        self.out = out
        self.order = topological_order(out)
        self.name: Dict[Value, str] = {node: f"v{i}" for i, node in enumerate(self.order)}
        is_input = set(inputs)
        self.inputs = inputs
        self.leaves = tuple(n for n in self.order if n.op is None and n not in is_input)
        needs: Dict[Value, bool] = {}
        for node in self.order:
            if node.op is None:
                needs[node] = node not in is_input
            else:
                needs[node] = any(needs[i] for i in node.inputs)
        self.needs = needs
        self.namespace: Dict[str, Any] = {
            "_pow": math.pow, "_exp": math.exp, "_log": math.log, "_sqrt": math.sqrt,
            "_tanh": math.tanh, "_sin": math.sin, "_cos": math.cos, "_mul": mul,
            "_reduce_add": _reduce_add, "_dot_columns": _dot_columns,
        }
        self.tuples: Dict[Tuple[Value, ...], str] = {}
        self.functions: Dict[Any, str] = {}
        self.columns: Dict[Tuple[str, ...], str] = {}
        self.started: set[Value] = set()
        self.pending: Dict[Tuple[Value, ...], List[Tuple[str, str]]] = {}

    def _function(self, key: Any, make: Callable[[], Any], name: str) -> str:
        """A name in the generated code's namespace for an op's forward or grads function."""
        if key not in self.functions:
            base = name if name.isidentifier() else "_op"
            unique = base if base not in self.namespace else f"{base}_{len(self.functions)}"
            self.functions[key] = unique
            self.namespace[unique] = make()
        return self.functions[key]

    def program(self) -> _Program:
        head = [
            f"    {self._names(self.inputs)} = X" if self.inputs else "",
            f"    {self._names(self.leaves)} = P" if self.leaves else "",
        ]
        forward: List[str] = [line for line in head if line]
        for node in self.order:
            if node.op is not None:
                forward.extend(self._forward(node))
        backward = self._backward()
        root = self.name[self.out]
        grads = ", ".join(self._grad(leaf) for leaf in self.leaves)
        header = (
            f"# Generated by tracegrad.compile from a graph of {len(self.order)} nodes: forward, then\n"
            "# the chain rule in reverse topological order. X: the arguments' numbers; P: the leaves' data;\n"
            "# nonfinite: whether any of them is inf or NaN.\n"
        )
        source = (
            header
            + "def forward_backward(X, P, nonfinite):\n"
            + "\n".join(forward + backward)
            + f"\n    return {root}, ({grads}{',' if len(self.leaves) == 1 else ''})\n\n\n"
            + "def forward(X, P):\n"
            + "\n".join(forward)
            + f"\n    return {root}\n"
        )
        return _Program(source, self.leaves, self.namespace)

    def _names(self, nodes: Sequence[Value]) -> str:
        names = ", ".join(self.name.get(n, "_") for n in nodes)  # "_": an argument fn did not use
        return names + "," if len(nodes) == 1 else names

    def _tuple(self, nodes: Tuple[Value, ...], lines: List[str]) -> str:
        """A name for the tuple of these nodes' values, written out the first time it is needed."""
        name = self.tuples.get(nodes)
        if name is None:
            name = self.tuples[nodes] = f"t{len(self.tuples)}"
            lines.append(f"    {name} = ({self._names(nodes)})")
        return name

    def _forward(self, node: Value) -> List[str]:
        op: Op = node.op  # type: ignore[assignment]
        name = self.name[node]
        inputs = node.inputs
        lines: List[str] = []
        template = _FORWARD.get(op.name) if OPS.get(op.name) is op else None
        if template is not None:
            a = self.name[inputs[0]]
            b = self.name[inputs[1]] if len(inputs) > 1 else ""
            lines.append(f"    {name} = " + template.format(a=a, b=b, p=repr(node.param)))
        elif op is OPS["linear"]:
            n = len(inputs) // 2
            ws = self._tuple(tuple(inputs[:n]), lines)
            xs = self._tuple(tuple(inputs[n : 2 * n]), lines)
            lines.append(f"    {name} = {_SUM}(map(_mul, {ws}, {xs}), {self.name[inputs[-1]]})")
        elif op is OPS["sum"]:
            lines.append(f"    {name} = _reduce_add({self._tuple(tuple(inputs), lines)})")
        else:
            if op.forward is None:
                raise TypeError(
                    f"compile: the graph holds a node made with Value(data, children, {op.symbol!r}),"
                    " which has no forward rule to replay"
                )
            fwd = self._function((op, "forward"), lambda: _checked_forward(op), f"_{op.name}")
            lines.append(f"    {name} = {fwd}({self._args(node)})")
        return lines

    def _args(self, node: Value) -> str:
        args = [self.name[i] for i in node.inputs]
        if node.op is not None and node.op.arity != 2 and node.param is not None:
            args.append(repr(node.param))
        return ", ".join(args)

    def _grad(self, node: Value) -> str:
        return "g" + self.name[node][1:]

    def _backward(self) -> List[str]:
        """The chain rule, node by node in reverse topological order, as lines of code.

        A fused ``linear`` node passes its weights' and inputs' gradients on as a whole: each
        tuple of Values it reads collects ``(partner tuple, upstream)`` pairs from all the nodes
        that read it, and once they are all processed (at the tuple's first element in reverse
        order) its gradient is one matrix-vector product in C-level builtins.
        """
        lines = [f"    {self._grad(self.out)} = 1.0"]
        self.started = {self.out}
        position = {node: i for i, node in enumerate(self.order)}
        flush_at: Dict[Value, List[Tuple[Value, ...]]] = {}
        for group in self.tuples:
            flush_at.setdefault(max(group, key=position.__getitem__), []).append(group)
        for node in reversed(self.order):
            for group in flush_at.get(node, ()):
                if group in self.pending:
                    self._flush(group, lines)
            if node.op is None or not self.needs[node]:
                continue
            if node.op is OPS["linear"] and not _COLUMNS:
                self._linear_lines(node, lines)
                continue
            for inp, contribution in self._contributions(node, lines):
                self._accumulate(inp, contribution, lines)
        return lines

    def _accumulate(self, inp: Value, contribution: str, lines: List[str]) -> None:
        if not self.needs[inp]:
            return
        g = self._grad(inp)
        if inp in self.started:
            lines.append(f"    {g} += {contribution}")
        else:
            self.started.add(inp)
            lines.append(f"    {g} = {contribution}")

    def _linear_lines(self, node: Value, lines: List[str]) -> None:
        """A fused ``linear`` node's chain-rule steps, skipped when its upstream gradient is 0.

        ``x * 0.0`` is zero for every finite x, so nothing is lost (a dead ReLU cuts off a
        whole neuron this way); ``nonfinite`` is true when an input or leaf is inf or NaN,
        and then every step is taken, so that ``inf * 0.0`` gives NaN as in the eager engine.
        """
        inputs = node.inputs
        n = len(inputs) // 2
        g = self._grad(node)
        partner = [*inputs[n : 2 * n], *inputs[:n]]  # ∂/∂w_i is x_i, ∂/∂x_i is w_i
        steps = [(inp, f"{self.name[p]} * {g}") for inp, p in zip(inputs, partner)]
        steps.append((inputs[-1], g))
        steps = [(inp, c) for inp, c in steps if self.needs[inp]]
        for inp, _ in steps:
            if inp not in self.started:
                self.started.add(inp)
                lines.append(f"    {self._grad(inp)} = 0.0")
        lines.append(f"    if {g} or nonfinite:")
        lines.extend(f"        {self._grad(inp)} += {c}" for inp, c in steps)

    def _flush(self, group: Tuple[Value, ...], lines: List[str]) -> None:
        """Pass on the gradient of a tuple that fused nodes read: ``Σ_t partner_t * upstream_t``."""
        uses = self.pending.pop(group)
        partners = tuple(name for name, _ in uses)
        columns = self.columns.get(partners)
        if columns is None:
            columns = self.columns[partners] = f"c{len(self.columns)}"
            lines.append(f"    {columns} = tuple(zip({', '.join(partners)}))")
        targets: List[str] = []
        after: List[str] = []
        here = set()
        for node in group:
            if not self.needs[node]:
                targets.append("_")
            elif node in self.started or node in here:
                targets.append(f"h{len(after)}")
                after.append(f"    {self._grad(node)} += h{len(after)}")
            else:
                self.started.add(node)
                here.add(node)
                targets.append(self._grad(node))
        upstreams = ", ".join(g for _, g in uses) + ("," if len(uses) == 1 else "")
        unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
        lines.append(f"    {unpack} = _dot_columns({columns}, ({upstreams}))")
        lines.extend(after)

    def _contributions(self, node: Value, lines: List[str]) -> Iterator[Tuple[Value, str]]:
        """``local * upstream`` for each input of ``node``, as code."""
        op: Op = node.op  # type: ignore[assignment]
        inputs = node.inputs
        g = self._grad(node)
        o = self.name[node]
        templates = _CONTRIBUTIONS.get(op.name) if OPS.get(op.name) is op else None
        if templates is not None:
            a = self.name[inputs[0]]
            b = self.name[inputs[1]] if len(inputs) > 1 else ""
            for inp, t in zip(inputs, templates):
                yield inp, t.format(a=a, b=b, o=o, g=g)
        elif op is OPS["pow"]:
            n: Any = node.param
            local = "0.0" if n == 0 else f"({n!r} * {self.name[inputs[0]]} ** {n - 1!r})"
            yield inputs[0], f"{local} * {g}"
        elif op is OPS["linear"]:
            n = len(inputs) // 2
            ws, xs = tuple(inputs[:n]), tuple(inputs[n : 2 * n])
            if any(self.needs[i] for i in ws):
                self.pending.setdefault(ws, []).append((self.tuples[xs], g))
            if any(self.needs[i] for i in xs):
                self.pending.setdefault(xs, []).append((self.tuples[ws], g))
            yield inputs[-1], g
        elif op is OPS["sum"]:
            for inp in inputs:
                yield inp, g
        else:
            grads = self._function((op, "grads"), lambda: op.grads, f"_{op.name}_grads")
            local = "d" + o[1:]
            if any(self.needs[i] for i in inputs):
                lines.append(f"    {local} = {grads}({self._args(node)}, {o})")
            for i, inp in enumerate(inputs):
                yield inp, f"{local}[{i}] * {g}"


def _checked_forward(op: Op) -> Callable[..., float]:
    """``op``'s forward with its domain check, for ops the generated code calls by name."""
    from .engine import _forward

    def forward(*args: float) -> float:
        return _forward(op, args)

    return forward


def _sumprod_fallback(xs: Sequence[float], ys: Sequence[float]) -> float:
    total: float = sum(map(mul, xs, ys))
    return total


_sumprod: Callable[[Sequence[float], Sequence[float]], float] = getattr(math, "sumprod", _sumprod_fallback)


def _dot_columns(columns: Sequence[Sequence[float]], weights: Sequence[float]) -> List[float]:
    """``[Σ_t column[t] * weights[t] for column in columns]``: a matrix-vector product."""
    return [_sumprod(column, weights) for column in columns]


def _reduce_add(items: Sequence[float]) -> float:
    """``items[0] + items[1] + ...`` left to right, as a chain of + nodes adds."""
    return reduce(add, items)

