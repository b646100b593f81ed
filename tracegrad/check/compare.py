"""One graph built in a learner's engine and in tracegrad, compared node by node, and what a
difference most likely means.

:class:`Run` builds the same :class:`~tracegrad.check.expression.Expression` in both engines,
runs ``backward()`` in both and finds the first node whose value, then whose gradient, differs.
:func:`diagnose` explains that node in the learner's terms and names the cause when it is a
known one: a second use not accumulated (``=`` instead of ``+=``), a shared node visited twice by
a recursive order, a wrong local derivative, a sign error in ``-`` or ``/``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from ..engine import Value, apply
from ..engine.ops import pretty
from .expression import Expression, Node
from .learner import FORMS, BuildError, Engine, data_of
from .shrink import one_node_per_input

CAUSES = {
    "accumulate": "'=' instead of '+=': a second use of a value is not added up",
    "double visit": "a recursive order that visits a shared node twice",
    "not reset": "a gradient not reset between calls",
    "sign": "a sign error",
    "derivative": "a wrong local derivative",
    "forward": "a wrong forward value",
    "seed": "backward() does not start from out.grad = 1",
    "recursion": "a recursive topological sort in backward(), where a loop and a stack would do",
    "error": "your engine raised an exception",
}
"""The known causes a finding may name, with the words the report uses for them."""


def close(a: float, b: float) -> bool:
    """Equal up to the rounding of two engines that compute the same thing in another order."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= 1e-9 + 1e-6 * max(abs(a), abs(b))


def names_of(expr: Expression) -> Dict[int, str]:
    """``x0, x1, ...`` for the inputs, ``t0, t1, ...`` for the op nodes, ``out`` for the root."""
    names: Dict[int, str] = {}
    count = 0
    for node in expr.nodes():
        if node.index is not None:
            names[id(node)] = expr.names[node.index]
        elif node.op is not None:
            names[id(node)] = "out" if node is expr.output else f"t{count}"
            count += 1 if node is not expr.output else 0
    return names


@dataclass
class Mismatch:
    """The first difference: ``kind`` is ``forward``, ``gradient``, ``build`` or ``backward``."""

    kind: str
    node: Optional[Node]
    theirs: float = math.nan
    ours: float = math.nan
    error: Optional[BaseException] = None


class Run:
    """One expression built in both engines and compared; ``mismatch`` is None if they agree.

    The forward values of every node are compared, then the gradients of the inputs; only when
    an input's gradient differs are the interior nodes' gradients read, to find the first node
    (from the output down) whose gradient differs. An engine need not keep interior gradients.
    """

    def __init__(self, engine: Engine, expr: Expression) -> None:
        expr = one_node_per_input(expr)
        self.engine, self.expr = engine, expr
        self.nodes = expr.nodes()
        self.names = names_of(expr)
        self.ours = _ours(expr)
        self.theirs: Dict[int, Any] = {}
        self.mismatch = self._compare()

    def _compare(self) -> Optional[Mismatch]:
        try:
            self.theirs = self.engine.build(self.expr)
        except BuildError as exc:
            return Mismatch("build", exc.node, error=exc.error)
        for node in self.nodes:
            if node.op is not None and self.built(node):
                theirs, ours = data_of(self.theirs[id(node)].data), self.ours[id(node)].data
                if not close(theirs, ours):
                    return Mismatch("forward", node, theirs, ours)
        root = self.expr.output
        self.ours[id(root)].backward()
        try:
            self.theirs[id(root)].backward()
        except Exception as exc:
            return Mismatch("backward", root, error=exc)
        inputs = [n for n in self.nodes if n.index is not None]
        if all(close(self.grad(n), self.ours[id(n)].grad) for n in inputs):
            return None
        for node in reversed(self.nodes):
            if self.built(node) and not close(self.grad(node), self.ours[id(node)].grad):
                return Mismatch("gradient", node, self.grad(node), self.ours[id(node)].grad)
        return None  # pragma: no cover - an input differs, so some node does

    def built(self, node: Node) -> bool:
        """Whether ``node`` is a Value of the learner's engine (not a constant)."""
        return id(node) in self.theirs and not isinstance(self.theirs[id(node)], (int, float))

    def grad(self, node: Node) -> float:
        return data_of(getattr(self.theirs[id(node)], "grad", None))

    def line(self, node: Node) -> str:
        """How the printed example computes ``node`` (``t0 = x0 + x0``), or its name."""
        return self.engine.lines(self.expr, self.names).get(id(node), self.names.get(id(node), repr(node.value)))

    def source(self) -> str:
        """The graph as Python the learner can paste, with what each engine says."""
        comments = {}
        for node in self.nodes:
            if node.index is not None and self.theirs and self.built(node):
                ours, theirs = self.ours[id(node)].grad, self.grad(node)
                comments[self.names[id(node)]] = (
                    f"{ours!r} in both" if close(theirs, ours) else f"tracegrad: {ours!r}; your engine: {theirs!r}")
        return self.engine.source(self.expr, self.names, comments)


