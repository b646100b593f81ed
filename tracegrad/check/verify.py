"""verify_op: property-tests an op's partials, formula texts and second derivatives.

The partials are checked against central differences, the formula texts against the partials,
and the second derivatives through ``create_graph``, at inputs drawn inside the op's domain.
The public home of it is :mod:`tracegrad.testing`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..engine import Value, apply, grad
from ..engine.errors import TracegradError
from ..engine.expr import ExpressionError, evaluate
from ..engine.generic import FORMULA_FUNCTIONS
from ..engine.ops import ANYWHERE, OPS, VARIADIC, Op
from .expression import BUILTIN
from .strategies import domains, hypothesis_strategies, input_counts, values

__all__ = ["OpCheckError", "verify_op"]

class OpCheckError(TracegradError, AssertionError):
    """An op's partials, formula texts or second derivatives are wrong; the message says where."""


def _arguments(op: Op) -> Any:
    """Strategy for ``(inputs, param)`` inside the op's domain."""
    st = hypothesis_strategies()
    param = values(domain=op.param_domain or ANYWHERE) if op.param is not None else st.none()

    def inputs(n: int) -> Any:
        return st.tuples(*[values(domain=d) for d in domains(op, n)]).map(list)

    return st.tuples(input_counts(op).flatmap(inputs), param)


def _names_of(op: Op, n: int) -> List[str]:
    return list(op.input_names) if op.arity != VARIADIC else [f"x{i}" for i in range(n)]


def _describe(op: Op, xs: Sequence[float], param: Optional[float]) -> str:
    parts = [f"{name}={x!r}" for name, x in zip(_names_of(op, len(xs)), xs)]
    if param is not None:
        parts.append(f"{op.param}={param!r}")
    return ", ".join(parts)


def _partials(op: Op, xs: Sequence[Any], param: Optional[float], out: Any) -> List[Any]:
    args = list(xs) + ([] if param is None else [param])
    result = list(op.grads(*args, out))
    if len(result) != len(xs):
        raise OpCheckError(f"{op.name}: grads returned {len(result)} partials for {len(xs)} inputs")
    return result


def _close(a: float, b: float, atol: float, rtol: float) -> bool:
    return a == b or abs(a - b) <= atol + rtol * abs(b)


