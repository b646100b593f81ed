"""Random expression graphs over every op: the engine's gradients against independent oracles.

First and second derivatives from ``backward()``, ``grad()`` and ``grad(create_graph=True)``
agree with central differences, the complex step and PyTorch float64; ``backward()`` agrees
with the chain-rule generator ``backward_steps()``; every op passes ``verify_op`` (partials,
formula texts, second order). The graphs come from ``tracegrad.testing.expressions()``; a failing
example prints as Python source.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import pytest
from hypothesis import example, given, settings

from tracegrad.check.gradcheck import gradcheck, gradgradcheck
from tracegrad.engine import Value, backward_steps, grad
from tracegrad.engine.errors import DomainError
from tracegrad.engine.ops import BUILTIN_OPS, FUSED_OPS, OPS
from tracegrad.testing import Expression, Node, expressions, verify_op

import needs

BUILTIN = [op.name for op in BUILTIN_OPS + FUSED_OPS]
PIECEWISE = {"relu", "leaky_relu", "abs", "step", "sign"}
EPS = 1e-6

try:  # the PyTorch oracle runs wherever PyTorch is installed; test_pytorch_oracle_is_installed
    import torch  # says how to get it (and fails the run in CI when it is missing)
except ImportError:  # pragma: no cover
    torch = None


def _op(name: str, *children: Node, param: Optional[float] = None) -> Node:
    op = OPS[name]
    args = [c.value for c in children] + ([] if param is None else [param])
    return Node(float(op.forward(*args)), op, children, param)


def _square_of_tanh() -> Expression:
    """t = tanh(x0 * x1); f = log(t * t + 0.25): a node used twice by one op."""
    x0, x1 = Node(0.5, index=0), Node(-1.25, index=1)
    t = _op("tanh", _op("mul", x0, x1))
    return Expression(_op("log", _op("add", _op("mul", t, t), Node(0.25))), [0.5, -1.25])


def _diamond() -> Expression:
    """sin(a) * exp(a) with a = x0 + x1, and x0 used again outside the diamond."""
    x0, x1 = Node(0.3, index=0), Node(0.7, index=1)
    a = _op("add", x0, x1)
    return Expression(_op("sub", _op("mul", _op("sin", a), _op("exp", a)), x0), [0.3, 0.7])


ROUNDING = 1e-11
"""Rounding allowance per unit of the largest term summed into a gradient: a gradient that is
the small difference of large terms (``t / t``) carries their rounding error, ~1e-16 each."""


def _largest_term(root: Value) -> float:
    """The largest ``|local × upstream|`` the chain rule adds up below ``root``."""
    return max((abs(float(s.contribution)) for s in backward_steps(root)), default=0.0)


def _cancelling_quotient() -> Expression:
    """t1 / t1 with t1 = -(t0 - 100.9) - log(t0 - 100.83), t0 = (x0 + 0.06) ** -1.64: the second
    derivative is 0, made of terms near 1e10 that cancel."""
    x0 = Node(0.0, index=0)
    t0 = _op("pow", _op("add", x0, Node(0.06)), param=-1.64)
    t1 = _op("sub", _op("neg", _op("sub", t0, Node(100.9))), _op("log", _op("sub", t0, Node(100.83))))
    return Expression(_op("div", t1, t1), [0.0, 0.0])


def _steep_quotient() -> Expression:
    """x0 / ((4.86 - x0) ** ((x0 + 0.06) ** -1.89 - 200.85) - 112.88) at 0: so steep that central
    differences need a step of 1e-10 for its second derivative (8.9e6)."""
    x0 = Node(0.0, index=0)
    exponent = _op("sub", _op("pow", _op("add", x0, Node(0.06)), param=-1.89), Node(200.85))
    power = _op("vpow", _op("add", _op("neg", x0), Node(4.86)), exponent)
    return Expression(_op("div", x0, _op("sub", power, Node(112.88))), [0.0, 0.0])


def _zero_power() -> Expression:
    """(x0 + 0.06) ** x0 at x0 = 0: d²/dx² = ln(0.06)² + 2 / 0.06 = 41.2486..."""
    x0 = Node(0.0, index=0)
    return Expression(_op("vpow", _op("add", x0, Node(0.06)), x0), [0.0, 0.0])


def _has_zero_exponent(e: Expression) -> bool:
    """Whether a ``base ** exponent`` node has an exponent of exactly 0. PyTorch's pow backward
    masks its result there (``where(exponent == 0, 0, ...)``), so its second derivative drops
    the term that flows through the exponent; central differences and the complex step agree
    with tracegrad at such points, so PyTorch is not used as the oracle there."""
    return any(n.op is not None and n.op.name == "vpow" and n.children[1].value == 0.0 for n in e.nodes())


def _kinks_near(e: Expression, eps: float) -> bool:
    """Whether moving an input by ``eps`` moves a piecewise op's input across its kink at 0
    (central differences are meaningless there; the complex step is not affected)."""
    base = _inputs_of_piecewise(e, e.inputs)
    for i in range(len(e.inputs)):
        for delta in (eps, -eps):
            moved = list(e.inputs)
            moved[i] += delta
            try:
                signs = _inputs_of_piecewise(e, moved)
            except DomainError:
                return True
            if any((a > 0) != (b > 0) or (a < 0) != (b < 0) for a, b in zip(base, signs)):
                return True
    return False


def _central_agrees(check: Any, e: Expression, atol: float, rtol: float, terms: float) -> bool:
    """Central differences agree at one of the steps 1e-6, 1e-8, 1e-10, or else the first
    step's table is raised. Truncation error shrinks with the step (O(eps²)) and rounding error
    grows (``ROUNDING * terms / eps``, ``terms`` being the largest number summed into what is
    differenced), so a steep graph needs a smaller step; a wrong derivative disagrees at every
    step."""
    for eps in (EPS / 100, EPS / 10_000):
        if check(e, e.inputs, eps=eps, atol=atol + ROUNDING * terms / eps, rtol=rtol, raise_exception=False):
            return True
    return bool(check(e, e.inputs, eps=EPS, atol=atol + ROUNDING * terms / EPS, rtol=rtol))


def _inputs_of_piecewise(e: Expression, xs: Sequence[float]) -> List[float]:
    values: Dict[int, float] = {}
    found = []
    for node in e.nodes():
        if node.index is not None:
            values[id(node)] = xs[node.index]
        elif node.op is None:
            values[id(node)] = node.value
        else:
            args = [values[id(c)] for c in node.children]
            if node.op.name in PIECEWISE:
                found.append(args[0])
            if node.op.name == "linear_relu":  # a ReLU of the pre-activation
                found.append(OPS["linear"].forward(*args))
            extra = [] if node.param is None else [node.param]
            if node.op.check is not None and node.op.check(*args, *extra):
                raise DomainError(node.op.check(*args, *extra))
            values[id(node)] = float(node.op.forward(*args, *extra))
    return found


# --- PyTorch, built from the same graph


def _torch_fn(name: str) -> Any:
    f = torch.nn.functional
    return {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "neg": lambda a: -a,
        "pow": lambda a, n: a**n,
        "vpow": lambda a, b: a**b,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "leaky_relu": lambda a, slope: f.leaky_relu(a, slope),
        "sin": torch.sin,
        "cos": torch.cos,
        "abs": torch.abs,
        "step": lambda a: (a > 0).to(torch.float64),
        "sign": torch.sign,
        "sum": lambda *xs: _left_sum(xs),
        "linear": lambda *args: _torch_linear(args),
        "linear_relu": lambda *args: torch.relu(_torch_linear(args)),
    }[name]


def _left_sum(xs: Sequence[Any]) -> Any:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def _torch_linear(args: Sequence[Any]) -> Any:
    n = (len(args) - 1) // 2
    total = args[-1]
    for w, x in zip(args[:n], args[n:-1]):
        total = total + w * x
    return total


def _in_torch(e: Expression, xs: Sequence[Any]) -> Any:
    results: Dict[int, Any] = {}
    for node in e.nodes():
        if node.index is not None:
            results[id(node)] = xs[node.index]
        elif node.op is None:
            results[id(node)] = torch.tensor(node.value, dtype=torch.float64)
        else:
            args = [results[id(c)] for c in node.children] + ([] if node.param is None else [node.param])
            results[id(node)] = _torch_fn(node.op.name)(*args)
    return results[id(e.output)]


def _torch_grads(e: Expression, order: int) -> List[float]:
    """First derivatives, or the flattened Hessian, by PyTorch in float64."""
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in e.inputs]
    out = _in_torch(e, xs)
    if not out.requires_grad:
        return [0.0] * len(xs) ** order
    firsts = torch.autograd.grad(out, xs, create_graph=order > 1, allow_unused=True)
    if order == 1:
        return [0.0 if g is None else float(g) for g in firsts]
    hessian = []
    for g in firsts:
        if g is None or not g.requires_grad:
            hessian.extend([0.0] * len(xs))
            continue
        row = torch.autograd.grad(g, xs, allow_unused=True, retain_graph=True)
        hessian.extend(0.0 if h is None else float(h) for h in row)
    return hessian


def _close(ours: Sequence[float], theirs: Sequence[float], rtol: float, atol: float) -> bool:
    return all(a == b or abs(a - b) <= atol + rtol * abs(b) for a, b in zip(ours, theirs))


# --- first order


def test_pytorch_oracle_is_installed() -> None:
    assert needs.torch().tensor(1.0, dtype=needs.torch().float64).item() == 1.0


@given(expressions(n_inputs=3, max_leaves=12))
@example(_square_of_tanh())
@example(_diamond())
def test_first_derivatives_of_random_graphs(e: Expression) -> None:
    leaves = e.leaves()
    out = e(*leaves)
    assert isinstance(out, Value)  # every generated graph depends on an input
    from_grad = [0.0 if g is None else g for g in grad(out, leaves, allow_unused=True)]

    # backward() and the chain-rule generator agree exactly
    totals: Dict[Value, float] = {out: 1.0}
    for step in backward_steps(out):
        totals[step.input] = step.total
    out.backward()
    assert [leaf.grad for leaf in leaves] == [totals.get(leaf, 0.0) for leaf in leaves]
    assert _close([leaf.grad for leaf in leaves], from_grad, 1e-12, 1e-12)

    rounding = ROUNDING * _largest_term(out)
    assert gradcheck(e, e.inputs, method="complex", atol=1e-8 + rounding, rtol=1e-7)
    if not _kinks_near(e, EPS):
        assert _central_agrees(gradcheck, e, atol=1e-5, rtol=1e-3, terms=max(abs(n.value) for n in e.nodes()))
    if torch is not None and set(e.op_names) <= set(BUILTIN):
        theirs = _torch_grads(e, 1)
        assert _close(from_grad, theirs, 1e-7, 1e-9 + rounding), f"tracegrad {from_grad} != PyTorch {theirs}"


# --- second order


@given(expressions(n_inputs=2, max_leaves=8))
@example(_square_of_tanh())
@example(_diamond())
@example(_zero_power())
@example(_cancelling_quotient())
@example(_steep_quotient())
def test_second_derivatives_of_random_graphs(e: Expression) -> None:
    leaves = e.leaves()
    out = e(*leaves)
    firsts = grad(out, leaves, create_graph=True, allow_unused=True)
    first_terms = _largest_term(out)
    second_terms = max([_largest_term(g) for g in firsts if isinstance(g, Value)], default=0.0)
    rounding = ROUNDING * max(first_terms, second_terms)
    assert gradgradcheck(e, e.inputs, method="complex", atol=1e-7 + rounding, rtol=1e-6)
    if not _kinks_near(e, EPS):
        assert _central_agrees(gradgradcheck, e, atol=1e-4, rtol=1e-3, terms=first_terms)
    if torch is not None and set(e.op_names) <= set(BUILTIN) and not _has_zero_exponent(e):
        ours = []
        for g in firsts:
            if isinstance(g, Value):
                ours.extend(0.0 if h is None else float(h) for h in grad(g, leaves, allow_unused=True))
            else:
                ours.extend([0.0] * len(leaves))
        theirs = _torch_grads(e, 2)
        assert _close(ours, theirs, 1e-6, 1e-8 + rounding), f"tracegrad {ours} != PyTorch {theirs}"


# --- the op table


@pytest.mark.parametrize("name", BUILTIN)
def test_every_op_verifies_itself(name: str) -> None:
    verify_op(OPS[name], max_examples=60)


def test_the_printed_source_builds_the_same_numbers() -> None:
    e = _square_of_tanh()
    namespace: Dict[str, Any] = {}
    exec(compile(e.source, "<example>", "exec"), namespace)  # the test's own generated text
    assert namespace["inputs"] == e.inputs
    value = namespace["f"](*[Value(x) for x in e.inputs])
    assert value.data == e(*e.inputs) == math.log(math.tanh(-0.625) ** 2 + 0.25)


@given(expressions(n_inputs=2))
def test_generated_source_round_trips(e: Expression) -> None:
    namespace: Dict[str, Any] = {}
    exec(compile(e.source, "<example>", "exec"), namespace)
    leaves = [Value(x) for x in namespace["inputs"]]
    pasted = namespace["f"](*leaves)
    ours = e(*e.leaves())
    assert (pasted.data if isinstance(pasted, Value) else pasted) == (ours.data if isinstance(ours, Value) else ours)
    if isinstance(pasted, Value) and isinstance(ours, Value):
        assert grad(pasted, leaves, allow_unused=True) == grad(ours, _leaves_of(ours, e), allow_unused=True)


def _leaves_of(out: Value, e: Expression) -> List[Value]:
    from tracegrad.engine import topological_order

    named = {v.label: v for v in topological_order(out) if v.op is None and v.label}
    return [named.get(name, Value(0.0)) for name in e.names]


def test_the_default_strategy_draws_from_every_op_of_the_table() -> None:
    """Which ops the strategy draws from, read from the strategy itself: not from how many of
    them a run of random examples happened to show (60 examples missed some about one run in five)."""
    from tracegrad.check.strategies import _resolve_ops

    assert {op.name for op in _resolve_ops(None)} == {name for name, op in OPS.items() if op.forward is not None}
    assert set(BUILTIN) <= {op.name for op in _resolve_ops(None)}


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_op_appears_in_the_graphs_drawn_with_it(name: str) -> None:
    seen: List[bool] = []

    @settings(max_examples=10, derandomize=True, database=None)  # the same ten examples under any seed
    @given(expressions(n_inputs=2, ops=[name], max_leaves=4))
    def drawn(e: Expression) -> None:
        seen.append(name in e.op_names)  # a graph may be a lone input

    drawn()
    assert any(seen), name


def test_second_derivative_where_the_exponent_is_zero() -> None:
    e = _zero_power()
    (x0, x1) = e.leaves()
    (first, _) = grad(e(x0, x1), [x0, x1], create_graph=True, allow_unused=True)
    (second,) = grad(first, [x0])
    assert second == pytest.approx(math.log(0.06) ** 2 + 2 / 0.06, rel=1e-12)
    assert gradgradcheck(e, e.inputs, method="complex", atol=1e-9, rtol=1e-9)
