"""Nudge a leaf and watch the output: the numerical check a learner does by hand.

For each leaf, the graph's forward pass is run again with that leaf's value raised by a small
``h``, node by node with each op's own forward rule from the op table, and the change of the
output is set beside ``grad × h``: when ``h`` is small they agree, which is what a gradient means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

from ..engine import Value
from ..engine.errors import TracegradError
from ..engine.replay import Replay

H = 0.001
"""The nudge: micrograd's lecture uses ``h = 0.001`` as well."""


@dataclass(frozen=True)
class Nudge:
    """What happens to the output when one leaf is nudged.

    Attributes:
        leaf: the leaf nudged.
        h: how much it was raised.
        before, after: the output before and after (after is None if the nudged value is outside
            an op's domain, e.g. ``log`` of a negative number).
        change: ``(after - before) × seed``: the output's change (times the seed gradient).
        predicted: ``grad × h``, what the gradient says the change is.
    """

    leaf: Value
    h: float
    before: float
    after: Optional[float]
    change: Optional[float]
    predicted: float


def nudges(values: List[Value], grads: Dict[Value, float], seed: float = 1.0, h: float = H) -> List[Nudge]:
    """One :class:`Nudge` per leaf of the graph (``values`` in topological order, the root last)."""
    root = values[-1]
    again = Replay([root])
    result = []
    for leaf in values:
        if leaf.op is not None or leaf is root:
            continue
        try:
            after: Optional[float] = again.run({leaf: leaf.data + h})[0]
        except (TracegradError, ArithmeticError, ValueError, TypeError):  # outside a domain; no rule
            after = None
        change = None if after is None else (after - root.data) * seed
        result.append(Nudge(leaf, h, root.data, after, change, grads.get(leaf, 0.0) * h))
    return result