def _central(fn: Any, xs: List[float], i: int, rel_step: float) -> List[float]:
    h = rel_step * max(1.0, abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return [(p - m) / (up[i] - down[i]) for p, m in zip(fn(up), fn(down))]


def _formula_values(op: Op, xs: Sequence[float], param: Optional[float], out: float) -> List[Tuple[int, str, Any]]:
    """``(input position, formula text, its value)`` for every partial with checkable text."""
    fns = FORMULA_FUNCTIONS
    base: Dict[str, Any] = {"out": out}
    if param is not None and op.param is not None:
        base[op.param] = param
    if op.arity != VARIADIC:
        variables = dict(base, **dict(zip(op.input_names, xs)))
        return [(i, text, evaluate(text, variables, fns)) for i, text in enumerate(op.formulas)]
    if op is BUILTIN.get("linear") or op is BUILTIN.get("linear_relu"):
        m = (len(xs) - 1) // 2
        result = []
        for i in range(m):
            pair = dict(base, w_i=xs[i], x_i=xs[m + i])
            result.append((i, op.formulas[0], evaluate(op.formulas[0], pair, fns)))
            result.append((m + i, op.formulas[1], evaluate(op.formulas[1], pair, fns)))
        result.append((2 * m, op.formulas[2], evaluate(op.formulas[2], base, fns)))
        return result
    if len(op.formulas) == 1:
        return [
            (i, op.formulas[0], evaluate(op.formulas[0], dict(base, x=x, x_i=x), fns)) for i, x in enumerate(xs)
        ]
    return []


def _check_point(
    op: Op, xs: List[float], param: Optional[float], second_order: bool, rel_step: float, atol: float, rtol: float,
    reference: Optional[Callable[..., Any]] = None,
) -> None:
    where = _describe(op, xs, param)
    extra = [] if param is None else [param]
    if op.check is not None and op.check(*xs, *extra):
        raise OpCheckError(f"{op.name}: its domain contains {where}, but its check refuses it: {op.check(*xs, *extra)}")

    def forward(point: List[float]) -> List[float]:
        return [float(op.forward(*point, *extra))]

    out = forward(xs)[0]
    if reference is not None:
        _check_reference(op, reference, xs, extra, out, where, atol, rtol)
    partials = [float(p) for p in _partials(op, xs, param, out)]
    names = _names_of(op, len(xs))
    for i, analytic in enumerate(partials):
        (numeric,) = _central(forward, xs, i, rel_step)
        if not _close(analytic, numeric, atol, rtol):
            raise OpCheckError(
                f"{op.name}: ∂out/∂{names[i]} is wrong at {where}: the partial gives {analytic:.10g}, "
                f"central differences give {numeric:.10g}"
            )
    try:
        formulas = _formula_values(op, xs, param, out)
    except ExpressionError as exc:
        raise OpCheckError(f"{op.name}: a formula text fails at {where}: {exc}") from exc
    for i, text, value in formulas:
        if not _close(float(value), partials[i], 1e-12, 1e-9):
            raise OpCheckError(
                f"{op.name}: the formula text {text!r} for ∂out/∂{names[i]} gives {float(value)!r} at {where}, "
                f"but the partial function gives {partials[i]!r}"
            )
    if second_order:
        _check_second_order(op, xs, param, names, where, rel_step, atol, rtol)


def _check_reference(
    op: Op, reference: Callable[..., Any], xs: List[float], extra: List[float], out: float, where: str,
    atol: float, rtol: float,
) -> None:
    """The forward against an independent function: a wrong forward with a derivative that
    matches it passes every derivative check, but not this one."""
    try:
        expected = float(reference(*xs, *extra))
    except Exception as exc:
        raise OpCheckError(f"{op.name}: the reference raised {type(exc).__name__}: {exc} at {where}") from exc
    if not _close(out, expected, atol, rtol):
        raise OpCheckError(
            f"{op.name}: the forward is wrong at {where}: it gives {out:.10g}, the reference gives {expected:.10g}"
        )


def _check_second_order(
    op: Op, xs: List[float], param: Optional[float], names: List[str], where: str,
    rel_step: float, atol: float, rtol: float,
) -> None:
    leaves = [Value(x) for x in xs]
    try:
        firsts = _partials(op, leaves, param, apply(op, *leaves, param=param))
    except (TypeError, AttributeError) as exc:
        raise OpCheckError(
            f"{op.name}: its partials cannot be evaluated on Values ({exc}), so create_graph=True "
            "cannot differentiate them again; write them with tracegrad.engine.generic's exp/log/sin/... or pass "
            "second_order=False"
        ) from exc

    def first_partials(point: List[float]) -> List[float]:
        extra = [] if param is None else [param]
        return [float(p) for p in _partials(op, point, param, op.forward(*point, *extra))]

    for j, first in enumerate(firsts):
        if isinstance(first, Value):
            seconds = [0.0 if g is None else float(g) for g in grad(first, leaves, allow_unused=True)]
        else:
            seconds = [0.0] * len(xs)
        for i, analytic in enumerate(seconds):
            numeric = _central(first_partials, xs, i, rel_step)[j]
            if not _close(analytic, numeric, atol, rtol) and not isinstance(first, Value):
                raise OpCheckError(
                    f"{op.name}: its partials cannot be evaluated on Values: ∂out/∂{names[j]} gives a plain "
                    f"number for Value inputs (math.cos(x) or float(x) reads a Value's data and leaves the "
                    "graph), so create_graph=True cannot differentiate it again; write it with "
                    "tracegrad.engine.generic's exp/log/sin/... or pass second_order=False"
                )
            if not _close(analytic, numeric, atol, rtol):
                raise OpCheckError(
                    f"{op.name}: the second derivative ∂²out/∂{names[j]}∂{names[i]} through create_graph is "
                    f"wrong at {where}: the engine gives {analytic:.10g}, central differences give {numeric:.10g}"
                )


def verify_op(
    op: Union[Op, str],
    *,
    max_examples: Optional[int] = None,
    second_order: bool = True,
    rel_step: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    reference: Optional[Callable[..., Any]] = None,
) -> None:
    """Property-test an op across its domain; raise :class:`OpCheckError` on the smallest failure.

    Checks, at inputs hypothesis draws from the op's :class:`~tracegrad.ops.Domain`: the forward
    against ``reference`` (a function of the same arguments, e.g. ``math.tanh``) when given, each
    partial against central differences of ``forward``, each formula text against its partial
    function, and (``second_order=True``) the derivatives of the partials through
    ``create_graph`` against central differences of the partials. Call it inside a test; the
    current hypothesis profile applies (``max_examples`` overrides it).

    Without a reference, a wrong forward with a derivative to match passes: the derivative
    checks only say that the partials fit the forward.

    >>> import math
    >>> from tracegrad.ops import OPS
    >>> verify_op(OPS["tanh"], max_examples=20, reference=math.tanh)
    """
    from hypothesis import given, settings

    if isinstance(op, str):
        if op not in OPS:
            raise ValueError(f"verify_op: unknown op {op!r}")
        op = OPS[op]
    if op.forward is None:
        raise ValueError(f"verify_op: {op.name} has no forward rule to test")
    checked = op
    current = settings.default
    budget = max_examples if max_examples is not None else (current.max_examples if current else 100)

    @settings(current, max_examples=budget, deadline=None, database=None)  # one op's failures are not another's
    @given(_arguments(checked))
    def verify(case: Tuple[List[float], Optional[float]]) -> None:
        xs, param = case
        _check_point(checked, list(xs), param, second_order, rel_step, atol, rtol, reference)

    verify.__name__ = verify.__qualname__ = f"verify_op_{checked.name}"
    verify()
