"""Writing a graph out as straight-line Python over floats: the code generator of ``compile``.

One line per node forward, then one line per chain-rule step backward, in the order
``Value.backward()`` takes them. Every local derivative is the float arithmetic of the op
table's own ``forward`` and ``grads`` functions, written out, so the generated code gives the
same numbers as the eager engine, bit for bit.
"""

from __future__ import annotations

import builtins
import math
from math import isfinite
from operator import mul
from typing import Any, Callable, Dict, Iterator, List, Sequence, Tuple

from ..engine import OPS, Op, Value, topological_order
from ..engine.compat import GIVEN
from ..engine.value import run_forward

# A fused node's backward: with math.sumprod (Python 3.12+) whole tuples at a time in C
# (_dot_columns); before that, one line per step, which is faster than sum(map(mul, ...)).
_COLUMNS = hasattr(math, "sumprod")


class TakeEagerStep(ArithmeticError):
    """Raised by generated code for a step it leaves to the eager engine (which compile runs then)."""


class Program:
    """The generated code for one argument shape, and the leaves it reads and writes."""

    def __init__(self, source: str, leaves: Tuple[Value, ...], namespace: Dict[str, Any]) -> None:
        self.source = source
        self.leaves = leaves
        exec(builtins.compile(source, "<tracegrad.compile>", "exec"), namespace)
        self.forward_backward: Callable[..., Tuple[float, Tuple[float, ...]]] = namespace["forward_backward"]
        self.forward: Callable[..., float] = namespace["forward"]


# Forward expressions and local partials of the built-in ops, as code over floats. Each is the
# float arithmetic of the op's own forward and grads functions, written out so that the
# generated code gives the same numbers as the eager engine and raises where it raises (the math
# functions raise exactly where these ops' domain checks refuse: a test runs every op on the
# special values, inf, nan, -0.0, 1e308, ..., both ways); other ops call those functions.
# {a}, {b}: the inputs; {o}: the output; {p}: the parameter; {g}: the upstream gradient.
_FORWARD: Dict[str, str] = {
    "add": "{a} + {b}",
    "sub": "{a} - {b}",
    "mul": "{a} * {b}",
    "div": "{a} / {b}",
    "neg": "-{a}",
    "pow": "_pow({a}, {p})",
    "exp": "_exp({a})",
    "sqrt": "_sqrt({a})",
    "tanh": "_tanh({a})",
    "sin": "_sin({a})",
    "cos": "_cos({a})",
    "relu": "0.0 if {a} <= 0 else {a}",  # NaN goes through, as in the op's forward
}
_CONTRIBUTIONS: Dict[str, Tuple[str, ...]] = {
    "add": ("{g}", "{g}"),
    "sub": ("{g}", "-{g}"),
    "mul": ("{b} * {g}", "{a} * {g}"),
    "div": ("(1.0 / {b}) * {g}", "(-{o} / {b}) * {g}"),
    "neg": ("-{g}",),
    "exp": ("{o} * {g}",),
    "log": ("(1.0 / {a}) * {g}",),
    "sqrt": ("(0.5 / {o}) * {g}",),
    "tanh": ("(1.0 - {o} * {o}) * {g}",),
    "sigmoid": ("({o} * (1.0 - {o})) * {g}",),
    "relu": ("({g} if {a} > 0 else 0.0 * {g} if {a} <= 0 else {a} * {g})",),  # step(x) * g; NaN at NaN
    "sin": ("_cos({a}) * {g}",),
    "cos": ("(-_sin({a})) * {g}",),
}


