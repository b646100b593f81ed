"""gradcheck, gradgradcheck, the numerical oracles and the complex-step replay."""

from __future__ import annotations

import math
from typing import Any, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.check.gradcheck import (
    ComplexStepError,
    GradcheckError,
    analytic_jacobian,
    gradcheck,
    gradgradcheck,
    numerical_jacobian,
    replay,
)
from tracegrad.engine import Value, define_op
from tracegrad.engine.errors import DomainError
from tracegrad.engine.generic import cos, sin
from tracegrad.testing import Expression, expressions, values

small = values(-3.0, 3.0)

# sin with the sign of its derivative wrong: the classic mistake gradcheck exists to catch
WRONG_SIN = define_op("wrong_sin", sin, [lambda x, out: -cos(x)], ["-cos(x)"], register=False)
# right first derivative, but evaluated on plain floats, so create_graph cannot see through it
FLAT_SIN = define_op(
    "flat_sin", sin,
    [lambda x, out: Value(math.cos(x.data)) if isinstance(x, Value) else math.cos(x)],
    ["cos(x)"], register=False,
)
REAL_ONLY_SIN = define_op("real_only_sin", math.sin, [lambda x, out: cos(x)], ["cos(x)"], register=False)



@given(small, small)
@example(0.0, 0.0)
def test_a_correct_function_passes_both_methods(x: float, y: float) -> None:
    def f(a: Value, b: Value) -> List[Value]:
        return [(a * b).tanh() + a.sin() * b, (a - b) * a.exp()]

    assert gradcheck(f, [x, y]) is True
    assert gradcheck(f, [x, y], method="complex", atol=1e-12, rtol=1e-10) is True


@given(small)
def test_the_complex_step_is_exact_to_rounding(x: float) -> None:
    (row,) = numerical_jacobian(lambda v: v.sin() * v.exp(), [x], method="complex")
    terms = (math.cos(x) * math.exp(x), math.sin(x) * math.exp(x))
    # both sides add the two terms (the complex product does too): where they cancel, the rounding
    # of each term is what remains, so the bound is relative to the terms, not to their sum
    assert row[0] == pytest.approx(sum(terms), rel=1e-14, abs=1e-14 * (abs(terms[0]) + abs(terms[1])))


@given(values(0.01, 3.0))
def test_piecewise_ops_take_the_branch_of_the_real_part(x: float) -> None:
    for sign in (1.0, -1.0):
        (row,) = numerical_jacobian(lambda v: v.relu() + abs(v) * 2 + v.leaky_relu(0.1) * 3 + v.step(), [sign * x],
                                    method="complex")
        assert row[0] == (1.0 + 2.0 + 3.0 if sign > 0 else 0.0 - 2.0 + 0.3)


def test_a_wrong_partial_is_reported_as_a_table_worst_first() -> None:
    def f(x: Value, y: Value) -> List[Value]:
        return [WRONG_SIN(x) * y, WRONG_SIN(y) + x]

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, [Value(0.5, label="a"), 2.0])
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0].startswith("gradcheck: 2 of 4 partial derivatives disagree at a=0.5, x1=2.0")
    assert lines[1].split() == ["output", "input", "analytic", "numeric", "abs", "err", "rel", "err"]
    # out0/a is off by 2·|2 cos 0.5| = 3.51, out1/x1 by 2·|cos 2| = 0.83: the worse comes first
    assert lines[2].split()[:2] == ["out0", "a"] and lines[3].split()[:2] == ["out1", "x1"]
    worst = info.value.failures[0]
    assert worst.analytic == pytest.approx(-2 * math.cos(0.5)) and worst.numeric == pytest.approx(2 * math.cos(0.5))
    assert float(lines[2].split()[4]) == pytest.approx(4 * math.cos(0.5), rel=1e-2)
    assert gradcheck(f, [0.5, 2.0], raise_exception=False) is False


def test_inputs_given_as_values_are_left_alone() -> None:
    x = Value(1.5)
    x.grad = 7.0
    assert gradcheck(lambda v: v * v, [x])
    assert x.grad == 7.0 and x.data == 1.5


