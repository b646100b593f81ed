"""A Value as a number: what a learner expects of one, what is differentiable, and what is not."""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad import Value, grad

import needs

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(finite)
@example(-0.0)
@example(0.5)
def test_a_value_reads_as_its_number(x: float) -> None:
    v = Value(x)
    assert float(v) == x and type(float(v)) is float
    assert int(v) == int(x)
    assert f"{v:.4f}" == f"{x:.4f}" and f"{v:>12.3e}" == f"{x:>12.3e}" and f"{v:%}" == f"{x:%}"
    assert round(v, 3) == round(x, 3) and round(v) == round(x) and type(round(v)) is int
    assert math.exp(min(x, 700.0)) == math.exp(min(float(v), 700.0))
    assert math.isclose(v, x) and complex(v) == complex(x)


def test_format_without_a_spec_is_the_repr_and_loss_formats_like_a_float() -> None:
    loss = Value(0.123456789) * 2
    assert f"{loss}" == str(loss) == repr(loss)
    assert f"{loss:.4f}" == "0.2469" and f"{loss:.2e}" == "2.47e-01"


@given(st.lists(finite, min_size=1, max_size=8), st.randoms())
def test_ordering_compares_the_data_so_max_min_and_sorted_work(xs: Any, rng: random.Random) -> None:
    values = [Value(x) for x in xs]
    rng.shuffle(values)
    assert max(values).data == max(xs) and min(values).data == min(xs)
    assert [v.data for v in sorted(values)] == sorted(xs)
    a, b = Value(2.0), Value(1.0)
    assert a > b and b < a and a >= 2 and 2 <= a and 1 < a and not a < 1.5 and a > Fraction(3, 2)  # noqa: SIM300
    assert (a > b) is True  # a plain bool, not a node


def test_equality_is_identity_and_a_number_comparison_is_an_error_not_a_silent_false() -> None:
    a, b = Value(2.0), Value(2.0)
    assert a == a and a != b and not a == b  # noqa: SIM201
    assert len({a, b}) == 2 and {a: 1, b: 2}[b] == 2  # hashed by identity: sets and dicts of nodes work
    assert a in [b, a] and [b, a].index(a) == 1
    with pytest.raises(TypeError, match=r"compare the data instead: v.data == 2"):
        _ = a == 2
    with pytest.raises(TypeError, match=r"v.data != 2.0"):
        _ = a != 2.0
    with pytest.raises(TypeError, match=r"v.data == 2"):
        _ = 2 == a  # noqa: SIM300 - the reflected comparison
    assert a != "2" and a is not None and not (a == None)  # noqa: E711, SIM201 - other types: not equal, no error


def test_bool_is_true_for_every_value_as_for_any_object() -> None:
    assert bool(Value(0.0)) and bool(Value(float("nan")))
    cache: dict = {}
    assert (cache.get("x") or Value(1.0)).data == 1.0


def test_comparisons_float_and_round_are_not_differentiable_but_operators_are() -> None:
    x = Value(3.0)
    y = x * x + Value(float(x)) * round(x, 0) + max(x, Value(1.0))  # max() picks the node x itself
    (dx,) = grad(y, [x])
    assert dx == 2 * 3.0 + 1.0  # x*x gives 2x, max(...) is x (1); float(x), round(x) are constants
    z = Value(2.0)
    w = z * 1.0
    assert grad(Value(float(w)) * 3.0, [z], allow_unused=True) == [None]  # float() leaves the graph


@pytest.mark.parametrize("bad", ["abc", None, [1.0], 1 + 2j, {"a": 1}])
def test_assigning_data_that_is_not_a_number_is_refused(bad: Any) -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match="Value: data must be a real number"):
        v.data = bad
    assert v.data == 1.0


def test_assigning_a_value_as_data_is_refused_with_what_to_do() -> None:
    v = Value(1.0)
    with pytest.raises(TypeError, match=r"got a Value; use its \.data"):
        v.data = Value(2.0)  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"got a Value; use its \.data"):
        Value(Value(2.0))


def test_assigned_numbers_become_plain_floats() -> None:
    np = needs.numpy()
    v = Value(1.0)
    for number in (3, True, Fraction(1, 4), np.float64(2.5), np.float32(0.5), np.int64(7)):
        v.data = number
        assert type(v.data) is float and v.data == float(number)
    v.data -= 0.5  # an optimiser's in-place update goes through the same check
    assert v.data == 6.5 and type(v.data) is float
