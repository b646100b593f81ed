"""Property testing for gradients: hypothesis strategies and :func:`verify_op`.

* :func:`values` — bounded finite floats, no subnormals.
* :func:`expressions` — random expression graphs over the op table (custom ops included), with
  shared subexpressions (``a * a``, diamonds, an input used by many nodes) and every op's inputs
  inside its domain by construction. An example knows its ``inputs``, can be called on Values,
  floats or complex numbers, and its ``repr`` is Python source you can paste into a test.
* :func:`mlps` — small MLPs with an input vector.
* :func:`verify_op` — property-tests an op: partials against central differences, formula texts
  against the partials, second derivatives through ``create_graph``.

hypothesis is imported only when a strategy is built (``pip install 'tracegrad[test]'``).

>>> from hypothesis import given
>>> from tracegrad.gradcheck import gradcheck
>>> @given(expressions(n_inputs=2))
... def test_my_engine(e):
...     assert gradcheck(e, e.inputs)
"""

from .check.expression import Expression, Node
from .check.strategies import expressions, mlps, values
from .check.verify import OpCheckError, verify_op

__all__ = ["Expression", "Node", "OpCheckError", "expressions", "mlps", "values", "verify_op"]
