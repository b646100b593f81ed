"""Long edges drawn along a lane under the picture, so that laying a graph out stays fast.

dot draws an edge that spans k ranks through k - 1 invisible points, and orders and places
every one of them: a Value used all along a long chain (``x*x*...*x``) makes that quadratic,
seconds for a few hundred Values, and Graphviz 2.43 runs out of stack past about 300. When the
points would be many (:data:`BUDGET`), the longest edges are left out of the layout and drawn
afterwards from their Value straight down to a lane under the picture, along it, and up into
their op, with their label under the lane. A picture of usual size is laid out as before.
"""

from __future__ import annotations

from typing import Dict, List, Set, Tuple

from ..engine import Value

BUDGET = 3000
"""The most invisible points that long edges may cost dot (about half a second of layout)."""

LANE_GAP = 24.0
"""How far under the picture, in points, the lane runs."""

ARROW = 6.0
"""The arrowhead's length in points (Graphviz's 10 times the pictures' arrowsize 0.6)."""


def _ranks(values: List[Value]) -> Dict[Value, int]:
    """About the rank dot gives each Value's box (its op one rank before), inputs before users."""
    rank: Dict[Value, int] = {}
    users: Dict[Value, List[Value]] = {}
    for v in values:
        if v.op is None:
            continue
        for i in v.inputs:
            users.setdefault(i, []).append(v)
        rank[v] = max((rank.get(i, 0) for i in v.inputs), default=0) + 2
    for v in values:  # a leaf sits just before its first user
        if v.op is None:
            rank[v] = min((rank[u] for u in users.get(v, [])), default=2) - 2
    return rank


def detours(values: List[Value], number: Dict[Value, int], budget: int = BUDGET) -> Set[str]:
    """The input edges (``e7_1``) to leave out of dot's layout: the longest ones, until the rest
    cost dot at most ``budget`` invisible points; each Value keeps its shortest edge."""
    rank = _ranks(values)
    edges: List[Tuple[int, str, Value]] = []
    for v in values:
        for position, i in enumerate(v.inputs):
            edges.append((rank[v] - 1 - rank[i], f"e{number[v]}_{position}", i))
    cost = sum(max(span - 1, 0) for span, _, _ in edges)
    if cost <= budget:
        return set()
    shortest: Dict[Value, str] = {}
    for _, element, tail in sorted(edges, key=lambda e: e[0]):
        shortest.setdefault(tail, element)
    chosen: Set[str] = set()
    for span, element, tail in sorted(edges, key=lambda e: -e[0]):
        if cost <= budget or span <= 1:
            break
        if shortest[tail] != element:
            chosen.add(element)
            cost -= span - 1
    return chosen


def _line(a: Tuple[float, float], b: Tuple[float, float]) -> List[Tuple[float, float]]:
    """A straight piece as a cubic Bézier's three further points."""
    return [(a[0] + (b[0] - a[0]) * k / 3, a[1] + (b[1] - a[1]) * k / 3) for k in (1, 2, 3)]


def route(tail: Tuple[float, float, float], head: Tuple[float, float, float], lane: float) -> Tuple[str, str]:
    """The ``pos`` and label position ``lp`` of an edge drawn along the lane at height ``lane``:
    ``tail`` and ``head`` are ``(x, y, height)`` of the two nodes, in dot's points (y upwards)."""
    start = (tail[0], tail[1] - tail[2] / 2)
    tip = (head[0], head[1] - head[2] / 2)
    corners = [start, (start[0], lane), (tip[0], lane), (tip[0], tip[1] - ARROW)]
    points = [corners[0]]
    for a, b in zip(corners, corners[1:]):
        points.extend(_line(a, b))
    pos = f"e,{tip[0]:.2f},{tip[1]:.2f} " + " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
    return pos, f"{tip[0]:.2f},{lane - 10:.2f}"
