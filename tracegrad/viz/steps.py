"""The backprop trace as data: the forward pass in topological order, then one record per
chain-rule step, with the numbers taken from :func:`tracegrad.engine.backward_steps` itself.

Nothing here computes a derivative: the local partials, upstream gradients, contributions and
running totals are the engine's own; this module only names them and puts them into words.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Sequence, cast

from ..engine import Value, backward_steps
from ..engine.ops import VARIADIC, Op, pretty
from . import labels
from .dot import DEFAULT_MAX_NODES, collect, input_name, op_text


@dataclass(frozen=True)
class ForwardRecord:
    """One node of the forward pass, in topological order.

    Attributes:
        number: its topological number (1 is computed first).
        node: the Value.
        inputs: the topological numbers of its inputs, in order (empty for a leaf).
    """

    number: int
    node: Value
    inputs: Sequence[int]


@dataclass(frozen=True)
class StepRecord:
    """One chain-rule step: ``∂L/∂input += ∂node/∂input × ∂L/∂node``.

    Attributes:
        index: 1 for the first backward step.
        node, node_number: the node whose gradient is passed on, and its topological number.
        position: which input of ``node`` (0 for ``x`` in ``x - y``).
        input, input_number: that input and its topological number.
        formula: the local partial as text, from the op table (``1 - out²``).
        local, upstream, contribution, total: the engine's numbers (``total`` is the running
            sum of contributions into ``input``).
        first, last: whether this is the first / last contribution into ``input``.
    """

    index: int
    node: Value
    node_number: int
    position: int
    input: Value
    input_number: int
    formula: str
    local: float
    upstream: float
    contribution: float
    total: float
    first: bool
    last: bool


def formula_for(op: Op, node: Value, position: int) -> str:
    """The local partial of ``node`` w.r.t. its input at ``position``, as pretty formula text."""
    if op.arity != VARIADIC:
        return pretty(op.formulas[position]) if position < len(op.formulas) else "?"
    if op.name == "linear":
        n = (len(node.inputs) - 1) // 2
        return f"x{position}" if position < n else (f"w{position - n}" if position < 2 * n else "1")
    return pretty(op.formulas[0]) if op.formulas else "?"


class Trace:
    """Backprop of one graph, step by step: what :func:`trace` returns.

    Attributes:
        root: the Value differentiated.
        gradient: the seed ∂L/∂root (1.0 by default).
        values: every Value in topological order.
        number: each Value's topological number.
        forward: one :class:`ForwardRecord` per Value.
        steps: one :class:`StepRecord` per chain-rule step, in the order backward takes them.
    """

    def __init__(self, root: Value, gradient: float = 1.0, *, max_nodes: Optional[int] = DEFAULT_MAX_NODES,
                 precision: int = 4) -> None:
        self.root = root
        self.gradient = float(gradient)
        self.precision = precision
        self.values, self.number = collect(root, max_nodes)
        self.forward = [ForwardRecord(self.number[v], v, tuple(self.number[i] for i in v.inputs)) for v in self.values]
        raw = list(backward_steps(root, self.gradient))
        last: Dict[Value, int] = {}
        for i, s in enumerate(raw):
            last[s.input] = i
        seen: set = set()  # type: ignore[type-arg]
        self.steps: List[StepRecord] = []
        for i, s in enumerate(raw):
            op = cast(Op, s.node.op)  # backward_steps yields only computed nodes
            self.steps.append(StepRecord(
                i + 1, s.node, self.number[s.node], s.position, s.input, self.number[s.input],
                formula_for(op, s.node, s.position), float(s.local), float(s.upstream),
                float(s.contribution), float(s.total), s.input not in seen, last[s.input] == i,
            ))
            seen.add(s.input)

    # --- words

    def name(self, v: Value) -> str:
        """How the text calls a Value: its label, else ``v`` and its topological number."""
        if v is self.root and not v.label:
            return "L"
        return labels.shown(v.label) or f"v{self.number[v]}"

    def num(self, x: Any) -> str:
        """A number as the trace shows it."""
        return labels.number(x, self.precision)

    def forward_text(self, record: ForwardRecord) -> str:
        """``v3 = x * w = 2 * -3 = -6`` (or ``x = 2`` for a leaf)."""
        v = record.node
        if v.op is None:
            return f"{self.name(v)} = {self.num(v.data)}"
        names = expression(v, [self.name(i) for i in v.inputs], self.precision)
        values = expression(v, [self.num(i.data) for i in v.inputs], self.precision)
        return f"{self.name(v)} = {names} = {values} = {self.num(v.data)}"

    def seed_text(self) -> str:
        """The first backward line: the root's own gradient."""
        r = self.name(self.root)
        return f"∂{r}/∂{r} = {self.num(self.gradient)} (the seed)"

    def step_text(self, step: StepRecord) -> str:
        """``∂L/∂x += ∂n/∂x × ∂L/∂n = 0.5 × 1 = 0.5`` (and the running total at fan-in)."""
        r, n, x = self.name(self.root), self.name(step.node), self.name(step.input)
        text = (f"∂{r}/∂{x} += ∂{n}/∂{x} × ∂{r}/∂{n} = {self.num(step.local)} × {self.num(step.upstream)}"
                f" = {self.num(step.contribution)}")
        if not step.first:
            text += f"; running total ∂{r}/∂{x} = {self.num(step.total)}"
        return text

    def step_words(self, step: StepRecord) -> str:
        """The step in a sentence: which node passes what to which input, and why."""
        n, x = self.name(step.node), self.name(step.input)
        op = step.node.op
        computed = expression(step.node, [self.name(i) for i in step.node.inputs], self.precision)
        role = input_name(step.node, step.position)
        where = f" (its input {role})" if role else ""
        ins = op.input_names if op is not None and op.arity != VARIADIC else ()
        args = [f"{name} = {self.name(i)} = {self.num(i.data)}" for name, i in zip(ins, step.node.inputs)]
        args.append(f"out = {n} = {self.num(step.node.data)}")
        fan = "" if step.first else f" {x} is used more than once, so the contributions add up."
        done = f" {x}'s gradient is now complete." if step.last else ""
        return (f"{n} = {computed} passes its gradient back to {x}{where}. The local derivative "
                f"∂{n}/∂{x} = {step.formula} = {self.num(step.local)} (with {', '.join(args)}) is "
                f"multiplied by the upstream gradient ∂{self.name(self.root)}/∂{n} = {self.num(step.upstream)}."
                f"{fan}{done}")

    def table(self) -> str:
        """The forward pass and every backward step as a text table for a terminal."""
        lines = ["forward pass (topological order):"]
        for record in self.forward:
            lines.append(f"  #{record.number:<3} {self.forward_text(record)}")
        lines.append("backward pass (reverse topological order):")
        lines.append(f"  {'step':>4}  {'node':<10} {'input':<10} {'local formula':<16} "
                     f"{'local':>10} {'upstream':>10} {'contrib':>10} {'total':>10}")
        lines.append(f"  {'':>4}  {self.seed_text()}")
        for s in self.steps:
            fan = "" if s.first else " (+)"
            lines.append(
                f"  {s.index:>4}  {_cut(self.name(s.node)):<10} {_cut(self.name(s.input)):<10} "
                f"{_cut(s.formula, 16):<16} "
                f"{self.num(s.local):>10} {self.num(s.upstream):>10} {self.num(s.contribution):>10} "
                f"{self.num(s.total):>10}{fan}"
            )
        lines.append("gradients:")
        for v in self.values:
            if v.op is None:
                lines.append(f"  ∂{self.name(self.root)}/∂{self.name(v)} = {self.num(self.grad_of(v))}")
        return "\n".join(lines)

    def grad_of(self, v: Value) -> float:
        """∂root/∂v as the trace computed it (the last running total; the seed for the root)."""
        if v is self.root:
            return self.gradient
        totals = [s.total for s in self.steps if s.input is v]
        return totals[-1] if totals else 0.0

    # --- pictures (need Graphviz)

    def frames(self, **options: Any) -> List[Any]:
        """Every step drawn on one layout; see :func:`tracegrad.viz.frames.frames`."""
        from .frames import frames

        return frames(self, **options)

    def save_html(self, path: Any, **options: Any) -> str:
        """Write the self-contained step-through page; see :func:`tracegrad.viz.html.save_html`."""
        from .html import save_html

        return save_html(self, path, **options)

    def save_frames(self, folder: Any, format: str = "svg", **options: Any) -> List[str]:
        """Write one picture per step; see :func:`tracegrad.viz.frames.save_frames`."""
        from .frames import save_frames

        return save_frames(self, folder, format, **options)


