"""How each node and edge of the step-through is drawn at a moment of backprop: its *look*.

A look is the few DOT attributes that change between frames (colours, pen width, a dashed
outline) and the texts that change (a box's ``data`` and ``grad`` fields, an edge's label). The
frames for slides turn looks into DOT for the renderer (:func:`dot_attrs`); the page turns the
same looks into the SVG attributes the renderer would have written (:func:`svg_paint`), which its
script sets on the one picture it holds. Colour scheme: the node being processed is orange, the
input receiving a gradient blue, the edge of the current step red with ``local × upstream =
contribution``; gradients still being summed are yellow, finished ones green; what the forward
pass has not reached yet is grey and dashed, its numbers ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from .dot import OP_FILL

FUTURE = "#b7b7b7"
CURRENT = "#e69138"
RECEIVER = "#3d85c6"
PARTIAL_FILL = "#fff2cc"
FINAL_FILL = "#d9ead3"
ACTIVE_EDGE = "#cc0000"
DONE_EDGE = "#6aa84f"

ROLE_PEN = "3"
"""Pen width of the outline of the node passing its gradient back and of the input receiving it."""
ACTIVE_PEN = "2.5"
"""Pen width of the current step's edge."""
DASHES = "5,2"
"""The dash pattern Graphviz draws a dashed outline with (``stroke-dasharray``)."""


@dataclass(frozen=True)
class Look:
    """How one element of the picture is drawn in a frame.

    Attributes:
        kind: ``"value"`` (a Value's box), ``"op"`` (an op's oval), ``"input"`` (an edge into an
            op, which carries the step's label) or ``"result"`` (the edge from an op to its Value).
        attrs: the DOT attributes that vary between frames, as ``(name, value)`` pairs.
        texts: a box's data and grad fields; an input edge's label (one text, ``""`` for none).
    """

    kind: str
    attrs: Tuple[Tuple[str, str], ...]
    texts: Tuple[str, ...] = ()

    def get(self, name: str, default: str = "") -> str:
        """One attribute's value."""
        for key, value in self.attrs:
            if key == name:
                return value
        return default


def value_look(known: bool, fill: str, role: Optional[str], data: str, grad: str) -> Look:
    """A Value's box: ``known`` once the forward pass computed it, filled with ``fill``; ``role``
    is ``"current"``, ``"receiver"`` or None; ``data`` and ``grad`` its two changing fields."""
    color = {"current": CURRENT, "receiver": RECEIVER}.get(role or "", "black" if known else FUTURE)
    attrs = [("style", "filled" if known else "filled,dashed"), ("fillcolor", fill), ("color", color),
             ("fontcolor", "black" if known else FUTURE)]
    if role:
        attrs.append(("penwidth", ROLE_PEN))
    return Look("value", tuple(attrs), (data, grad))


def op_look(known: bool, current: bool) -> Look:
    """An op's oval, filled orange while its node passes a gradient back."""
    ink = "black" if known else FUTURE
    return Look("op", (("fillcolor", CURRENT if current else OP_FILL), ("color", ink), ("fontcolor", ink)))


def input_look(known: bool, state: str, label: str) -> Look:
    """An edge into an op: ``state`` is ``"active"`` (the current step, labelled with its numbers),
    ``"done"`` (its contribution made: no label, its numbers are in the boxes now) or
    ``"waiting"`` (a grey ``left`` / ``right`` where the operands' order matters, else none)."""
    if state == "active":
        return Look("input", (("color", ACTIVE_EDGE), ("fontcolor", ACTIVE_EDGE), ("penwidth", ACTIVE_PEN)), (label,))
    if state == "done":
        return Look("input", (("color", DONE_EDGE),), ("",))
    return Look("input", (("color", "black" if known else FUTURE), ("fontcolor", FUTURE)), (label,))


def plain_edge_look(kind: str, known: bool) -> Look:
    """An edge that only changes colour: from an op to its Value, or into an op with no step."""
    return Look(kind, (("color", "black" if known else FUTURE),))


def dot_attrs(look: Look) -> Dict[str, str]:
    """The look's DOT attributes (texts aside: the caller writes them into the label)."""
    return dict(look.attrs)


Paint = Dict[str, Dict[str, Optional[str]]]
"""SVG attributes by the part of an element they go on (``shape``, ``line``, ``text``, ``path``,
``head``); None removes the attribute."""


def svg_paint(look: Look) -> Paint:
    """The SVG attributes Graphviz writes for this look, by part: a box's outline (``shape``) and
    field separators (``line``), an oval (``shape``), an edge's ``path`` and arrow ``head``, and
    every ``text``. Black text has no ``fill`` (SVG's default); pen width 1 no ``stroke-width``."""
    color = look.get("color", "black")
    width = look.get("penwidth") or None
    font = look.get("fontcolor", "black")
    text = {"fill": None if font == "black" else font}
    if look.kind == "value":
        stroke = {"stroke": color, "stroke-width": width,
                  "stroke-dasharray": DASHES if "dashed" in look.get("style") else None}
        return {"shape": {"fill": look.get("fillcolor", "white"), **stroke}, "line": {"fill": "none", **stroke},
                "text": text}
    if look.kind == "op":
        return {"shape": {"fill": look.get("fillcolor", OP_FILL), "stroke": color}, "text": text}
    return {"path": {"fill": "none", "stroke": color, "stroke-width": width},
            "head": {"fill": color, "stroke": color, "stroke-width": width}, "text": text}
