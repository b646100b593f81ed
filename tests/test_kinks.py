"""gradcheck at kinks: no false alarm on and near the kinks of piecewise ops, a real error there
still caught; fast mode; the op table's kink data."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import example, given, settings

from tracegrad.check.expression import Expression, Node
from tracegrad.check.gradcheck import GradcheckError, gradcheck, gradcheck_report, gradgradcheck, numerical_jacobian
from tracegrad.check.kinks import MAX_GROUPS, one_sided
from tracegrad.check.replay import complex_replay
from tracegrad.engine import Value, apply, backward_steps, define_op
from tracegrad.engine.generic import cos, sin, step
from tracegrad.engine.ops import OPS
from tracegrad.testing import expressions

PIECEWISE = ("relu", "abs", "leaky_relu", "step", "sign")
WRONG_SIN = define_op("wrong_sin_k", sin, [lambda x, out: -cos(x)], ["-cos(x)"], register=False)
ROUNDING = 1e-11


def _op(name: str, *children: Node, param: Any = None) -> Node:
    op = OPS[name]
    args = [c.value for c in children] + ([] if param is None else [param])
    return Node(float(op.forward(*args)), op, children, param)


def _sign_at_its_kink() -> Expression:
    """x0 / (-x0 + sign(x0) - 0.51) at 0: sign(0) = 0 is on neither side of the kink, so the
    engine's derivative (-1.96) is that of the value at the kink, not of either side."""
    x0 = Node(0.0, index=0)
    denominator = _op("sub", _op("add", _op("neg", x0), _op("sign", x0)), Node(0.51))
    return Expression(_op("div", x0, denominator), [0.0, 0.0])


def _kink_across_a_piece() -> Expression:
    """-t0 * abs(t0 + 1.000000000000001), t0 = -x0 + abs(x0 - 1) at x0 = 1: forcing the first abs
    onto its left piece moves the second across its kink within the stencil."""
    x0 = Node(1.0, index=0)
    t0 = _op("add", _op("neg", x0), _op("abs", _op("sub", x0, Node(1.0))))
    return Expression(_op("mul", _op("neg", t0), _op("abs", _op("add", t0, Node(1.000000000000001)))), [1.0, 0.0])


def _undefined_past_a_jump() -> Expression:
    """-x0 / step(x0 + 1e-15) at 0: the step is 1 here and 0 just left of it, where f divides by 0."""
    x0 = Node(0.0, index=0)
    return Expression(_op("div", _op("neg", x0), _op("step", _op("add", x0, Node(1e-15)))), [0.0, 0.0])


def _largest_term(root: Value) -> float:
    return max((abs(float(s.contribution)) for s in backward_steps(root)), default=0.0)


def _central_agrees(e: Expression) -> bool:
    """Central differences agree at one of the steps 1e-6, 1e-8, 1e-10 (a steep graph needs a
    small step; rounding grows as the step shrinks), or the first step's table is raised."""
    terms = max(abs(n.value) for n in e.nodes())
    for eps in (1e-8, 1e-10):
        if gradcheck(e, e.inputs, eps=eps, atol=1e-5 + ROUNDING * terms / eps, raise_exception=False):
            return True
    return gradcheck(e, e.inputs, eps=1e-6, atol=1e-5 + ROUNDING * terms / 1e-6)


# --- no false alarm on and near kinks


@given(expressions(n_inputs=3, kinks=True))
@example(_sign_at_its_kink())
@example(_kink_across_a_piece())
@example(_undefined_past_a_jump())
def test_no_false_alarm_on_and_near_kinks(e: Expression) -> None:
    out = e(*e.leaves())
    rounding = ROUNDING * _largest_term(out)
    report = gradcheck_report(e, e.inputs, method="complex", atol=1e-8 + rounding, rtol=1e-7)
    assert report.ok, f"{report}\n{e.source}"
    assert _central_agrees(e)
    assert gradcheck(e, e.inputs, method="complex", fast=True, atol=1e-8 + rounding, rtol=1e-7)


@settings(max_examples=30)
@given(expressions(n_inputs=2, kinks=True, max_leaves=6))
def test_second_derivatives_on_and_near_kinks(e: Expression) -> None:
    leaves = e.leaves()
    out = e(*leaves)
    from tracegrad.engine import grad

    firsts = grad(out, leaves, create_graph=True, allow_unused=True)
    terms = max([_largest_term(out)] + [_largest_term(g) for g in firsts if isinstance(g, Value)])
    assert gradgradcheck(e, e.inputs, method="complex", atol=1e-7 + ROUNDING * terms, rtol=1e-6)


def test_the_strategy_puts_piecewise_inputs_on_and_near_kinks() -> None:
    from hypothesis import find

    on = find(expressions(n_inputs=1, ops=["relu"], kinks=True),
              lambda e: any(n.op is OPS["relu"] and n.children[0].value == 0.0 for n in e.nodes()))
    near = find(expressions(n_inputs=1, ops=["abs"], kinks=True),
                lambda e: any(n.op is OPS["abs"] and 0 < abs(n.children[0].value) <= 2e-6 for n in e.nodes()))
    assert on.op_names and near.op_names


# --- what a report says, and central differences without it


def test_central_differences_alone_give_a_false_alarm_at_a_kink() -> None:
    assert numerical_jacobian(lambda x: x.relu(), [0.0]) == [[0.5]]  # the average of the two sides
    (note,) = gradcheck_report(lambda x: x.relu(), [0.0]).kinks
    assert str(note) == "out0 / x0: at a kink of relu (x = 0): one-sided derivatives 0 and 1; analytic 0 lies between"