def _ours(expr: Expression) -> Dict[int, Any]:
    """tracegrad's node for every node of ``expr`` (constants and constant-only nodes as floats)."""
    made: Dict[int, Any] = {}
    for node in expr.nodes():
        if node.index is not None:
            made[id(node)] = Value(expr.inputs[node.index], label=expr.names[node.index])
        elif node.op is None or all(isinstance(made[id(c)], float) for c in node.children):
            made[id(node)] = float(node.value)
        else:
            made[id(node)] = apply(node.op, *[made[id(c)] for c in node.children], param=node.param)
    return made


# --- what a difference means


@dataclass
class Facts:
    """What the traps showed about an engine, so that a difference is not blamed on a mistake
    the engine was seen not to make."""

    accumulates: bool = False
    """``a + a``, ``a * a`` and the diamond came out right: second uses are added up."""
    visits_once: bool = False
    """The diamond came out right: a node reached along two paths runs its backward step once."""
    wrong_alone: Set[str] = field(default_factory=set)
    """The ops that were wrong on their own (by op name)."""


def diagnose(run: Run, facts: Optional[Facts] = None) -> Tuple[str, Optional[str]]:
    """The first difference of ``run`` explained, and its cause (a key of :data:`CAUSES`) if known."""
    m = run.mismatch
    if m is None or m.node is None:
        return ("", None) if m is None else (f"backward() raised {_error(m.error)}.", "error")
    node = m.node
    name = run.names[id(node)]
    if m.kind == "build":
        return f"Your engine raised {_error(m.error)} while computing {run.line(node)}.", "error"
    if m.kind == "backward":
        return f"{name}.backward() raised {_error(m.error)}.", "error"
    if m.kind == "forward":
        return (f"The forward pass differs first at {run.line(node)}: your engine computes {m.theirs!r}, "
                f"tracegrad {m.ours!r}. Check the forward of {_label(run, node)}."), "forward"
    if node is run.expr.output:
        return f"backward() must start from {name}.grad = 1; your engine has {m.theirs!r}.", "seed"
    return _gradient(run, node, name, m.theirs, m.ours, facts or Facts())


def _error(exc: Optional[BaseException]) -> str:
    return f"{type(exc).__name__}: {exc}"


def _label(run: Run, node: Node) -> str:
    """The op of ``node`` as the learner writes it: ``x - y``, ``x.tanh()``."""
    op = node.op
    if op is None:
        return "?"
    form = run.engine.forms.get(op.name) or FORMS[op.name]
    return form.source("x", "y", op.param or "") if form.binary else form.source("x", p=op.param or "")


Edge = Tuple[Node, int, float]
"""A use of a node by another: (that node, which of its inputs, the contribution to the gradient:
the local derivative times that node's gradient, from tracegrad)."""


def _edges(run: Run, node: Node) -> List[Edge]:
    edges = []
    for parent in run.nodes:
        if parent.op is None or not run.built(parent):
            continue
        uses = [i for i, child in enumerate(parent.children) if child is node]
        if not uses:
            continue
        args = [data_of(getattr(run.ours[id(c)], "data", run.ours[id(c)])) for c in parent.children]
        args += [] if parent.param is None else [parent.param]
        ours = run.ours[id(parent)]
        local = parent.op.grads(*args, ours.data)
        edges += [(parent, i, float(local[i]) * ours.grad) for i in uses]
    return edges


def _gradient(run: Run, node: Node, name: str, theirs: float, ours: float, facts: Facts) -> Tuple[str, Optional[str]]:
    edges = _edges(run, node)
    head = (f"The first gradient that differs, from {run.names[id(run.expr.output)]} down, is {name}.grad: "
            f"your engine has {theirs!r}, tracegrad {ours!r}.")
    kept, again = _dropped(edges, theirs), _repeated(run, edges, theirs)
    if kept and not facts.accumulates:
        return _accumulate(run, name, edges, kept, head), "accumulate"
    if again and not facts.visits_once:
        return _double(run, name, again, head), "double visit"
    one = _one_wrong(run, name, edges, theirs, facts, head)
    if one is not None:
        return one
    if kept:
        return _accumulate(run, name, edges, kept, head), "accumulate"
    if again:
        return _double(run, name, again, head), "double visit"
    parts = " + ".join(f"{c:.6g}" for _, _, c in edges)
    return f"{head} It is used {_times(len(edges))}, {_uses(run, edges)}: the sum should be {parts}.", None


