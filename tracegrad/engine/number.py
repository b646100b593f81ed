"""What a learner expects of a number, for Value: ``float(v)``, ``f"{v:.4f}"``, ``round(v, 3)``,
``v > 0``, ``max(values)``, ``sorted(values)``, ``math.exp(v)``.

These read the Value's data and give plain Python numbers: they are *not* part of the graph,
so no gradient flows through them (differentiable are the arithmetic operators and the ops).

Equality and truth are about the node, not its number, so that Values stay hashable by
identity (the engine's sets and dicts, and yours, rely on it):

* ``a == b`` for two Values is ``a is b``, whatever their data;
* ``v == 2`` (a Value and a number) raises a ``TypeError`` saying to compare ``v.data``, rather
  than answering a silent False;
* ``bool(v)`` is True for every Value, as for any object (and in micrograd), so ``v or default``
  works as it reads; ask about the number with ``v.data != 0`` or ``v > 0``.
"""

from __future__ import annotations

import numbers
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Optional, Union

from .generic import to_float

data_of = attrgetter("_data")
"""``data_of(v)`` is ``v.data`` read straight from the slot, for the engine's hot loops."""


def checked_data(x: Any) -> float:
    """``x`` as a Value's data: a plain float, or a TypeError naming what it is."""
    if isinstance(x, NumberLike):
        raise TypeError("Value: data must be a number, got a Value; use its .data (or .detach() for a new leaf)")
    return to_float(x)


def set_data(v: Any, x: Any) -> None:
    """``v.data = x``, checked: a float goes in as it is, anything else through :func:`checked_data`."""
    v._data = x if x.__class__ is float else checked_data(x)


class NumberLike:
    """The number protocol of a node holding its number in the slot ``_data`` (a base of Value)."""

    __slots__ = ()
    _data: float

    if TYPE_CHECKING:

        @property
        def data(self) -> float: ...

        @data.setter
        def data(self, x: Any) -> None: ...

    else:  # read by the slot's own C getter (no Python frame); assignment is checked
        data = property(data_of, set_data, doc="The float this node holds; assigning a non-number raises TypeError.")

    def __float__(self) -> float:
        """The data: ``float(v)``, and what ``math.exp(v)`` and friends read (not differentiable)."""
        return self._data

    def __int__(self) -> int:
        """``int(v.data)``: truncated towards 0, as for a float."""
        return int(self._data)

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the data; ``f"{v}"`` shows the Value as ``repr`` does."""
        return format(self._data, spec) if spec else str(self)

    def __round__(self, ndigits: Optional[int] = None) -> Union[int, float]:
        """``round(v, 3)``: the data rounded, as a float (an int without ``ndigits``)."""
        return round(self._data, ndigits)

    # ordering compares the data, so that max, min and sorted work; it returns a bool, not a Value

    def __lt__(self, other: Any) -> bool:
        o = _number(other)
        return NotImplemented if o is NotImplemented else self._data < o  # type: ignore[no-any-return]

    def __le__(self, other: Any) -> bool:
        o = _number(other)
        return NotImplemented if o is NotImplemented else self._data <= o  # type: ignore[no-any-return]

    def __gt__(self, other: Any) -> bool:
        o = _number(other)
        return NotImplemented if o is NotImplemented else self._data > o  # type: ignore[no-any-return]

    def __ge__(self, other: Any) -> bool:
        o = _number(other)
        return NotImplemented if o is NotImplemented else self._data >= o  # type: ignore[no-any-return]

    # equality and truth are the node's: see the module docstring

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NumberLike):
            return self is other
        if isinstance(other, numbers.Number):
            raise TypeError(
                f"Value == {other!r}: == compares graph nodes (by identity), not numbers; "
                f"compare the data instead: v.data == {other!r}"
            )
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, NumberLike):
            return self is not other
        if isinstance(other, numbers.Number):
            raise TypeError(
                f"Value != {other!r}: != compares graph nodes (by identity), not numbers; "
                f"compare the data instead: v.data != {other!r}"
            )
        return NotImplemented

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        """Always True, as for any object (and in micrograd): ``if v:`` and ``v or default`` ask
        whether there is a node, never about its number; for that, write ``v.data != 0``."""
        return True


def _number(x: Any) -> Any:
    """The number to compare with: a Value's data, a real number, else NotImplemented."""
    if isinstance(x, NumberLike):
        return x._data
    if isinstance(x, numbers.Real):
        return x
    return NotImplemented

