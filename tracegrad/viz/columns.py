"""A model's layers as columns: the hints that keep dot from drawing them as a staircase.

dot ranks a module's inputs (the outputs of the layer before, lifted out of their boxes by
:func:`tracegrad.viz.dot.lift_outputs`) beside the ops that first use them, that is inside the
next layer's span, where no node outside the box may stand: they sink under it, and each layer
is drawn lower or higher than the one before. An edge entering a box from outside is given
``minlen=2``, so a layer's inputs stand before its box; and an invisible, heavy edge joins the
middle input of each layer to the next layer's and to the output, pulling the layers level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Set

if TYPE_CHECKING:
    from .dot import Edge, Node

SPINE_WEIGHT = 100
"""How strongly the spine pulls the layers level (dot's default edge weight is 1)."""


def _top(path: str) -> str:
    """The outermost numbered module of a box's path: ``layers.1`` of ``layers.1.neurons.3``."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[: i + 1])
    return path


def column_hints(nodes: List[Node], edges: List[Edge], root: Optional[str]) -> List[str]:
    """Give every edge that enters a box from outside ``minlen=2``; return the spine's DOT lines."""
    where = {n.id: n.cluster for n in nodes}
    inputs: Dict[str, List[str]] = {}
    for edge in edges:
        box = where.get(edge.head)
        if box and where.get(edge.tail) is None:
            edge.attrs["minlen"] = "2"
            inputs.setdefault(_top(box), []).append(edge.tail)
    spine: List[str] = []
    seen: Set[str] = set()
    for tails in inputs.values():
        fresh = [t for t in dict.fromkeys(tails) if t not in seen]
        seen.update(fresh)
        if fresh:
            spine.append(fresh[(len(fresh) - 1) // 2])
    if spine and root is not None and where.get(root) is None:
        spine.append(root)
    return [f'\t{a} -> {b} [style="invis" weight="{SPINE_WEIGHT}" constraint="false"]'
            for a, b in zip(spine, spine[1:]) if a != b]
