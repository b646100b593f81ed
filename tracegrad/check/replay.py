"""The complex step's forward pass: the recorded graph run again on complex leaf values.

:class:`~tracegrad.engine.replay.Replay` walks the graph; here each node runs its op's own
forward on complex numbers, and an op that cannot take them is named (:class:`ComplexStepError`).
"""

from __future__ import annotations

from typing import Any, List, Mapping, Sequence

from ..engine import Value
from ..engine.errors import DomainError, TracegradError
from ..engine.replay import Replay

COMPLEX_STEP = 1e-20
"""The complex step ``h``: small enough that ``h**2`` vanishes next to any float."""


class ComplexStepError(TracegradError, TypeError):
    """The complex step cannot replay a graph: an op's forward does not take complex numbers."""


def complex_replay(outputs: Sequence[Any]) -> Replay:
    """The graph below ``outputs``, replayed with forwards that take complex numbers (the complex step)."""
    return Replay(outputs, forward=complex_forward)


def replay(outputs: Sequence[Value], leaves: Mapping[Value, Any]) -> List[Any]:
    """Evaluate the graph below ``outputs`` again with some leaves given new values.

    Each node's ``op.forward`` runs on its inputs' new values, in topological order; leaves not in
    ``leaves`` keep their data. With complex leaf values this is the complex step's forward pass.

    Raises:
        ComplexStepError: an op's forward does not accept the values (e.g. it calls ``math.sin``
            on a complex number), naming the op.
        DomainError: an op's forward fails on the new values.
    """
    return complex_replay(outputs).run(leaves)


def complex_forward(op: Any, args: Sequence[Any]) -> Any:
    """One node's own forward on floats or complex numbers; errors name the op and say what to do."""
    if op.forward is None:
        raise ComplexStepError(f"{op.name}: the node has no forward rule to replay; use method='central'")
    try:
        result = op.forward(*args)
    except TypeError as exc:
        raise ComplexStepError(
            f"{op.name}: its forward cannot take complex numbers ({exc}); write it with "
            "tracegrad.engine.generic's exp/log/sin/... or cmath so the complex step can replay it, "
            "or use method='central'"
        ) from exc
    except (ArithmeticError, ValueError) as exc:
        raise DomainError(f"{op.name}: forward failed on {args!r}: {exc}") from exc
    if not isinstance(result, (int, float, complex)):
        raise ComplexStepError(f"{op.name}: forward returned {type(result).__name__} {result!r}, not a number")
    return result
