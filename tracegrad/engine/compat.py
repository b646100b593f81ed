"""The names other minimal engines use for a node's structure, so code written for them runs
unchanged: micrograd's ``_prev`` and ``_op``, and the GPT-style engines' ``_children`` and
``_local_grads`` (whose nodes are made as ``Value(data, children, local_grads)``)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Sequence, Set, Tuple, Union

from .generic import to_float
from .ops import OPS, VARIADIC, Op

_POW = OPS["pow"]
_OPAQUE: Dict[str, Op] = {}


def opaque_op(symbol: str) -> Op:
    """An op for nodes built with micrograd's constructor: no rule, so gradients stop there."""
    if symbol not in _OPAQUE:
        _OPAQUE[symbol] = Op(
            symbol or "opaque", symbol, VARIADIC, forward=None,  # type: ignore[arg-type]
            grads=lambda *args: (0.0,) * (len(args) - 1), formulas=(),
            doc="a node made with Value(data, children, op): it has no derivative rule",
        )
    return _OPAQUE[symbol]


def _given_grads(*args: Any) -> Tuple[float, ...]:
    return args[-2]  # type: ignore[no-any-return]  # (*inputs, local_grads, out): the numbers given


GIVEN = Op(
    "given", "op", VARIADIC, forward=None, grads=_given_grads, formulas=("given",),  # type: ignore[arg-type]
    doc="a node made with Value(data, children, local_grads): its local derivatives are the numbers given",
)
"""The op of a node built as ``Value(data, children, local_grads)``: no forward rule (it cannot be
replayed or compiled), and the local derivatives it was given, kept in the node as its parameter."""


def made_elsewhere(
    children: Iterable[Any], op: Union[str, Sequence[float]], local_grads: Optional[Sequence[float]], node_type: type
) -> Tuple[Optional[Op], Any, Any]:
    """The ``(op, _a, _b)`` of a node built with another engine's constructor: micrograd's
    ``Value(data, _children, _op)`` or the GPT-style ``Value(data, children, local_grads)``."""
    if local_grads is None and not isinstance(op, str):
        local_grads = op
    inputs = tuple(children)
    for c in inputs:
        if not isinstance(c, node_type):
            raise TypeError(f"Value: children must be Values, got {type(c).__name__} {c!r}")
    if local_grads is not None:
        grads = tuple(to_float(g, "Value: each local grad") for g in local_grads)
        if len(grads) != len(inputs):
            raise ValueError(f"Value: {len(inputs)} children need {len(inputs)} local grads, got {len(grads)}")
        return (GIVEN, inputs, grads) if inputs else (None, None, None)
    return (opaque_op(str(op)), inputs, None) if inputs else (None, None, None)


class MicrogradNames:
    """``_prev``, ``_op``, ``_children`` and ``_local_grads``, read from the node (a base of Value)."""

    __slots__ = ()

    @property
    def _prev(self: Any) -> Set[Any]:
        """micrograd's name: the set of distinct inputs."""
        return set(self.inputs)

    @property
    def _op(self: Any) -> str:
        """micrograd's name: the op as a short string (``'+'``, ``'**2'``, ``'ReLU'``)."""
        op = self.op
        if op is None or op is GIVEN:
            return ""
        if op is _POW:
            return f"**{self._b}"
        return "ReLU" if op.name == "relu" else str(op.symbol)

    @property
    def _children(self: Any) -> Tuple[Any, ...]:
        """The GPT-style engines' name: the inputs in order (``inputs``)."""
        return self.inputs  # type: ignore[no-any-return]

    @property
    def _local_grads(self: Any) -> Tuple[float, ...]:
        """The GPT-style engines' name: ∂self/∂input for each input, as numbers."""
        op = self.op
        if op is None:
            return ()
        args = [v.data for v in self.inputs]
        if op.arity != 2 and self._b is not None:
            args.append(self._b)
        return tuple(float(g) for g in op.grads(*args, self.data))
