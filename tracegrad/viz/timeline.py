"""The step-through as data: for every frame its texts, and only what changes in the picture.

A frame is the forward pass reaching one more Value, the seed, or one backward step. Each
:class:`Moment` holds the frame's words and the looks (:mod:`tracegrad.viz.looks`) of just the
elements that differ from the frame before (the first: of every element), with the gradients
that change; so the whole step-through is data of a size that grows with frames + graph, never
frames × graph. The numbers are the trace's, which are the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set

from ..engine import Value
from .dot import COMMUTATIVE
from .looks import FINAL_FILL, PARTIAL_FILL, Look, input_look, op_look, plain_edge_look, value_look
from .steps import StepRecord, Trace


@dataclass
class Moment:
    """One frame of the step-through as data.

    Attributes:
        index: 0 for the first frame.
        kind: ``"forward"``, ``"seed"`` or ``"backward"``.
        title: ``"Forward 3 / 10"``, ``"Backward step 2 / 9"``.
        text: the step as an equation (``∂L/∂x += ∂n/∂x × ∂L/∂n = 0.5 × 1 = 0.5``).
        words: the same in a sentence.
        step: the backward step shown, if any.
        focus: the topological numbers of the Values this frame is about (kept in view).
        changes: the look of every element that differs from the frame before, by element id
            (``v3`` a Value's box, ``o3`` its op, ``e3_0`` the edge of its first input, ``r3`` the
            edge from the op to the box).
        grads: the gradients that change at this frame, by topological number.
    """

    index: int
    kind: str
    title: str
    text: str
    words: str
    step: Optional[StepRecord]
    focus: List[int]
    changes: Dict[str, Look] = field(default_factory=dict)
    grads: Dict[int, float] = field(default_factory=dict)


def edge_text(t: Trace, step: StepRecord) -> str:
    """The current edge's label: ``local × upstream = contribution``."""
    return f"{t.num(step.local)} × {t.num(step.upstream)} = {t.num(step.contribution)}"


def operand(node: Value, position: int) -> str:
    """``left`` / ``right`` for the inputs of an op where order matters (``a - b``), else ''."""
    op = node.op
    if op is None or op.name in COMMUTATIVE or len(node.inputs) != 2:
        return ""
    return ("left", "right")[position]


class _Picture:
    """The state of the picture while the frames are made: which Values are computed, which
    are current, what gradients are known; it gives any element's look in that state."""

    def __init__(self, t: Trace) -> None:
        self.t = t
        self.computed = 0  # how many Values, in topological order, have their data
        self.current: Optional[Value] = None
        self.receiver: Optional[Value] = None
        self.edge: Optional[str] = None
        self.totals: Dict[Value, float] = {}
        self.final: Set[Value] = set()
        self.done: Set[str] = set()
        self.by_number = {t.number[v]: v for v in t.values}
        self.texts = {f"e{s.node_number}_{s.position}": edge_text(t, s) for s in t.steps}
        self.shown: Dict[str, Look] = {}

    def known(self, number: int) -> bool:
        return number <= self.computed

    def look(self, element: str) -> Look:
        t, kind, rest = self.t, element[0], element[1:]
        if kind == "v":
            v = self.by_number[int(rest)]
            known = self.known(int(rest))
            fill = FINAL_FILL if v in self.final else PARTIAL_FILL if v in self.totals else "white"
            role = "current" if v is self.current else "receiver" if v is self.receiver else None
            grad = self.totals.get(v)
            return value_look(known, fill, role, f"data {t.num(v.data)}" if known else "data ?",
                              "grad ?" if grad is None else f"grad {t.num(grad)}")
        if kind == "o":
            v = self.by_number[int(rest)]
            return op_look(self.known(int(rest)), v is self.current and self.receiver is not None)
        if kind == "r":
            return plain_edge_look("result", self.known(int(rest)))
        head, position = (int(p) for p in rest.split("_"))
        known = self.known(head)
        if element not in self.texts:
            return plain_edge_look("input", known)
        if element == self.edge:
            return input_look(known, "active", self.texts[element])
        if element in self.done:
            return input_look(known, "done", "")
        return input_look(known, "waiting", operand(self.by_number[head], position))

    def changes(self, elements: Iterable[str]) -> Dict[str, Look]:
        """The looks of ``elements`` that differ from what the picture shows; the picture then shows them."""
        changed: Dict[str, Look] = {}
        for element in elements:
            look = self.look(element)
            if self.shown.get(element) != look:
                changed[element] = self.shown[element] = look
        return changed


def elements(t: Trace) -> List[str]:
    """Every element's id, in the picture's order: each Value's box, then its op and edges."""
    found: List[str] = []
    for v in t.values:
        n = t.number[v]
        found.append(f"v{n}")
        if v.op is not None:
            found.append(f"o{n}")
            found.extend(f"e{n}_{p}" for p in range(len(v.inputs)))
            found.append(f"r{n}")
    return found


def _around(t: Trace, pic: _Picture) -> List[str]:
    """The elements whose look depends on who is current or receiving now."""
    near = [f"v{t.number[v]}" for v in (pic.current, pic.receiver) if v is not None]
    if pic.current is not None and pic.current.op is not None:
        near.append(f"o{t.number[pic.current]}")
    if pic.edge is not None:
        near.append(pic.edge)
    return near


def timeline(t: Trace) -> List[Moment]:
    """Every frame as a :class:`Moment`: the forward pass, the seed, then each backward step.

    Only the elements around the frame's step are looked at, so this takes time proportional
    to the graph plus the number of frames.
    """
    pic = _Picture(t)
    moments: List[Moment] = []
    n = len(t.values)
    for k, record in enumerate(t.forward, start=1):
        before = _around(t, pic)
        pic.computed, pic.current = k, record.node
        words = ("a leaf: a number you gave" if record.node.op is None
                 else "computed from its inputs, which are all known by now (topological order)")
        touched = elements(t) if k == 1 else [
            *before, f"v{k}", *(f"o{k}", f"r{k}", *(f"e{k}_{p}" for p in range(len(record.inputs))))]
        if record.node.op is None and k > 1:
            touched = [*before, f"v{k}"]
        moments.append(Moment(k - 1, "forward", f"Forward {k} / {n}", t.forward_text(record),
                              f"#{k} {t.name(record.node)} is {words}.", None, [k], pic.changes(touched)))
    before = _around(t, pic)
    pic.current, pic.totals[t.root], pic.final = t.root, t.gradient, {t.root}
    root = t.number[t.root]
    moments.append(Moment(
        len(moments), "seed", "Backward: the seed", t.seed_text(),
        f"Backprop starts at {t.name(t.root)} with gradient {t.num(t.gradient)}; nodes are then processed "
        "in reverse topological order, so a node's gradient is complete before it is passed on.", None, [root],
        pic.changes([*before, *_around(t, pic)]), {root: t.gradient}))
    for step in t.steps:
        before = _around(t, pic)
        edge = f"e{step.node_number}_{step.position}"
        pic.totals[step.input] = step.total
        if step.last:
            pic.final.add(step.input)
        pic.done.add(edge)
        pic.current, pic.receiver, pic.edge = step.node, step.input, edge
        moments.append(Moment(
            len(moments), "backward", f"Backward step {step.index} / {len(t.steps)}", t.step_text(step),
            t.step_words(step), step, [step.node_number, step.input_number],
            pic.changes([*before, *_around(t, pic)]), {step.input_number: step.total}))
    return moments