def test_complex_step_names_an_op_whose_forward_takes_no_complex_numbers() -> None:
    assert gradcheck(lambda x: REAL_ONLY_SIN(x), [0.3])  # central differences need no complex forward
    with pytest.raises(ComplexStepError, match=r"real_only_sin: its forward cannot take complex numbers"):
        gradcheck(lambda x: REAL_ONLY_SIN(x), [0.3], method="complex")


def test_gradgradcheck_passes_on_correct_second_derivatives() -> None:
    assert gradgradcheck(lambda x: x**3, [2.0])
    assert gradgradcheck(lambda x, y: [(x * y).tanh(), x.exp() / y], [0.3, 1.7], method="complex", atol=1e-10)


def test_gradgradcheck_catches_a_partial_that_create_graph_cannot_differentiate() -> None:
    assert gradcheck(lambda x: FLAT_SIN(x), [0.7])  # first order is right
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: FLAT_SIN(x), [0.7])
    message = str(info.value)
    assert message.startswith("gradgradcheck: 1 of 1 partial derivatives disagree at x0=0.7")
    assert "d(out0)/dx0" in message
    failure = info.value.failures[0]
    assert failure.analytic == 0.0 and failure.numeric == pytest.approx(-math.sin(0.7), rel=1e-6)


@given(expressions(n_inputs=2))
def test_replay_with_the_same_leaves_gives_the_same_numbers(e: Expression) -> None:
    leaves = e.leaves()
    out = e(*leaves)
    assert replay([out], {}) == [out.data]
    shifted = replay([out], {leaf: complex(leaf.data, 0.0) for leaf in leaves})
    assert complex(shifted[0]).real == pytest.approx(out.data, rel=1e-12, abs=1e-12)


@given(expressions(n_inputs=3), small, small, small)
def test_replay_evaluates_only_what_moved_and_gives_what_the_floats_give(e: Expression, a: float, b: float,
                                                                        c: float) -> None:
    from tracegrad.check.replay import complex_replay
    from tracegrad.engine.errors import DomainError

    leaves = e.leaves()
    recording = complex_replay([e(*leaves)])
    for moved in ({leaves[0]: a}, {leaves[1]: b, leaves[2]: c}):
        point = [moved.get(leaf, x) for leaf, x in zip(leaves, e.inputs)]
        try:
            expected = e(*point)
        except DomainError:
            continue
        assert recording.run(moved) == [expected]
        assert recording.downstream(moved) - set(moved) <= set(recording.order)


def test_analytic_jacobian_of_several_outputs_and_an_unused_input() -> None:
    rows = analytic_jacobian(lambda x, y, z: [x * y, 3.0, x + x], [2.0, 5.0, 1.0])
    assert rows == [[5.0, 2.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]


def test_a_step_out_of_the_domain_is_explained() -> None:
    with pytest.raises(DomainError, match=r"gradcheck: f fails at x0 = -1e-06 .*log: input must be > 0"):
        gradcheck(lambda x: (x + 1e-7).log(), [0.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "forward"}, "method must be one of"),
        ({"eps": 0.0}, "eps must be a positive number"),
        ({"eps": float("nan")}, "eps must be a positive number"),
    ],
)
def test_bad_arguments_are_named(kwargs: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gradcheck(lambda x: x * 2, [1.0], **kwargs)


def test_bad_inputs_and_outputs_are_named() -> None:
    with pytest.raises(ValueError, match="inputs must not be empty"):
        gradcheck(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="Value: data must be a real number, got str"):
        gradcheck(lambda x: x, ["1"])
    with pytest.raises(TypeError, match="f must return a Value or a list of Values, got str"):
        gradcheck(lambda x: "nope", [1.0])


@given(st.floats(0.5, 3.0), st.integers(-3, 3))
def test_power_rule_passes_both_checks(x: float, n: int) -> None:
    assert gradcheck(lambda v: v**n, [x], method="complex", atol=1e-10)
    assert gradgradcheck(lambda v: v**n, [x], method="complex", atol=1e-8)
