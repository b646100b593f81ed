"""micrograd's names for a node's structure, so code written for micrograd runs unchanged."""

from __future__ import annotations

from typing import Any, Set

from .ops import OPS

_POW = OPS["pow"]


class MicrogradNames:
    """``_prev`` and ``_op``, read from the node's own ``inputs`` and ``op`` (a base of Value)."""

    __slots__ = ()

    @property
    def _prev(self: Any) -> Set[Any]:
        """micrograd's name: the set of distinct inputs."""
        return set(self.inputs)

    @property
    def _op(self: Any) -> str:
        """micrograd's name: the op as a short string (``'+'``, ``'**2'``, ``'ReLU'``)."""
        op = self.op
        if op is None:
            return ""
        if op is _POW:
            return f"**{self._b}"
        return "ReLU" if op.name == "relu" else str(op.symbol)
