"""Your own ops, defined the way the built-ins are: ``define_op`` and the op it returns.

An op defined here is a record of the op table like any other (so backward, ``create_graph``,
gradient checking, the pictures and the strategies know it) that can also be called on Values
or numbers to build a node: ``softplus(x)``. Calling needs the node, which is why this lives
above :mod:`~tracegrad.engine.value` and not in the op table itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Tuple, Union

from .apply import apply
from .expr import ExpressionError, evaluate, free_names
from .generic import FORMULA_FUNCTIONS, to_float
from .ops import ANYWHERE, Domain, Op, register_op
from .value import Value, ValueLike


@dataclass(frozen=True, eq=False)
class CustomOp(Op):
    """An op made by :func:`define_op`: a record of the op table that builds a node when called."""

    def __call__(self, *inputs: ValueLike, param: Optional[float] = None) -> Value:
        """Apply the op to Values or numbers: ``my_op(x, y)`` is ``apply(my_op, x, y)``."""
        return apply(self, *inputs, param=param)


DomainLike = Union[None, str, Domain]


def define_op(
    name: str,
    forward: Callable[..., Any],
    partials: Sequence[Callable[..., Any]],
    formulas: Sequence[str],
    *,
    domain: Union[DomainLike, Sequence[DomainLike]] = None,
    symbol: Optional[str] = None,
    input_names: Sequence[str] = (),
    param: Optional[str] = None,
    param_domain: Optional[Domain] = None,
    doc: str = "",
    register: bool = True,
    kinks: Sequence[Tuple[float, Any, Any]] = (),
) -> CustomOp:
    """Define a custom op, the way the built-ins are defined, and add it to the table.

    Args:
        name: the op's name (pictures and errors show it).
        forward: computes the output from the inputs (and the parameter). Write it with the
            helpers of :mod:`tracegrad.engine.generic` (``exp``, ``log``, ``sin``, ...) so it
            also takes complex numbers, for complex-step gradient checking.
        partials: one function per input giving ``∂out/∂input``, called like ``forward`` with
            the output appended; written with the same helpers, they also take Values, which is
            how ``create_graph=True`` differentiates them again.
        formulas: each partial as text over the input names, ``out`` and the functions in
            :data:`FORMULA_FUNCTIONS`; ``tracegrad.testing.verify_op`` checks it.
        domain: where the op is defined, one entry per input (a single entry for a unary op):
            text such as ``"x > 0"`` is checked on every call (an input outside raises
            :class:`~tracegrad.engine.errors.DomainError`) and tests sample the points of [-5, 5]
            where it holds; a :class:`Domain` only says where tests sample.
        symbol: the short text pictures show (default: the name).
        input_names: the inputs' names in formulas and messages (default ``x``, ``y``, ``z``).
        param, param_domain: the name of a numeric parameter and where tests sample it.
        register: add the op to :data:`OPS` (so strategies and pictures know it).
        kinks: for a piecewise unary op, where its derivative jumps, as ``(at, left, right)``
            with the one-sided derivatives there, so that gradient checking knows them.

    >>> from tracegrad.engine.generic import exp, log
    >>> softplus = define_op(
    ...     "softplus", lambda x: log(1 + exp(x)), [lambda x, out: 1 / (1 + exp(-x))],
    ...     ["1 / (1 + exp(-x))"], register=False)
    >>> round(softplus(0.0).data, 6)
    0.693147
    """
    arity = len(partials)
    if len(formulas) != arity:
        raise ValueError(f"define_op {name!r}: {arity} partials need {arity} formulas, got {len(formulas)}")
    names = tuple(input_names) or (("x", "y", "z")[:arity] if arity <= 3 else tuple(f"x{i}" for i in range(arity)))
    entries = [domain] * arity if domain is None or isinstance(domain, (str, Domain)) else list(domain)
    if len(entries) != arity:
        raise ValueError(f"define_op {name!r}: {arity} inputs need {arity} domain entries, got {len(entries)}")
    rules = tuple(partials)

    def grads(*args: Any) -> Tuple[Any, ...]:
        return tuple(_number(rule(*args)) for rule in rules)

    predicates = [(names[i], text) for i, text in enumerate(entries) if isinstance(text, str)]
    for _, text in predicates:
        free_names(text, FORMULA_FUNCTIONS)  # refuse bad text now, not at the first call
    check = _predicate_check(names, param, predicates) if predicates else None
    domains = tuple(
        entry if isinstance(entry, Domain) else ANYWHERE if entry is None else _sampled_domain(name, names[i], entry)
        for i, entry in enumerate(entries)
    )
    op = CustomOp(name, symbol or name, arity, forward, grads, tuple(formulas), domains, param=param,
            param_domain=param_domain, check=check, doc=doc, input_names=names, kinks=tuple(kinks))
    if register:
        register_op(op)
    return op


def _number(g: Any) -> Any:
    """A partial's result as the engine keeps it: a Value (under create_graph), else a plain float
    (a NumPy scalar or an int from your partial would otherwise leak into ``.grad``)."""
    return g if g.__class__ is float or isinstance(g, Value) else to_float(g, "a partial's result")


def _predicate_check(
    names: Tuple[str, ...], param: Optional[str], predicates: Sequence[Tuple[str, str]]
) -> Callable[..., Optional[str]]:
    def check(*args: Any) -> Optional[str]:
        variables = dict(zip(names + ((param,) if param else ()), args))
        for input_name, text in predicates:
            if not evaluate(text, variables, FORMULA_FUNCTIONS):
                return f"{input_name} must satisfy {text}"
        return None

    return check


def _sampled_domain(op_name: str, input_name: str, text: str) -> Domain:
    """The intervals of [-5, 5] where a one-variable predicate holds, a grid step from each edge."""
    if free_names(text, FORMULA_FUNCTIONS) - {input_name}:
        raise ValueError(
            f"define_op {op_name!r}: the domain text {text!r} uses other names than {input_name!r}; "
            "give a Domain saying where tests should sample this input"
        )
    grid = [i / 100 for i in range(-500, 501)]
    holds = [_holds(text, input_name, x) for x in grid]
    intervals = []
    start: Optional[int] = None
    for i, ok in enumerate([*holds, False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            lo = grid[start] if start == 0 else grid[start] + 0.01
            hi = grid[i - 1] if i == len(grid) else grid[i - 1] - 0.01
            if lo <= hi:
                intervals.append((lo, hi))
            start = None
    if not intervals:
        raise ValueError(
            f"define_op {op_name!r}: the domain text {text!r} holds nowhere in [-5, 5]; "
            "give a Domain saying where tests should sample this input"
        )
    return Domain(tuple(intervals))


def _holds(text: str, name: str, x: float) -> bool:
    try:
        return bool(evaluate(text, {name: x}, FORMULA_FUNCTIONS))
    except ExpressionError:
        return False