def test_near_a_kink_the_derivative_of_the_side_it_is_on_passes() -> None:
    report = gradcheck_report(lambda x: x.relu() * 2, [3e-7])
    assert report.ok and report.kinks[0].analytic == 2.0
    assert "at a kink of relu (x = 3e-07): one-sided derivatives 0 and 2; analytic 2 lies between" in str(report)


def test_several_kinks_give_a_range() -> None:
    report = gradcheck_report(lambda x, y: abs(x) * y + (x - 1e-7).leaky_relu(0.1), [0.0, 2.0])
    assert report.ok
    assert "kink of abs (x = 0) and leaky_relu (x = -1e-07): one-sided derivatives from -1.9 to 3" in str(report)


def test_too_many_kinks_at_once_are_reported_unchecked() -> None:
    def f(x: Value) -> Value:
        return Value.sum([(x * float(k + 1)).relu() for k in range(MAX_GROUPS + 1)])

    (note,) = gradcheck_report(f, [0.0]).kinks
    assert not note.checked and "too many to check" in str(note)


def test_a_kink_the_stencil_does_not_reach_is_not_one() -> None:
    assert gradcheck_report(lambda x: x.relu(), [1e-3]).kinks == []
    x = Value(1e-3)
    assert one_sided(complex_replay([x.relu()]), [x], [1e-3], [1.0], eps=1e-6, method="central") is None


# --- real errors at kinks are still caught


RELU = OPS["relu"]
STEEP_RELU = dataclasses.replace(RELU, name="steep_relu", grads=lambda x, out: (2.0 * step(x),))
"""relu with its right-side derivative 2 instead of 1."""
ODD_RELU = dataclasses.replace(RELU, name="odd_relu", grads=lambda x, out: (5.0 if x == 0 else step(x),))
"""relu whose derivative at the kink is 5, outside [0, 1]."""


@pytest.mark.parametrize("method", ["central", "complex"])
@pytest.mark.parametrize("x", [0.0, 3e-7, -3e-7, 1e-15])
def test_a_wrong_derivative_next_to_a_kink_is_caught(method: str, x: float) -> None:
    if x <= 0:  # on the left piece both derivatives are 0: nothing to catch there
        with pytest.raises(GradcheckError, match="lies outside"):
            gradcheck(lambda v: apply(ODD_RELU, v - x), [x], method=method)
        return
    with pytest.raises(GradcheckError, match=r"at a kink of steep_relu .* analytic 2 lies outside"):
        gradcheck(lambda v: apply(STEEP_RELU, v), [x], method=method)


@pytest.mark.parametrize("method", ["central", "complex"])
def test_a_wrong_op_behind_a_kink_is_caught(method: str) -> None:
    with pytest.raises(GradcheckError, match="lies outside") as caught:
        gradcheck(lambda v: WRONG_SIN(v.relu()), [3e-7], method=method)
    assert caught.value.failures[0].analytic == pytest.approx(-1.0)
    assert gradcheck(lambda v: v.relu().sin(), [3e-7], method=method)


def test_the_op_table_says_where_each_piecewise_op_has_kinks() -> None:
    for name in PIECEWISE:
        ((at, left, right),) = OPS[name].kinks
        assert at == 0.0
        slope = 0.3 if OPS[name].param else None

        def side(u: float, name: str = name, slope: Any = slope) -> float:
            args = [u] if slope is None else [u, slope]
            h = 1e-9
            return (OPS[name].forward(*[a + h if k == 0 else a for k, a in enumerate(args)])
                    - OPS[name].forward(*args)) / h

        number = {"slope": slope}
        assert side(-1e-3) == pytest.approx(number.get(left, left), abs=1e-6)
        assert side(1e-3) == pytest.approx(number.get(right, right), abs=1e-6)
    assert {op.name for op in OPS.values() if op.kinks} == set(PIECEWISE)


# --- fast mode


def test_fast_mode_passes_right_gradients_and_catches_a_wrong_one() -> None:
    def f(a: Value, b: Value, c: Value) -> Value:
        return (a * b).tanh() + c.exp() * a

    assert gradcheck(f, [0.3, -1.2, 0.5], fast=True)
    assert gradcheck(f, [0.3, -1.2, 0.5], fast=True, method="complex")
    with pytest.raises(GradcheckError, match="run with fast=False to see which partial") as caught:
        gradcheck(lambda a, b, c: WRONG_SIN(a) * b + c, [0.3, -1.2, 0.5], fast=True)
    assert [e.input for e in caught.value.failures] == ["along v"]
    report = gradcheck_report(f, [0.3, -1.2, 0.5], fast=True)
    assert len(report.entries) == 1 and "fast, v=" in report.header


def test_fast_mode_draws_a_direction_in_which_every_input_counts() -> None:
    from tracegrad.check.gradcheck import direction

    v = direction(50, seed=3)
    assert all(0.5 <= abs(c) <= 1.0 for c in v) and direction(50, seed=3) == v != direction(50, seed=4)


def test_a_correct_relu_network_passes_at_its_kinks() -> None:
    def f(x: Value, w: Value, b: Value) -> Value:
        hidden = (x * w + b).relu()
        return (hidden * 2.0 - x).abs() + hidden.step()

    for point in ([1.0, 2.0, -2.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, -1.0 + 1e-9]):
        assert gradcheck(f, point) and gradcheck(f, point, method="complex")
        assert math.isfinite(gradcheck_report(f, point).entries[0].numeric)
