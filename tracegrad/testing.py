"""Property testing for gradients: hypothesis strategies and :func:`verify_op`.

* :func:`values` — bounded finite floats, no subnormals.
* :func:`expressions` — random expression graphs over the op table (custom ops included), with
  shared subexpressions (``a * a``, diamonds, an input used by many nodes) and every op's inputs
  inside its domain by construction. An example knows its ``inputs``, can be called on Values,
  floats or complex numbers, and its ``repr`` is Python source you can paste into a test.
* :func:`mlps` — small MLPs with an input vector.
* :func:`verify_op` — property-tests an op: the forward against a reference, partials against
  central differences, formula texts against the partials, second derivatives through
  ``create_graph``.
* :func:`check_engine` / :func:`assert_engine` — check a learner's own micrograd-style engine
  against tracegrad: each op, the classic traps and random graphs, with the smallest failing
  graph as code and its likely cause.

hypothesis is imported only when a strategy is built (``pip install 'tracegrad[test]'``).

>>> from hypothesis import given
>>> from tracegrad.gradcheck import gradcheck
>>> @given(expressions(n_inputs=2))
... def test_my_engine(e):
...     assert gradcheck(e, e.inputs)
"""

from .check.engine_check import EngineCheckError, EngineReport, Finding, assert_engine, check_engine
from .check.expression import Expression, Node
from .check.learner import EngineShapeError
from .check.strategies import expressions, mlps, values
from .check.verify import OpCheckError, verify_op

__all__ = [
    "EngineCheckError", "EngineReport", "EngineShapeError", "Expression", "Finding", "Node", "OpCheckError",
    "assert_engine", "check_engine", "expressions", "mlps", "values", "verify_op",
]
