"""Making a failing graph smaller by its structure, after hypothesis has shrunk its choices.

hypothesis shrinks the choices a strategy made, which leaves a graph small but not always the
smallest: a node may still stand where one of its inputs would fail as well. :func:`simplify`
tries, again and again, each op node replaced by one of its inputs (the graph is recomputed, and
a replacement that leaves an op's domain is skipped) or by a constant of its value, and keeps
the first smaller graph that still fails, until none does.

>>> from tracegrad.engine.ops import OPS
>>> from tracegrad.check.expression import Expression, Node
>>> x = Node(1.0, index=0)
>>> t = Node(2.0, OPS["add"], (x, x))
>>> big = Expression(Node(2.0 ** 0.5, OPS["sqrt"], (t,)), [1.0])
>>> small = simplify(big, lambda e: "add" in e.op_names)
>>> small.op_names
['add']
"""

from __future__ import annotations

import math
from typing import Callable, Dict, Iterator, Optional

from ..engine.errors import DomainError
from .expression import Expression, Node, run_checked

__all__ = ["one_node_per_input", "simplify"]


def simplify(expr: Expression, fails: Callable[[Expression], bool], *, budget: int = 200) -> Expression:
    """The smallest graph reachable from ``expr`` by replacing op nodes with their inputs for
    which ``fails`` still holds (at most ``budget`` tries)."""
    tries = 0
    improved = True
    while improved and tries < budget:
        improved = False
        for candidate in _smaller(expr):
            tries += 1
            if fails(candidate):
                expr, improved = candidate, True
                break
            if tries >= budget:
                break
    return expr


def _smaller(expr: Expression) -> Iterator[Expression]:
    """Each graph with one op node replaced by one of its inputs (not a constant), root first;
    then each op node below the root replaced by a constant of its value (the rest of the graph
    keeps its values), as long as the graph still depends on an input."""
    nodes = expr.nodes()
    for node in reversed(nodes):
        if node.op is None:
            continue
        seen = set()
        for child in node.children:
            if id(child) in seen or (child.op is None and child.index is None):
                continue
            seen.add(id(child))
            smaller = _replace(expr, node, child)
            if smaller is not None:
                yield smaller
    for node in reversed(nodes):
        if node.op is not None and node is not expr.output:
            frozen = _rebuild(expr, {id(node): Node(node.value)})
            if frozen is not None and any(n.index is not None for n in frozen.nodes()):
                yield frozen


def _replace(expr: Expression, target: Node, by: Node) -> Optional[Expression]:
    """``expr`` with ``target`` replaced by ``by``, every value recomputed; None if an op's input
    leaves its domain or a value is not finite."""
    return _rebuild(expr, {id(target): by})


def one_node_per_input(expr: Expression) -> Expression:
    """``expr`` with every use of an input going to one node (a generated graph may hold several
    nodes for ``x0``), so that each input is one leaf in any engine and in the printed code."""
    first: Dict[int, Node] = {}
    same = {}
    for node in expr.nodes():
        if node.index is not None:
            same[id(node)] = first.setdefault(node.index, node)
    if all(same[id(n)] is n for n in expr.nodes() if n.index is not None):
        return expr
    rebuilt = _rebuild(expr, {k: n for k, n in same.items() if id(n) != k})
    return expr if rebuilt is None else rebuilt


def _rebuild(expr: Expression, substitutes: Dict[int, Node]) -> Optional[Expression]:
    made: Dict[int, Node] = {}
    try:
        for node in expr.nodes():  # inputs before the nodes that use them, so a substitute comes first
            if id(node) in substitutes:
                made[id(node)] = made.get(id(substitutes[id(node)]), substitutes[id(node)])
            elif node.op is None:
                made[id(node)] = node
            else:
                kids = tuple(made[id(c)] for c in node.children)
                extra = [] if node.param is None else [node.param]
                value = float(run_checked(node.op, [k.value for k in kids] + extra))
                if not math.isfinite(value):
                    return None
                made[id(node)] = Node(value, node.op, kids, node.param)
    except (DomainError, ArithmeticError, ValueError):
        return None
    return Expression(made[id(expr.output)], expr.inputs)
