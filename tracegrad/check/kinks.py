"""Gradient checking at kinks: the interval of one-sided derivatives, not a false alarm.

Central differences across a kink of ``relu``, ``abs``, ``leaky_relu``, ``step`` or ``sign``
average the two sides, so they disagree with any correct derivative there; the complex step at
a kink follows one branch. The op table says where each op's kinks are and its one-sided
derivatives there (``Op.kinks``). Before comparing, the graph is evaluated again at
``x - eps·d``, ``x`` and ``x + eps·d`` (``d`` the direction of the partial derivative): every
piecewise node whose input lies on a kink, or crosses one within that stencil, is *near a kink*.
Each such node is then forced onto each of its pieces in turn (the straight line through its
kink with the one-sided slope), and the derivative of the whole graph is taken numerically with
every combination of pieces. A correct derivative at a kink lies between the smallest and the
largest of them (the subgradient interval); one outside it is a real error.

>>> from tracegrad import Value
>>> from tracegrad.check.replay import complex_replay
>>> x = Value(0.0)
>>> result = one_sided(complex_replay([x.relu() * 3.0]), [x], [0.0], [1.0], eps=1e-6, method="central")
>>> [(round(lo, 6), round(hi, 6)) for lo, hi in result.intervals]
[(0.0, 3.0)]
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..engine import Value
from ..engine.errors import DomainError
from ..engine.replay import Piece, Replay
from .replay import COMPLEX_STEP

MAX_GROUPS = 10
"""At most this many kinks near one point are checked (2**10 combinations of pieces)."""

Where = Tuple[str, str, float]
"""A kink near the point: the op's name, the name of its input and the input's value."""


@dataclass(frozen=True)
class KinkNote:
    """One partial derivative checked at a kink: the interval it must lie in, and whether it does."""

    output: str
    input: str
    analytic: float
    low: float
    high: float
    where: Tuple[Where, ...]
    ok: bool
    checked: bool = True

    def __str__(self) -> str:
        places = " and ".join(f"{op} ({name} = {value:.3g})" for op, name, value in self.where)
        head = f"{self.output} / {self.input}: at a kink of {places}"
        if not self.checked:
            return f"{head}: {len(self.where)} kinks within eps, too many to check; skipped"
        a = f"{self.analytic:.6g}"
        if math.isclose(self.low, self.high, rel_tol=1e-9, abs_tol=1e-12):
            sides = f"one-sided derivatives both {self.low:.6g}"
            verdict = "agrees" if self.ok else "disagrees"
        elif len(self.where) == 1:
            sides = f"one-sided derivatives {self.low:.6g} and {self.high:.6g}"
            verdict = "lies between" if self.ok else "lies outside"
        else:
            sides = f"one-sided derivatives from {self.low:.6g} to {self.high:.6g}"
            verdict = "lies between" if self.ok else "lies outside"
        return f"{head}: {sides}; analytic {a} {verdict}"

    def nearest(self) -> float:
        """The point of the interval nearest to the analytic value (the 'numeric' of a table row)."""
        return min(max(self.analytic, self.low), self.high)


@dataclass(frozen=True)
class OneSided:
    """The kinks near a point along one direction, and each output's interval of derivatives."""

    where: Tuple[Where, ...]
    intervals: List[Tuple[float, float]]
    checked: bool = True

    def note(self, k: int, output: str, input: str, analytic: float, atol: float, rtol: float) -> KinkNote:
        lo, hi = self.intervals[k]
        slack = atol + rtol * max(abs(lo), abs(hi))
        ok = (not self.checked) or (lo - slack <= analytic <= hi + slack)
        return KinkNote(output, input, analytic, lo, hi, self.where, ok, self.checked)


def kink_nodes(recording: Replay) -> List[Value]:
    """The nodes of a recorded graph whose op has kinks."""
    return [n for n in recording.order if n.op is not None and n.op.kinks and n.op.arity == 1]


def _kink(node: Value, u: float) -> Tuple[float, float, float]:
    """The kink of ``node``'s op nearest to its input ``u``, with the one-sided slopes as numbers."""
    at, left, right = min(node.op.kinks, key=lambda k: abs(u - k[0]))  # type: ignore[union-attr]
    slope = {node.op.param: node.param} if node.op is not None and node.op.param else {}
    return at, float(slope.get(left, left)), float(slope.get(right, right))


def _pieces(node: Value, kink: Tuple[float, float, float], touching: bool) -> Dict[str, Piece]:
    """The straight lines ``node``'s op follows near its kink, by side: ``left`` and ``right``,
    and where the op jumps and its input is on the kink, also the lines through its value there
    (``sign(0) = 0`` is on neither side)."""
    at, left, right = kink
    forward = node.op.forward  # type: ignore[union-attr]  # kink_nodes lists op nodes only

    def value(u: float) -> Any:
        return forward(u, node.param) if node.param is not None else forward(u)

    below, above, middle = value(math.nextafter(at, -math.inf)), value(math.nextafter(at, math.inf)), value(at)
    lines = {"left": (below, left), "right": (above, right)}
    if touching and not (math.isclose(middle, below, abs_tol=1e-9) and math.isclose(middle, above, abs_tol=1e-9)):
        lines.update({"at, left": (middle, left), "at, right": (middle, right)})
    return {side: _line(v, slope, at) for side, (v, slope) in lines.items()}


