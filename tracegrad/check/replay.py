"""Evaluating a recorded graph again, at other leaf values, with each op's own forward.

This is the forward pass of the complex step (complex leaf values) and of the checks at kinks,
which also *force* a piecewise node onto one of its pieces: a node may be given a function of
its input to use instead of its op's forward.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set

from ..engine import Value, topological_order
from ..engine.errors import DomainError, TracegradError

Piece = Callable[[Any], Any]

COMPLEX_STEP = 1e-20
"""The complex step ``h``: small enough that ``h**2`` vanishes next to any float."""


class ComplexStepError(TracegradError, TypeError):
    """The complex step cannot replay a graph: an op's forward does not take complex numbers."""


class Recording:
    """The graph below some outputs, in topological order, ready to be evaluated again.

    ``outputs`` may hold plain numbers too (an output that does not depend on any Value); they
    replay as themselves.
    """

    def __init__(self, outputs: Sequence[Any]) -> None:
        self.outputs = list(outputs)
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
            ComplexStepError: an op's forward does not accept the values, naming the op.
            DomainError: an op's forward fails on the new values.
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
            values[node] = _replay_node(op, args)
        return [(values.get(out, out.data)) if isinstance(out, Value) else out for out in self.outputs]


def replay(outputs: Sequence[Value], leaves: Mapping[Value, Any]) -> List[Any]:
    """Evaluate the graph below ``outputs`` again with some leaves given new values.

    Each node's ``op.forward`` runs on its inputs' new values, in topological order; leaves not in
    ``leaves`` keep their data. With complex leaf values this is the complex step's forward pass.

    Raises:
        ComplexStepError: an op's forward does not accept the values (e.g. it calls ``math.sin``
            on a complex number), naming the op.
        DomainError: an op's forward fails on the new values.
    """
    return Recording(outputs).run(leaves)


def _replay_node(op: Any, args: List[Any]) -> Any:
    if op.forward is None:
        raise ComplexStepError(f"{op.name}: the node has no forward rule to replay; use method='central'")
    try:
        result = op.forward(*args)
    except TypeError as exc:
        raise ComplexStepError(
            f"{op.name}: its forward cannot take complex numbers ({exc}); write it with "
            "tracegrad.ops.exp/log/sin/... or cmath so the complex step can replay it, "
            "or use method='central'"
        ) from exc
    except (ArithmeticError, ValueError) as exc:
        raise DomainError(f"{op.name}: forward failed on {args!r}: {exc}") from exc
    if not isinstance(result, (int, float, complex)):
        raise ComplexStepError(f"{op.name}: forward returned {type(result).__name__} {result!r}, not a number")
    return result
