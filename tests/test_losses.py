"""Losses: values and gradients against PyTorch float64 and numerical differentiation."""

from __future__ import annotations

import math
from typing import Any, Callable, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import Value, grad
from tracegrad.nn.losses import (
    SOFTPLUS,
    binary_cross_entropy,
    hinge,
    l2_penalty,
    log_sum_exp,
    mse,
    softmax,
    softmax_cross_entropy,
    softplus,
)

import needs

reals = st.floats(-5.0, 5.0, allow_nan=False)
logits_strategy = st.lists(st.floats(-30.0, 30.0, allow_nan=False), min_size=1, max_size=6)


def numeric(f: Callable[[List[float]], float], xs: List[float], h: float = 1e-6) -> List[float]:
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((f(up) - f(down)) / (2 * h))
    return out


def value_and_grads(loss: Callable[[List[Value]], Value], xs: List[float]) -> tuple[float, List[float]]:
    vs = [Value(x) for x in xs]
    out = loss(vs)
    return out.data, grad(out, vs)


def close(a: Any, b: Any, tol: float = 1e-12) -> None:
    assert a == pytest.approx(b, rel=tol, abs=tol)


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(pairs=st.lists(st.tuples(reals, reals), min_size=1, max_size=5))
def test_mse_against_torch(pairs: List[tuple[float, float]]) -> None:
    torch = needs.torch()
    xs, ts = [p for p, _ in pairs], [t for _, t in pairs]
    value, grads = value_and_grads(lambda vs: mse(vs, ts), xs)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.mse_loss(tx, torch.tensor(ts, dtype=torch.float64))
    tl.backward()
    close(value, tl.item())
    close(grads, tx.grad.tolist())


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(pairs=st.lists(st.tuples(reals, st.sampled_from([-1, 1])), min_size=1, max_size=5))
@example(pairs=[(1.0, 1)])  # exactly on the margin: relu'(0) = 0
def test_hinge_against_torch(pairs: List[tuple[float, int]]) -> None:
    torch = needs.torch()
    xs, ys = [s for s, _ in pairs], [y for _, y in pairs]
    value, grads = value_and_grads(lambda vs: hinge(vs, ys), xs)
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tl = torch.relu(1 - torch.tensor(ys, dtype=torch.float64) * tx).mean()
    tl.backward()
    close(value, tl.item())
    close(grads, tx.grad.tolist())


def test_hinge_is_micrograds_formula() -> None:
    scores, ys = [0.3, -2.0, 1.7], [1, -1, -1]
    vs = [Value(s) for s in scores]
    want = sum((1 + -y * s).relu() for y, s in zip(ys, vs)) * (1.0 / 3)
    assert hinge(vs, ys).data == want.data


@given(pairs=st.lists(st.tuples(st.floats(-40.0, 40.0, allow_nan=False), st.floats(0.0, 1.0)),
                      min_size=1, max_size=5))
@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@example(pairs=[(0.0, 1.0)])
@example(pairs=[(-40.0, 1.0), (40.0, 0.0)])  # confidently wrong: large loss, no overflow
def test_binary_cross_entropy_against_torch(pairs: List[tuple[float, float]]) -> None:
    torch = needs.torch()
    zs, ys = [z for z, _ in pairs], [y for _, y in pairs]
    value, grads = value_and_grads(lambda vs: binary_cross_entropy(vs, ys), zs)
    tz = torch.tensor(zs, dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.binary_cross_entropy_with_logits(tz, torch.tensor(ys, dtype=torch.float64))
    tl.backward()
    close(value, tl.item(), 1e-11)
    close(grads, tz.grad.tolist(), 1e-11)


@given(x=st.floats(-700.0, 700.0, allow_nan=False))
@example(x=0.0)
def test_softplus_value_and_derivative(x: float) -> None:
    v = Value(x)
    out = softplus(v)
    (d,) = grad(out, [v])
    exact = math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))
    close(out.data, exact, 1e-14)
    close(d, 1 / (1 + math.exp(-x)) if x > -700 else 0.0, 1e-14)
    if -5 < x < 5:
        (num,) = numeric(lambda xs: SOFTPLUS.forward(xs[0]), [x])
        assert d == pytest.approx(num, rel=1e-6, abs=1e-8)


@given(z=reals)
def test_softplus_second_derivative_through_create_graph(z: float) -> None:
    v = Value(z)
    (d,) = grad(softplus(v), [v], create_graph=True)
    (dd,) = grad(d, [v])
    s = 1 / (1 + math.exp(-z))
    close(dd, s * (1 - s), 1e-12)


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(logits=logits_strategy, data=st.data())
@example(logits=[1000.0, -1000.0], data=None)
def test_softmax_cross_entropy_against_torch(logits: List[float], data: Any) -> None:
    torch = needs.torch()
    target = 0 if data is None else data.draw(st.integers(0, len(logits) - 1))
    value, grads = value_and_grads(lambda vs: softmax_cross_entropy(vs, target), logits)
    tz = torch.tensor([logits], dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor([target]))
    tl.backward()
    assert math.isfinite(value)
    close(value, tl.item(), 1e-11)
    close(grads, tz.grad[0].tolist(), 1e-11)


@given(logits=logits_strategy)
def test_softmax_sums_to_one_and_matches_numerical_gradient_of_log_sum_exp(logits: List[float]) -> None:
    probs = softmax(logits)
    assert sum(p.data for p in probs) == pytest.approx(1.0, abs=1e-12)
    small = [x / 10 for x in logits]
    _, grads = value_and_grads(log_sum_exp, small)
    num = numeric(lambda xs: math.log(sum(math.exp(x) for x in xs)), small)
    assert grads == pytest.approx(num, rel=1e-6, abs=1e-8)
    close(grads, [p.data for p in softmax(small)])


def test_softmax_cross_entropy_batch_is_the_mean() -> None:
    batch = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]
    both = softmax_cross_entropy(batch, [0, 1]).data
    singles = [softmax_cross_entropy(z, t).data for z, t in zip(batch, [0, 1])]
    close(both, sum(singles) / 2)
    close(singles[0], -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(1.0) + math.exp(0.1))))


@given(ps=st.lists(reals, min_size=1, max_size=6), alpha=st.floats(0.0, 1.0))
def test_l2_penalty(ps: List[float], alpha: float) -> None:
    value, grads = value_and_grads(lambda vs: l2_penalty(vs, alpha), ps)
    close(value, alpha * sum(p * p for p in ps))
    close(grads, [2 * alpha * p for p in ps])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mse([Value(1.0)], [1.0, 2.0]), "mse: 1 outputs but 2 targets"),
        (lambda: mse([], []), "mse: the batch is empty"),
        (lambda: hinge([Value(1.0)], [0]), "hinge: labels must be -1 or 1, got 0"),
        (lambda: binary_cross_entropy([Value(1.0)], [2.0]), r"targets must be in \[0, 1\], got 2.0"),
        (lambda: softmax_cross_entropy([1.0, 2.0], 2), r"class index in \[0, 2\), got 2"),
        (lambda: mse([Value(1.0)], [math.nan]), "mse: targets must be finite numbers, got nan"),
        (lambda: softmax([]), "softmax: no logits"),
    ],
)
def test_bad_input_is_named(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