def _line(value: float, slope: float, at: float) -> Piece:
    return lambda u: value + slope * (u - at)


def _side(u: float, at: float) -> int:
    return 0 if u == at else (1 if u > at else -1)


Kink = Tuple[float, float, float]
Group = Tuple[List[Tuple[Value, Kink]], bool]
"""Nodes near one kink of one input (so on the same side of it), and whether it is on the kink."""


def one_sided(
    recording: Replay, leaves: Sequence[Value], point: Sequence[float], direction: Sequence[float],
    *, eps: float, method: str,
) -> Optional[OneSided]:
    """The interval of one-sided derivatives of each output along ``direction`` at ``point``, if
    a kink lies on or within ``eps`` of it (see the module docstring); None if none does.

    Nodes near a kink are forced onto a piece one group at a time (the nodes of one input and
    one kink form a group: they are on the same side), and the stencil is looked at again under
    that forcing, because a piece extended past its kink can move another node across one.
    """
    nodes = kink_nodes(recording)
    if not nodes:
        return None
    where: Dict[Value, Where] = {}
    derivatives: List[List[float]] = []
    failures: List[DomainError] = []
    complete = [True]

    def explore(forced: Dict[Value, Piece], depth: int) -> None:
        groups = _near(recording, leaves, point, direction, eps, nodes, forced)
        for members, _ in groups:
            for n, _ in members:
                where.setdefault(n, (n.op.name, n.op.input_names[0], n.inputs[0].data))  # type: ignore[union-attr]
        if groups and depth >= MAX_GROUPS:
            complete[0] = False
        elif groups:
            members, touching = groups[0]
            pieces = {n: _pieces(n, kink, touching) for n, kink in members}
            sides = dict.fromkeys(side for lines in pieces.values() for side in lines)
            for side in sides:  # a member with no line at the kink itself takes that side's line
                chosen = {n: lines.get(side) or lines[side.split(", ")[-1]] for n, lines in pieces.items()}
                explore({**forced, **chosen}, depth + 1)
            return
        try:
            derivatives.append(_along(recording, leaves, point, direction, forced, eps, method))
        except DomainError as exc:  # f is undefined on that side of a kink: no derivative from there
            failures.append(exc)

    explore({}, 0)
    if not where:
        return None
    if not complete[0]:
        return OneSided(tuple(where.values()), [(-math.inf, math.inf)] * len(recording.outputs), checked=False)
    if not derivatives:
        raise DomainError(f"gradcheck: f is undefined on every side of the kinks near the point: {failures[0]}")
    intervals = [(min(column), max(column)) for column in zip(*derivatives)]
    return OneSided(tuple(where.values()), intervals)


def _near(
    recording: Replay, leaves: Sequence[Value], point: Sequence[float], direction: Sequence[float],
    eps: float, nodes: List[Value], forced: Dict[Value, Piece],
) -> List[Group]:
    """The groups of unforced nodes whose input is on a kink, or crosses one, at ``x - eps·d``,
    ``x`` or ``x + eps·d``."""
    free = [n for n in nodes if n not in forced]
    seen: Dict[Value, List[float]] = {n: [] for n in free}
    for s in (0.0, -1.0, 1.0):
        arguments: Dict[Value, Any] = dict.fromkeys(free)
        # beyond a jump f may be undefined there; the nodes before the failure still count
        with contextlib.suppress(DomainError):
            recording.run(dict(zip(leaves, [x + s * eps * d for x, d in zip(point, direction)])), forced, arguments)
        for n in free:
            if isinstance(arguments[n], (int, float)):
                seen[n].append(float(arguments[n]))
    groups: Dict[Tuple[int, float], Group] = {}
    for n in free:
        if seen[n]:
            kink = _kink(n, seen[n][0])
            sides = {_side(u, kink[0]) for u in seen[n]}
            if 0 in sides or len(sides) > 1:
                members, touching = groups.get((id(n.inputs[0]), kink[0]), ([], False))
                groups[(id(n.inputs[0]), kink[0])] = ([*members, (n, kink)], touching or 0 in sides)
    return list(groups.values())


def _along(
    recording: Replay, leaves: Sequence[Value], point: Sequence[float], direction: Sequence[float],
    forced: Dict[Value, Piece], eps: float, method: str,
) -> List[float]:
    """Each output's derivative along ``direction`` with some nodes forced onto a piece."""
    if method == "complex":
        h = COMPLEX_STEP
        shifted = [complex(x, h * d) for x, d in zip(point, direction)]
        outs = recording.run(dict(zip(leaves, shifted)), forced)
        return [complex(o).imag / h for o in outs]
    plus, minus = (
        recording.run(dict(zip(leaves, [x + s * eps * d for x, d in zip(point, direction)])), forced)
        for s in (1.0, -1.0)
    )
    return [(complex(p).real - complex(m).real) / (2.0 * eps) for p, m in zip(plus, minus)]
