"""hypothesis strategies for gradient tests: numbers, random expression graphs, small MLPs.

* :func:`values` — bounded finite floats, no subnormals.
* :func:`expressions` — random expression graphs over the op table (custom ops included), with
  shared subexpressions (``a * a``, diamonds, an input used by many nodes) and every op's inputs
  inside its domain by construction. An example knows its ``inputs``, can be called on Values,
  floats or complex numbers, and its ``repr`` is Python source you can paste into a test.
* :func:`mlps` — small MLPs with an input vector.

hypothesis is imported only when a strategy is built (``pip install 'tracegrad[test]'``). The
public home of these is :mod:`tracegrad.testing`.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from ..engine.ops import ANYWHERE, OPS, VARIADIC, Domain, Op
from ..nn.mlp import MLP
from .expression import BUILTIN, Expression, Node, run_checked

if TYPE_CHECKING:  # pragma: no cover
    from hypothesis.strategies import SearchStrategy

__all__ = ["Expression", "Node", "expressions", "mlps", "values"]


def hypothesis_strategies() -> Any:
    try:
        from hypothesis import strategies
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise ImportError("tracegrad.testing needs hypothesis: pip install 'tracegrad[test]'") from exc
    return strategies


# --- numbers


def values(
    min_value: float = -5.0,
    max_value: float = 5.0,
    *,
    domain: Optional[Domain] = None,
    allow_subnormal: bool = False,
) -> SearchStrategy[float]:
    """Finite floats in ``[min_value, max_value]``, or in a :class:`~tracegrad.ops.Domain`.

    >>> from hypothesis import given
    >>> from tracegrad import Value
    >>> @given(values(0.1, 10.0))
    ... def test_log_then_exp_is_the_identity(x):
    ...     assert abs(Value(x).log().exp().data - x) <= 1e-12 * x
    >>> test_log_then_exp_is_the_identity()
    """
    st = hypothesis_strategies()
    intervals = domain.intervals if domain is not None else ((min_value, max_value),)
    for lo, hi in intervals:
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ValueError(f"values: need finite bounds with min <= max, got ({lo!r}, {hi!r})")
    floats = [
        st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=allow_subnormal)
        for lo, hi in intervals
    ]
    strategy: SearchStrategy[float] = st.one_of(*floats)
    return strategy


@functools.cache
def _grid(domain: Domain, margin: float = 0.01) -> SearchStrategy[float]:
    """Numbers with two decimals inside ``domain``, ``margin`` away from its ends: readable
    constants for printed examples. Shrinks towards 0 (or the end nearest to it)."""
    st = hypothesis_strategies()
    choices = []
    for lo, hi in domain.intervals:
        a, b = math.ceil(round((lo + margin) * 100, 6)), math.floor(round((hi - margin) * 100, 6))
        if a > b:
            a = b = round((lo + hi) * 50)
        choices.append(st.integers(a, b).map(lambda k: k / 100))
    strategy: SearchStrategy[float] = st.one_of(*choices)
    return strategy


# --- expression graphs


def _make(op: Op, children: Sequence[Node], param: Optional[float]) -> Node:
    st_assume = _assume()
    args = [c.value for c in children] + ([] if param is None else [param])
    value = float(run_checked(op, args))
    st_assume(math.isfinite(value))
    return Node(value, op, tuple(children), param)


def _assume() -> Any:
    from hypothesis import assume

    return assume


_ADD, _SUB = OPS["add"], OPS["sub"]
_CONSTANTS = (2.0, 0.5, -1.5, 3.0)
KINK_OFFSETS = (0.0, 0.0, 1e-15, -1e-15, 1e-9, -1e-9, 3e-7, -3e-7, 1e-6, -1e-6, 2e-6, -2e-6)
"""How far from a kink ``expressions(kinks=True)`` places a piecewise op's input: on it, within
the rounding of a float, within ``eps = 1e-6`` of central differences, and just beyond."""


def _fit(child: Node, domain: Domain, target: float) -> Node:
    """``child`` itself if its value lies in ``domain``, else ``child + c`` landing near ``target``."""
    if domain.contains(child.value):
        return child
    shift = round(target - child.value, 2)
    if not domain.contains(child.value + shift):
        shift = target - child.value
    if shift < 0:  # x - 4.25 reads better than x + -4.25 (and is the same float)
        return _make(_SUB, [child, Node(-shift)], None)
    return _make(_ADD, [child, Node(shift)], None)


def _place(child: Node, target: float) -> Node:
    """``child`` itself if it is ``target``, else ``child + (target - child)``, as near as floats get."""
    if child.value == target:
        return child
    shift = target - child.value
    if shift < 0:
        return _make(_SUB, [child, Node(-shift)], None)
    return _make(_ADD, [child, Node(shift)], None)


def domains(op: Op, n: int) -> Tuple[Domain, ...]:
    """Where each of ``n`` inputs of ``op`` is drawn from (a variadic op's one domain serves all)."""
    if not op.domain:
        return (ANYWHERE,) * n
    return tuple(op.domain) if op.arity != VARIADIC else (op.domain[0],) * n


def _resolve_ops(selection: Optional[Iterable[Union[str, Op]]]) -> List[Op]:
    if selection is None:
        return [op for op in OPS.values() if op.forward is not None]
    chosen = []
    for item in selection:
        if isinstance(item, Op):
            chosen.append(item)
        elif item in OPS:
            chosen.append(OPS[item])
        else:
            raise ValueError(f"expressions: unknown op {item!r} (known: {', '.join(sorted(OPS))})")
    if not chosen:
        raise ValueError("expressions: ops must name at least one op")
    return chosen


def expressions(
    n_inputs: int = 2,
    ops: Optional[Iterable[Union[str, Op]]] = None,
    max_leaves: int = 8,
    *,
    inputs: Optional[SearchStrategy[float]] = None,
    kinks: bool = False,
) -> SearchStrategy[Expression]:
    """Random expression graphs over ``ops`` (default: every op in the table, custom ones too).

    Built with ``st.recursive``; shared subexpressions appear as ``a * a``-style double edges,
    diamonds (``g(a) + h(a)``) and inputs used by many nodes. Each op's inputs are placed
    inside its :class:`~tracegrad.ops.Domain` by adding a constant where needed, so nothing is
    filtered and every value stays bounded.

    Args:
        n_inputs: how many inputs the graph has (``x0``, ``x1``, ...).
        ops: op names or :class:`~tracegrad.ops.Op` objects to draw from.
        max_leaves: bound on the leaves of each tree ``st.recursive`` draws (up to four
            such trees are joined into one graph).
        inputs: strategy for the input values (default ``values(-3, 3)``).
        kinks: place the input of every piecewise op (``relu``, ``abs``, ``leaky_relu``, ``step``,
            ``sign``: the ops with ``kinks`` in the table) on or near its kink (see
            :data:`KINK_OFFSETS`) instead of inside its domain, to test gradient checks there.

    >>> from hypothesis import given, settings
    >>> from tracegrad.gradcheck import gradcheck
    >>> @settings(max_examples=20)
    ... @given(expressions(n_inputs=2, ops=["mul", "tanh", "log"]))
    ... def test_gradients(e):
    ...     assert gradcheck(e, e.inputs, method="complex")
    >>> test_gradients()

    A failing example prints as source, e.g.::

        from tracegrad import log, tanh


        def f(x0, x1):
            t0 = tanh(x0 * x1)
            return log(t0 * t0 + 0.25)


        inputs = [0.5, -1.25]
    """
    st = hypothesis_strategies()
    if not (isinstance(n_inputs, int) and n_inputs >= 1):
        raise ValueError(f"expressions: n_inputs must be an int >= 1, got {n_inputs!r}")
    if not (isinstance(max_leaves, int) and max_leaves >= 1):
        raise ValueError(f"expressions: max_leaves must be an int >= 1, got {max_leaves!r}")
    chosen = _resolve_ops(ops)
    points = inputs if inputs is not None else values(-3.0, 3.0)

    leaf = st.integers(0, n_inputs - 1).map(lambda i: _Spec(index=i))
    shapes = st.recursive(leaf, lambda children: _extend(st, chosen, children, kinks), max_leaves=max_leaves)
    binary = [op for op in chosen if op.arity == 2]

    @st.composite  # type: ignore[misc,untyped-decorator]
    def graphs(draw: Any) -> Expression:
        # composite, not map: hypothesis then prints a failing example with its repr, the source
        xs = draw(st.lists(points, min_size=n_inputs, max_size=n_inputs))
        root = draw(shapes)
        # st.recursive favours small trees: join up to three more with binary ops, sometimes
        # reusing a node from far down the graph (a node used by several others)
        for _ in range(draw(st.integers(0, 3)) if binary else 0):
            partner = draw(st.one_of(shapes, st.sampled_from(_specs_below(root))))
            root = _drawn(draw, draw(st.sampled_from(binary)), [root, partner], kinks)
        return Expression(_build(root, xs, {}), xs)

    strategy: SearchStrategy[Expression] = graphs()
    return strategy


class _Spec:
    """The drawn shape of a node, before the inputs' values are known: an input, a constant, or
    an op with its children's specs, the points to move each input to if it is outside the op's
    domain, and the parameter. A spec used twice becomes one node used twice."""

    __slots__ = ("children", "const", "exact", "index", "op", "param", "targets")

    def __init__(
        self, op: Optional[Op] = None, children: Sequence[_Spec] = (), targets: Sequence[float] = (),
        param: Optional[float] = None, index: Optional[int] = None, const: float = 0.0, exact: bool = False,
    ) -> None:
        self.op, self.children, self.targets, self.param = op, tuple(children), tuple(targets), param
        self.index, self.const, self.exact = index, const, exact


def _specs_below(root: _Spec) -> List[_Spec]:
    """Every spec in the graph below ``root``, once each, in a fixed order."""
    found: List[_Spec] = []
    seen = set()
    stack = [root]
    while stack:
        spec = stack.pop()
        if id(spec) not in seen:
            seen.add(id(spec))
            found.append(spec)
            stack.extend(spec.children)
    return found


def _build(spec: _Spec, xs: Sequence[float], made: Dict[int, Node]) -> Node:
    """The node for ``spec`` at inputs ``xs`` (one node per spec, so sharing is kept)."""
    node = made.get(id(spec))
    if node is None:
        if spec.index is not None:
            node = Node(xs[spec.index], index=spec.index)
        elif spec.op is None:
            node = Node(spec.const)
        else:
            kids = [_build(c, xs, made) for c in spec.children]
            node = _fitted(spec.op, kids, spec.targets, spec.param, spec.exact)
        made[id(spec)] = node
    return node


def _extend(st: Any, chosen: List[Op], children: Any, kinks: bool) -> Any:
    """One level more: an op over children (the same child on every edge, or a constant on one
    edge, sometimes), or a diamond ``b(g(c), h(c))``."""
    constant = st.sampled_from(_CONSTANTS).map(lambda c: _Spec(const=c))
    unary = [op for op in chosen if op.arity == 1]
    binary = [op for op in chosen if op.arity == 2]

    @st.composite  # type: ignore[misc,untyped-decorator]
    def applied(draw: Any) -> _Spec:
        op = draw(st.sampled_from(chosen))
        n = draw(input_counts(op))
        shape = draw(st.integers(0, 3)) if n >= 2 else 0
        if shape == 1:  # a * a
            kids = [draw(children)] * n
        elif shape == 2:  # a constant on the first edge: 2.0 ** x
            kids = [draw(constant), *[draw(children)] * (n - 1)]
        elif shape == 3:  # a constant on the last edge: x * 0.5
            kids = [*[draw(children)] * (n - 1), draw(constant)]
        else:
            kids = [draw(children) for _ in range(n)]
        return _drawn(draw, op, kids, kinks)

    @st.composite  # type: ignore[misc,untyped-decorator]
    def diamond(draw: Any) -> _Spec:
        c = draw(children)
        g, h, b = draw(st.sampled_from(unary)), draw(st.sampled_from(unary)), draw(st.sampled_from(binary))
        return _drawn(draw, b, [_drawn(draw, g, [c], kinks), _drawn(draw, h, [c], kinks)], kinks)

    return st.one_of(applied(), diamond()) if unary and binary else applied()


def _drawn(draw: Any, op: Op, kids: Sequence[_Spec], kinks: bool = False) -> _Spec:
    """The spec of ``op`` over ``kids``, with where to move each input and the parameter."""
    param = draw(_grid(op.param_domain or ANYWHERE)) if op.param is not None else None
    if kinks and op.kinks and op.arity == 1:
        at = draw(_sampled(tuple(k[0] for k in op.kinks)))
        return _Spec(op, kids, [at + draw(_sampled(KINK_OFFSETS))], param, exact=True)
    targets = [draw(_grid(d)) for d in domains(op, len(kids))]
    return _Spec(op, kids, targets, param)


@functools.cache
def _sampled(choices: Tuple[float, ...]) -> Any:
    return hypothesis_strategies().sampled_from(choices)


def _fitted(op: Op, kids: Sequence[Node], targets: Sequence[float], param: Optional[float], exact: bool) -> Node:
    if exact:
        return _make(op, [_place(k, t) for k, t in zip(kids, targets)], param)
    wanted = domains(op, len(kids))
    return _make(op, [_fit(k, d, t) for k, d, t in zip(kids, wanted, targets)], param)


@functools.cache
def input_counts(op: Op) -> Any:
    """Strategy for how many inputs ``op`` takes: its arity, or a count a variadic op accepts."""
    st = hypothesis_strategies()
    if op.arity != VARIADIC:
        return st.just(op.arity)
    if op is BUILTIN.get("linear") or op is BUILTIN.get("linear_relu"):
        return st.integers(1, 3).map(lambda m: 2 * m + 1)
    return st.integers(2, 4)


# --- MLPs


def mlps(
    nin: Union[int, Tuple[int, int]] = (1, 3),
    nouts: Optional[Sequence[int]] = None,
    *,
    max_layers: int = 2,
    max_width: int = 3,
    activation: str = "tanh",
) -> SearchStrategy[Tuple[Any, List[float]]]:
    """Small :class:`tracegrad.nn.MLP` models with an input vector: ``(model, xs)``.

    Weights are drawn from a seeded generator; both the fine-grained and the fused neuron graph
    are drawn.

    Args:
        nin: the number of inputs, or a ``(min, max)`` range to draw it from.
        nouts: fixed layer sizes; by default 1 to ``max_layers`` layers of 1 to ``max_width``.
        activation: the hidden layers' activation (``tanh`` is smooth, so numerical gradients
            are meaningful everywhere).

    >>> from hypothesis import given, settings
    >>> from tracegrad.gradcheck import gradcheck
    >>> @settings(max_examples=10)
    ... @given(mlps(nin=2))
    ... def test_mlp_input_gradients(case):
    ...     model, xs = case
    ...     assert gradcheck(lambda *x: model(list(x)), xs, method="complex")
    >>> test_mlp_input_gradients()
    """
    st = hypothesis_strategies()

    lo, hi = (nin, nin) if isinstance(nin, int) else nin
    if nouts is not None:
        sizes = st.just(list(nouts))
    else:  # hidden layers of width >= 2: a layer of one neuron returns a Value, not a list
        hidden = st.lists(st.integers(2, max(2, max_width)), max_size=max_layers - 1)
        sizes = st.tuples(hidden, st.integers(1, max_width)).map(lambda t: [*t[0], t[1]])

    def build(n: int, layers: List[int], seed: int, fused: bool, xs: List[float]) -> Tuple[Any, List[float]]:
        return MLP(n, layers, activation=activation, rng=seed, fused=fused), xs

    def of_size(n: int) -> Any:
        xs = st.lists(values(-2.0, 2.0), min_size=n, max_size=n)
        return st.builds(build, st.just(n), sizes, st.integers(0, 2**32 - 1), st.booleans(), xs)

    strategy: SearchStrategy[Tuple[Any, List[float]]] = st.integers(lo, hi).flatmap(of_size)
    return strategy