class Writer:
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
            "_pow": math.pow, "_exp": math.exp, "_sqrt": math.sqrt,
            "_tanh": math.tanh, "_sin": math.sin, "_cos": math.cos, "_mul": mul,
            "_dot_columns": _dot_columns, "_isfinite": isfinite, "_TakeEagerStep": TakeEagerStep,
        }
        self.tuples: Dict[Tuple[Value, ...], str] = {}
        self.functions: Dict[Any, str] = {}
        self.columns: Dict[Tuple[str, ...], str] = {}
        self.started: set[Value] = set()
        self.pending: Dict[Tuple[Value, ...], List[Tuple[str, str]]] = {}
        self.flush_at: Dict[Value, List[Tuple[Value, ...]]] = {}
        self.position: Dict[Value, int] = {}

    def _function(self, key: Any, make: Callable[[], Any], name: str) -> str:
        """A name in the generated code's namespace for an op's forward or grads function."""
        if key not in self.functions:
            base = name if name.isidentifier() else "_op"
            unique = base if base not in self.namespace else f"{base}_{len(self.functions)}"
            self.functions[key] = unique
            self.namespace[unique] = make()
        return self.functions[key]

    def program(self) -> Program:
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
            "# the chain rule in reverse topological order. X: the arguments' numbers; P: the leaves' data.\n"
        )
        source = (
            header
            + "def forward_backward(X, P):\n"
            + "\n".join(forward + backward)
            + f"\n    return {root}, ({grads}{',' if len(self.leaves) == 1 else ''})\n\n\n"
            + "def forward(X, P):\n"
            + "\n".join(forward)
            + f"\n    return {root}\n"
        )
        return Program(source, self.leaves, self.namespace)

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
            lines.append(f"    {name} = " + template.format(a=a, b=b, p=self._constant(node.param)))
        elif op is OPS["linear"] or op is OPS["linear_relu"]:
            n = len(inputs) // 2
            terms = [f"{self.name[w]} * {self.name[x]}" for w, x in zip(inputs[:n], inputs[n : 2 * n])]
            pre = name if op is OPS["linear"] else "a" + name[1:]  # a ReLU neuron's pre-activation
            lines.extend(self._chain(pre, self.name[inputs[-1]], terms))
            if pre != name:
                lines.append(f"    {name} = 0.0 if {pre} <= 0 else {pre}")  # NaN goes through
        elif op is OPS["sum"]:
            lines.extend(self._chain(name, self.name[inputs[0]], [self.name[x] for x in inputs[1:]]))
        else:
            if op.forward is None:
                made = "local_grads" if op is GIVEN else repr(op.symbol)
                raise TypeError(
                    f"compile: the graph holds a node made with Value(data, children, {made}),"
                    " which has no forward rule to replay"
                )
            fwd = self._function((op, "forward"), lambda: _checked_forward(op), f"_{op.name}")
            lines.append(f"    {name} = {fwd}({self._args(node)})")
        return lines

    def _constant(self, x: Any) -> str:
        """An op's parameter as code: ``2`` or ``0.5`` where its repr is a literal that reads back
        as the same number, else a name bound to it (``nan``, ``inf`` and any other type)."""
        if x.__class__ is int or (x.__class__ is float and isfinite(x)):
            return repr(x)
        key = ("constant", x.__class__, x.hex() if x.__class__ is float else repr(x))
        return self._function(key, lambda: x, "_k")

    @staticmethod
    def _chain(name: str, first: str, terms: List[str], width: int = 64) -> List[str]:
        """``name = first + terms[0] + terms[1] + ...``, left to right as a chain of + nodes adds
        (so the same number, bit for bit), at most ``width`` terms a line."""
        lines = [f"    {name} = {' + '.join([first, *terms[:width]])}"]
        for start in range(width, len(terms), width):
            lines.append(f"    {name} = {' + '.join([name, *terms[start : start + width]])}")
        return lines

    def _args(self, node: Value) -> str:
        args = [self.name[i] for i in node.inputs]
        if node.op is not None and node.op.arity != 2 and node.param is not None:
            args.append(self._constant(node.param))
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
        self.position = {node: i for i, node in enumerate(self.order)}
        for node in reversed(self.order):
            for group in self.flush_at.pop(node, ()):
                self._flush(group, lines)
            if node.op is None or not self.needs[node]:
                continue
            if (node.op is OPS["linear"] and not _COLUMNS) or node.op is OPS["linear_relu"]:
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
        whole neuron this way). An inf or NaN among the inputs makes the node's own value inf
        or NaN, and then every step is taken, so that ``inf * 0.0`` gives NaN as in the eager
        engine.
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
        me = self.name[node]
        relu = node.op is OPS["linear_relu"]  # alive: linear's steps; dead: (partner·0)·g, 0 unless inf or nan
        lines.append(f"    if {me} > 0 and ({g} or not _isfinite({me})):" if relu else
                     f"    if {g} or not _isfinite({me}):")
        lines.extend(f"        {self._grad(inp)} += {c}" for inp, c in steps)
        if relu:  # the rare case of an inf or nan at a dead neuron: the eager engine takes the step
            lines.append(f"    elif {me} <= 0 and not (_isfinite({g}) and _isfinite(a{me[1:]})):")
            lines.append("        raise _TakeEagerStep")

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
        elif op is OPS["pow"] and node.param >= 0:  # for n < 0, the op table's partial below
            n: Any = node.param
            local = "0.0" if n == 0 else f"({self._constant(n)} * {self.name[inputs[0]]} ** {self._constant(n - 1)})"
            yield inputs[0], f"{local} * {g}"
        elif op is OPS["linear"]:
            n = len(inputs) // 2
            ws, xs = tuple(inputs[:n]), tuple(inputs[n : 2 * n])
            for group, partner in ((ws, xs), (xs, ws)):
                if any(self.needs[i] for i in group):
                    if group not in self.pending:  # flushed at its first element in reverse order
                        self.pending[group] = []
                        self.flush_at.setdefault(max(group, key=self.position.__getitem__), []).append(group)
                    self.pending[group].append((self._tuple(partner, lines), g))
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
    def forward(*args: float) -> float:
        return run_forward(op, args)

    return forward


def _sumprod_fallback(xs: Sequence[float], ys: Sequence[float]) -> float:
    total: float = sum(map(mul, xs, ys))
    return total


_sumprod: Callable[[Sequence[float], Sequence[float]], float] = getattr(math, "sumprod", _sumprod_fallback)


def _dot_columns(columns: Sequence[Sequence[float]], weights: Sequence[float]) -> List[float]:
    """``[Σ_t column[t] * weights[t] for column in columns]``: a matrix-vector product."""
    return [_sumprod(column, weights) for column in columns]
