"""Strategies for tracegrad's types, registered with hypothesis when hypothesis is imported.

hypothesis runs every function of its ``hypothesis`` entry-point group when it is imported;
tracegrad's is :func:`register_strategies`. Then ``st.from_type(Value)`` and a type-annotated
``@given`` draw tracegrad objects:

* ``Value`` — a leaf Value holding a number from :func:`~tracegrad.check.strategies.values`
  (finite, in [-5, 5], no subnormals);
* ``Expression`` — a random expression graph from :func:`~tracegrad.check.strategies.expressions`.

>>> from hypothesis import given, settings, strategies as st
>>> from tracegrad import Value
>>> @settings(max_examples=5)
... @given(st.from_type(Value))
... def test_leaf(x):
...     assert isinstance(x, Value) and -5 <= x.data <= 5
>>> test_leaf()
"""

from __future__ import annotations

from typing import Any


def register_strategies() -> None:
    """Register strategies for ``Value`` and ``Expression`` (the hypothesis entry point)."""
    from hypothesis import strategies as st

    from ..engine import Value
    from .expression import Expression
    from .strategies import expressions, values

    def leaf_values(_: Any) -> Any:
        return values().map(Value)

    def graphs(_: Any) -> Any:
        return expressions()

    st.register_type_strategy(Value, leaf_values)
    st.register_type_strategy(Expression, graphs)