def expression(v: Value, args: List[str], precision: int = 4) -> str:
    """``x * w``, ``tanh(n)``, ``x ** 3``, ``Σ(a, b, c)``: how ``v`` is computed from ``args``."""
    op = cast(Op, v.op)
    if op.arity == 2 and len(op.symbol) <= 2:
        return f"{args[0]} {op.symbol} {args[1]}"
    if op.name == "pow":
        return f"{args[0]} ** {labels.number(v.param, precision)}"
    if op.name == "neg":
        return f"-{args[0]}"
    return f"{op_text(v, precision)}({', '.join(args)})"


def _cut(text: str, width: int = 10) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def trace(root: Value, gradient: float = 1.0, *, max_nodes: Optional[int] = DEFAULT_MAX_NODES,
          precision: int = 4) -> Trace:
    """Record backprop of ``root`` step by step (touches no ``.grad``).

    >>> x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    >>> t = trace((x * w).tanh())
    >>> len(t.steps)     # tanh -> its input, then * -> x and * -> w
    3
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace: root must be a Value, got {type(root).__name__} {root!r}")
    return Trace(root, gradient, max_nodes=max_nodes, precision=precision)


def explain(root: Value, gradient: float = 1.0, *, file: Optional[IO[str]] = None, precision: int = 4) -> None:
    """Print the forward pass and every backward step of ``root`` as a text table (no Graphviz needed)."""
    print(trace(root, gradient, max_nodes=None, precision=precision).table(), file=file or sys.stdout)