def _uses(run: Run, edges: List[Edge]) -> str:
    """``both times by out = x0 * x0`` or ``by t1 = t0 * 3.0 and by out = t0 + t1``."""
    parents = list({id(p): p for p, _, _ in edges}.values())
    if len(parents) == 1:
        return f"{'both' if len(edges) == 2 else 'all'} times by {run.line(parents[0])}"
    lines = [f"by {run.line(p)}" for p in parents]
    return ", ".join(lines[:-1]) + " and " + lines[-1]


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _dropped(edges: List[Edge], theirs: float) -> Optional[Tuple[Edge, ...]]:
    """Some of the contributions, not all, that add up to the engine's gradient."""
    nonzero = [e for e in edges if not close(e[2], 0.0)]
    for size in range(1, len(nonzero)):
        for kept in itertools.combinations(nonzero, size):
            if close(sum(c for _, _, c in kept), theirs):
                return kept
    return None


def _repeated(run: Run, edges: List[Edge], theirs: float) -> Optional[Node]:
    """A node reached along several paths whose contribution, counted more than once, makes the
    engine's gradient."""
    if len(edges) > 4:
        return None
    shared = _shared(run)
    for times in itertools.product(range(1, 4), repeat=len(edges)):
        again = [p for (p, _, _), t in zip(edges, times) if t > 1]
        if again and all(id(p) in shared for p in again) and close(sum(t * c for (_, _, c), t in zip(edges, times)),
                                                                    theirs):
            return again[0]
    return None


def _accumulate(run: Run, name: str, edges: List[Edge], kept: Tuple[Edge, ...], head: str) -> str:
    parts = " + ".join(f"{c:.6g}" for _, _, c in edges)
    total = sum(c for _, _, c in edges)
    kept_text = " + ".join(f"{c:.6g}" for _, _, c in kept) if len(kept) > 1 else f"only {kept[0][2]:.6g}, one of them"
    return (f"{head} {name} is used {_times(len(edges))}, {_uses(run, edges)}, so its gradient must add up "
            f"{len(edges)} contributions: {parts} = {total:.6g}. Your engine kept {kept_text}: a gradient set "
            "with '=' where it must be added with '+='.")


def _double(run: Run, name: str, shared: Node, head: str) -> str:
    paths = _shared(run)[id(shared)]
    return (f"{head} {run.line(shared)} is reached from {run.names[id(run.expr.output)]} along {paths} paths, and "
            f"your engine ran its backward step more than once, passing its gradient to {name} again: a recursive "
            "topological sort without a visited set lists a shared node once per path. Keep a set of visited "
            "nodes, so each node goes into the order once.")


def _shared(run: Run) -> Dict[int, int]:
    """The nodes reached from the root along more than one path, with how many paths."""
    paths: Dict[int, int] = {id(run.expr.output): 1}
    for node in reversed(run.nodes):
        for child in node.children:
            paths[id(child)] = paths.get(id(child), 0) + paths.get(id(node), 0)
    return {k: n for k, n in paths.items() if n > 1}


def _one_wrong(run: Run, name: str, edges: List[Edge], theirs: float, facts: Facts,
               head: str) -> Optional[Tuple[str, Optional[str]]]:
    """The engine's gradient explained by one wrong local derivative, the others right: a sign
    flipped in ``-`` or ``/``, an op that was wrong on its own too, or the only use."""
    total = sum(c for _, _, c in edges)
    implied = []
    for parent, _, c in edges:
        upstream = run.ours[id(parent)].grad
        implied.append((theirs - (total - c)) / upstream if upstream else math.nan)
    signs = [k for k, (p, _, c) in enumerate(edges) if p.op is not None and p.op.name in ("sub", "div", "neg")
             and not close(c, 0.0) and close(theirs, total - 2 * c)]
    suspects = [k for k, (p, _, _) in enumerate(edges) if p.op is not None and p.op.name in facts.wrong_alone]
    for chosen, cause in ((signs, "sign"), (suspects, "derivative"), (list(range(len(edges))), "derivative")):
        if len(chosen) == 1:
            parent, i, c = edges[chosen[0]]
            return _local(run, name, parent, i, c, implied[chosen[0]], len(edges), head), cause
    return None


def _local(run: Run, name: str, parent: Node, i: int, contribution: float, yours: float, uses: int,
           head: str) -> str:
    op = parent.op
    if op is None:  # pragma: no cover - edges come from op nodes
        return head
    upstream = run.ours[id(parent)].grad
    local = contribution / upstream if upstream else math.nan
    formula = pretty(op.formulas[i]) if i < len(op.formulas) else "?"
    value = "" if formula == f"{local:g}" else f" = {local:.6g}"
    where = f"It comes from {run.line(parent)} alone" if uses == 1 else (
        f"Of its {uses} uses, {run.line(parent)} is the one that is off")
    text = (f"{head} {where}: local derivative × upstream gradient, with {run.names[id(parent)]}.grad = "
            f"{upstream:.6g}. The local derivative of {_label(run, parent)} with respect to {op.input_names[i]} is "
            f"{formula}{value}; your engine's is {yours:.6g}.")
    return text + (" Only the sign is wrong." if close(yours, -local) and not close(local, 0.0) else "")
