"""The backprop trace as data: the forward pass in topological order, then one record per
chain-rule step, with the numbers taken from :func:`tracegrad.engine.backward_steps` itself.

Nothing here computes a derivative: the local partials, upstream gradients, contributions and
running totals are the engine's own; this module only names them and puts them into words.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, Any, Dict, List, Optional, Sequence, Set, Tuple, cast

from ..engine import Value, backward_steps
from . import labels
from .dot import COMMUTATIVE, DEFAULT_MAX_NODES, collect
from .formula import CALL, PRODUCT
from .names import Names
from .notebook import NotebookPage


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
        formula: the local partial as text in the graph's names: the op table's formula with the
            user's names put in place of the op's own (``1 - o²`` where the table says ``1 - out²``).
        formula_numbers: the same with the numbers put in (``1 - 0.7071²``).
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
    formula_numbers: str
    local: float
    upstream: float
    contribution: float
    total: float
    first: bool
    last: bool


class Trace(NotebookPage):
    """Backprop of one graph, step by step: what :func:`trace` returns.

    In a notebook, a trace shows itself as the interactive step-through page (see
    :meth:`page`); :meth:`table` is the same for a terminal.

    Attributes:
        root: the Value differentiated.
        gradient: the seed ∂L/∂root (1.0 by default).
        values: every Value in topological order.
        number: each Value's topological number.
        names: each Value's name in every text (:class:`~tracegrad.viz.names.Names`).
        forward: one :class:`ForwardRecord` per Value.
        steps: one :class:`StepRecord` per chain-rule step, in the order backward takes them.
    """

    def __init__(self, root: Value, gradient: float = 1.0, *, max_nodes: Optional[int] = DEFAULT_MAX_NODES,
                 precision: int = 4) -> None:
        self.root = root
        self.gradient = float(gradient)
        self.precision = precision
        self.values, self.number = collect(root, max_nodes)
        self.names = Names(self.values, self.number, root, precision)
        self.forward = [ForwardRecord(self.number[v], v, tuple(self.number[i] for i in v.inputs)) for v in self.values]
        raw = list(backward_steps(root, self.gradient))
        last: Dict[Value, int] = {}
        for i, s in enumerate(raw):
            last[s.input] = i
        seen: Set[Value] = set()
        self.steps: List[StepRecord] = []
        for i, s in enumerate(raw):
            self.steps.append(StepRecord(
                i + 1, s.node, self.number[s.node], s.position, s.input, self.number[s.input],
                self.names.formula(s.node, s.position), self.names.formula_numbers(s.node, s.position),
                float(s.local), float(s.upstream), float(s.contribution), float(s.total),
                s.input not in seen, last[s.input] == i,
            ))
            seen.add(s.input)
        self._made: Dict[str, Any] = {}  # rendered frames and pages, made once
        self._final: Optional[Dict[Value, float]] = None

    # --- words

    def name(self, v: Value) -> str:
        """How every text calls a Value: its label; else the short expression that made it
        (``p*q``), its number if a constant, ``L`` if the output, or ``v7`` (7: its ``#``)."""
        return self.names[v]

    def d(self, v: Value) -> str:
        """``∂`` and the Value's name, in parentheses unless a plain word: ``∂p``, ``∂(p*q)``."""
        return "∂" + self.names.terms[v].inside(CALL)

    def num(self, x: Any) -> str:
        """A number as the trace shows it."""
        return labels.number(x, self.precision)

    def expression(self, v: Value, numbers: bool = False) -> str:
        """How ``v`` was computed, over its inputs' names (``p*q + r``) or numbers (``-6 + 6.881``); '' for a leaf."""
        args = [self.names.number(i.data) for i in v.inputs] if numbers else None
        term = self.names.expression(v, args)
        return term.text if term is not None else ""

    def forward_text(self, record: ForwardRecord) -> str:
        """``n = p*q + r = -6 + 6.881 = 0.8814`` (``p = 2`` for a leaf; ``p*q = 2*(-3) = -6``)."""
        v = record.node
        return _chain([self.name(v), self.expression(v), self.expression(v, numbers=True), self.num(v.data)])

    def seed_text(self) -> str:
        """The first backward line: the root's own gradient."""
        r = self.d(self.root)
        why = "the output's gradient with respect to itself" if self.gradient == 1.0 else "the seed you gave"
        return f"{r}/{r} = {self.num(self.gradient)}: {why}"

    def step_text(self, step: StepRecord) -> str:
        """The step as a teacher writes it on the board:
        ``∂o/∂p += ∂(p*q)/∂p × ∂o/∂(p*q) = q × 0.5 = -3 × 0.5 = -1.5``."""
        r, n, x = self.d(self.root), self.d(step.node), self.d(step.input)
        local = self.names.formula_term(step.node, step.position).inside(PRODUCT)
        up, value = self.num(step.upstream), self.num(step.local)
        # from the output itself: its local derivative times the seed, not the circular ∂o/∂n × ∂o/∂o
        head = f"{r}/{x} += {local} × {r}/{r}" if step.node is self.root else f"{r}/{x} += {n}/{x} × {r}/{n}"
        text = _chain([head, f"{local} × {up}", f"{value} × {up}", self.num(step.contribution)])
        if not step.first:
            text += f"; running total {r}/{x} = {self.num(step.total)}"
        return text

    def step_words(self, step: StepRecord) -> str:
        """The step in a sentence: which node passes what to which input, and why."""
        n, x, r = self.name(step.node), self.name(step.input), self.d(self.root)
        made = _chain([n, self.expression(step.node)])
        where = ""
        if len(step.node.inputs) == 2 and step.node.op is not None and step.node.op.name not in COMMUTATIVE:
            where = f" (its {('left', 'right')[step.position]} operand)"
        local = _chain([f"{self.d(step.node)}/{self.d(step.input)}", step.formula, step.formula_numbers,
                        self.num(step.local)])
        fan = "" if step.first else f" {x} is used more than once, so the contributions add up."
        done = f" {x}'s gradient is now complete." if step.last else ""
        upstream = f"{r}/{self.d(step.node)}"
        return (f"{made} passes its gradient back to {x}{where}. The local derivative {local} is "
                f"multiplied by the upstream gradient {upstream} = {self.num(step.upstream)}.{fan}{done}")

    def table(self) -> str:
        """The forward pass and every backward step as a text table for a terminal (numbers aligned)."""
        lines = ["forward pass (topological order):"]
        width = len(str(len(self.values)))
        for record in self.forward:
            lines.append(f"  #{record.number:<{width}} {self.forward_text(record)}")
        lines.append("backward pass (reverse topological order):")
        nodes = _width([self.name(s.node) for s in self.steps], "node")
        inputs = _width([self.name(s.input) for s in self.steps], "input")
        formulas = _width([s.formula for s in self.steps], "local formula")
        numbers = [[self.num(x) for x in (s.local, s.upstream, s.contribution, s.total)] for s in self.steps]
        cols = [max([len(h), *(len(row[i]) for row in numbers)]) for i, h in enumerate(_HEADS)]
        lines.append(f"  {'step':>4}  {'node':<{nodes}}  {'input':<{inputs}}  {'local formula':<{formulas}}  "
                     + "  ".join(f"{h:>{w}}" for h, w in zip(_HEADS, cols)))
        lines.append(f"  {'':>4}  {self.seed_text()}")
        for s, row in zip(self.steps, numbers):
            fan = "" if s.first else "  (+)"
            names = f"{_cut(self.name(s.node), nodes):<{nodes}}  {_cut(self.name(s.input), inputs):<{inputs}}"
            lines.append(f"  {s.index:>4}  {names}  {_cut(s.formula, formulas):<{formulas}}  "
                         + "  ".join(f"{x:>{w}}" for x, w in zip(row, cols)) + fan)
        lines.append("gradients:")
        leaves = [v for v in self.values if v.op is None]
        r = self.d(self.root)
        heads = [f"{r}/{self.d(v)}" for v in leaves]
        wide = max((len(h) for h in heads), default=0)
        for head, v in zip(heads, leaves):
            lines.append(f"  {head:<{wide}} = {self.num(self.grad_of(v))}")
        return "\n".join(lines)

    def grad_of(self, v: Value) -> float:
        """∂root/∂v as the trace computed it (the last running total; the seed for the root)."""
        if v is self.root:
            return self.gradient
        if self._final is None:
            self._final = {s.input: s.total for s in self.steps}  # the last running total of each
        return self._final.get(v, 0.0)

    # --- pictures and pages (need Graphviz)

    def frames(self, **options: Any) -> List[Any]:
        """Every step drawn on one layout; see :func:`tracegrad.viz.frames.frames`."""
        from .frames import frames

        return frames(self, **options)

    def page(self, *, practice: bool = False, **options: Any) -> Any:
        """The step-through page (a notebook shows it inline; ``.save(path)`` writes it); ``practice=True``
        asks the learner for each step's contribution before showing it. See :class:`tracegrad.viz.html.StepPage`."""
        from .html import StepPage

        return StepPage(self, practice=practice, **options)

    def save_html(self, path: Any, **options: Any) -> str:
        """Write the self-contained step-through page; see :func:`tracegrad.viz.html.save_html`."""
        from .html import save_html

        return save_html(self, path, **options)

    def save_frames(self, folder: Any, format: str = "svg", **options: Any) -> List[str]:
        """Write one picture per step; see :func:`tracegrad.viz.frames.save_frames`."""
        from .frames import save_frames

        return save_frames(self, folder, format, **options)

    def notebook_page(self) -> Tuple[str, int, str]:
        """What a notebook shows for ``trace(o)``: the step-through page, inline."""
        return cast(Tuple[str, int, str], self.page().notebook_page())

    def __repr__(self) -> str:
        return f"<Trace of {self.name(self.root)}: {len(self.values)} values, {len(self.steps)} backward steps>"


_HEADS = ("local", "upstream", "contrib", "total")


def _chain(parts: Sequence[str]) -> str:
    """``a = b = c`` without empty parts, nor a part that repeats the one before (no ``= 1 = 1``)."""
    kept: List[str] = []
    for part in parts:
        if part and (not kept or kept[-1] != part):
            kept.append(part)
    return " = ".join(kept)


def _width(texts: Sequence[str], head: str, most: int = 24) -> int:
    return min(max([len(head), *(len(t) for t in texts)]), most)


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
