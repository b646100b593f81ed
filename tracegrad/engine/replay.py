"""Evaluating a recorded graph again at other leaf values, node by node with each op's forward.

The numerical checks use it (the complex step's forward pass, one-sided differences at kinks,
where a piecewise node may be *forced* onto one of its pieces), and so does the step-through
page's nudge (the output after one leaf is raised by ``h``). Nothing here differentiates.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set

from .autodiff import topological_order
from .ops import Op
from .value import Value, run_forward

Piece = Callable[[Any], Any]
"""A function of a unary node's input used instead of its op (one piece of a piecewise op)."""
Forward = Callable[[Op, Sequence[Any]], Any]
"""How one node is run again: ``forward(op, args)`` (the parameter, if any, is the last argument)."""


class Replay:
    """The graph below some outputs, in topological order, ready to be evaluated again.

    ``outputs`` may hold plain numbers too (an output that does not depend on any Value); they
    replay as themselves. ``forward(op, args)`` runs one node: by default the eager engine's
    checked forward (floats; a value outside an op's domain raises its DomainError); gradient
    checking passes one that takes complex numbers.
    """

    def __init__(self, outputs: Sequence[Any], forward: Optional[Forward] = None) -> None:
        self.outputs = list(outputs)
        self.forward: Forward = forward or run_forward
        order: List[Value] = []
        seen = set()
        for out in self.outputs:
            if isinstance(out, Value):
                for node in topological_order(out):
                    if node not in seen:
                        seen.add(node)
                        order.append(node)
        self.order = order
        self._users: Optional[Dict[Value, List[Value]]] = None

    def downstream(self, sources: Iterable[Value]) -> Set[Value]:
        """The nodes whose value depends on any of ``sources`` (the sources included)."""
        if self._users is None:
            self._users = {}
            for node in self.order:
                for x in node.inputs:
                    self._users.setdefault(x, []).append(node)
        found = set(sources)
        todo = list(found)
        while todo:
            for user in self._users.get(todo.pop(), ()):
                if user not in found:
                    found.add(user)
                    todo.append(user)
        return found

    def run(
        self,
        leaves: Mapping[Value, Any],
        forced: Optional[Mapping[Value, Piece]] = None,
        arguments: Optional[Dict[Value, Any]] = None,
    ) -> List[Any]:
        """The outputs with ``leaves`` given new values; other leaves keep their data.

        Args:
            leaves: new values (floats or complex numbers) for some leaves.
            forced: for some unary nodes, a function of their input to use instead of the op.
            arguments: if given, filled with the replayed input of every unary node listed in it.

        Only the nodes downstream of ``leaves`` and ``forced`` are evaluated; the others keep
        their recorded data, which is what evaluating them again would give.

        Raises:
            whatever ``forward`` raises: by default the DomainError of an op given a value outside
            its domain.
        """
        values: Dict[Value, Any] = dict(leaves)
        moved = self.downstream([*leaves, *(forced or ())])  # the rest keep their recorded data
        for node in self.order:
            if node in values:
                continue
            op = node.op
            if op is None or node not in moved:
                if arguments is not None and node in arguments:
                    arguments[node] = node.inputs[0].data
                continue
            args = [values.get(v, v.data) for v in node.inputs]
            if arguments is not None and node in arguments:
                arguments[node] = args[0]
            piece = forced.get(node) if forced else None
            if piece is not None:
                values[node] = piece(args[0])
                continue
            if node.param is not None:
                args.append(node.param)
            values[node] = self.forward(op, args)
        return [(values.get(out, out.data)) if isinstance(out, Value) else out for out in self.outputs]
