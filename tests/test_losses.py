"""Losses: values and gradients against PyTorch float64 and numerical differentiation."""

from __future__ import annotations

import math
from typing import Any, Callable, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.check import gradcheck, gradgradcheck
from tracegrad.compile import Compiled, compile
from tracegrad.engine import OPS, Value, grad, no_grad
from tracegrad.engine.ops import STOP_MAX
from tracegrad.nn.losses import (
    SOFTPLUS,
    binary_cross_entropy,
    cross_entropy,
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
        (lambda: log_sum_exp([]), "log_sum_exp: no logits"),
        (lambda: cross_entropy([1.0, 2.0], 5), r"cross_entropy: target must be a class index in \[0, 2\), got 5"),
        (lambda: cross_entropy([1.0, 2.0], [1.0]), "cross_entropy: 2 logits but 1 class probabilities"),
    ],
)
def test_bad_input_is_named(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- cross_entropy with class probabilities


@given(logits=logits_strategy, data=st.data())
def test_cross_entropy_with_an_index_or_probabilities_against_torch(logits: List[float], data: Any) -> None:
    torch = needs.torch()
    n = len(logits)
    target = data.draw(st.integers(0, n - 1))
    raw = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    probs = [p / sum(raw) for p in raw] if sum(raw) > 0 else [1.0 / n] * n
    for want in (target, probs):
        ps = [Value(p) for p in probs]
        zs = [Value(z) for z in logits]
        out = cross_entropy(zs, want if isinstance(want, int) else ps)
        out.backward()
        tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        tp = torch.tensor(probs, dtype=torch.float64, requires_grad=True)
        tl = torch.nn.functional.cross_entropy(tz, torch.tensor(want) if isinstance(want, int) else tp)
        tl.backward()
        close(out.data, tl.item(), 1e-11)
        close([z.grad for z in zs], tz.grad.tolist(), 1e-11)
        if not isinstance(want, int):
            close([p.grad for p in ps], tp.grad.tolist(), 1e-11)


@given(logits=logits_strategy)
@example(logits=[1000.0, 999.0, -1000.0])
def test_softmax_against_torch(logits: List[float]) -> None:
    torch = needs.torch()
    zs = [Value(z) for z in logits]
    probs = softmax(zs)
    up = [1.0 + 0.5 * i for i in range(len(logits))]  # a different upstream gradient per probability
    weighted = probs[0] * up[0]
    for p, u in zip(probs[1:], up[1:]):
        weighted = weighted + p * u
    weighted.backward()
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    tp = torch.softmax(tz, dim=0)
    (tp * torch.tensor(up, dtype=torch.float64)).sum().backward()
    close([p.data for p in probs], tp.tolist())
    close([z.grad for z in zs], tz.grad.tolist())


def test_a_one_hot_row_is_its_index() -> None:
    logits = [0.5, -2.0, 3.0]
    assert cross_entropy(logits, [0.0, 1.0, 0.0]).data == cross_entropy(logits, 1).data


# --- the shift: the largest logit, a node held constant, recomputed on every replay


def test_the_shift_is_a_stop_max_node_outside_the_table_of_differentiable_ops() -> None:
    zs = [Value(1.0), Value(3.0), Value(-2.0)]
    p = softmax(zs)[0]
    shift = p.inputs[0].inputs[0].inputs[1]  # e0 / total, e0 = exp(z0 - shift)
    assert shift.op is STOP_MAX and shift.data == 3.0 and shift.inputs == tuple(zs)
    assert STOP_MAX.grads(1.0, 3.0, -2.0, 3.0) == (0.0, 0.0, 0.0) and STOP_MAX.formulas == ("0",)
    assert STOP_MAX.forward(1 + 2j, 0.5 - 1j) == 1.0  # a real number: a constant to the complex step too
    assert "stop_max" not in OPS and STOP_MAX not in OPS.values()  # strategies and verify_op never sample it
    with no_grad():
        assert softmax(zs)[0].op is None


@given(logits=st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=1, max_size=5))
def test_complex_step_and_second_derivatives_through_the_shift(logits: List[float]) -> None:
    assert gradcheck(lambda *zs: softmax(list(zs)), logits, method="complex", atol=1e-10, rtol=1e-8)
    assert gradcheck(lambda *zs: log_sum_exp(list(zs)), logits, method="complex", atol=1e-10, rtol=1e-8)
    assert gradgradcheck(lambda *zs: log_sum_exp(list(zs)), logits, method="complex", atol=1e-7, rtol=1e-5)


@given(logits=st.lists(st.floats(-30.0, 30.0, allow_nan=False), min_size=1, max_size=5))
def test_the_hessian_of_log_sum_exp_against_torch(logits: List[float]) -> None:
    torch = needs.torch()
    zs = [Value(z) for z in logits]
    first = grad(log_sum_exp(zs), zs, create_graph=True)
    hessian = [grad(g, zs, allow_unused=True) for g in first]
    tz = torch.tensor(logits, dtype=torch.float64)
    want = torch.autograd.functional.hessian(lambda t: torch.logsumexp(t, 0), tz)
    close([h or 0.0 for row in hessian for h in row], want.flatten().tolist())


def _no_eager_fallback(monkeypatch: Any) -> None:
    def refuse(self: Compiled, args: Any, backward: bool) -> float:
        raise AssertionError("the generated code failed and fell back to eager")

    monkeypatch.setattr(Compiled, "_eager", refuse)


@pytest.mark.parametrize("far", [[800.0, 802.0, 801.5], [-725.0, -727.5, -726.0], [1e6, 1e6 + 3.0, -1e6]])
def test_a_compiled_step_recomputes_the_shift_from_new_logits(far: List[float], monkeypatch: Any) -> None:
    # traced at logits near 0, replayed at logits where a shift baked in at trace time would
    # overflow exp (800), silently lose digits to subnormal numbers (-725) or divide 0 by 0 (1e6)
    _no_eager_fallback(monkeypatch)
    w = Value(1.0)
    step = compile(lambda zs, p: cross_entropy([w * z for z in zs], list(p)) + log_sum_exp(softmax(zs)))
    for zs in ([0.5, -1.0, 2.0], far, [0.0, 0.0, 1.0]):
        p = [0.2, 0.5, 0.3]
        w.grad = 0.0
        compiled = step(zs, p)
        compiled_grad = w.grad
        w.grad = 0.0
        eager = cross_entropy([w * z for z in zs], p) + log_sum_exp(softmax(zs))
        eager.backward()
        assert math.isfinite(compiled)
        close(compiled, eager.data)
        close(compiled_grad, w.grad)
    assert step.traces == 1


def test_the_shift_in_pictures_and_the_step_through() -> None:
    from tracegrad.viz import draw, trace

    a, b = Value(1.0, label="a"), Value(3.0, label="b")
    p = softmax([a, b])[0]
    p.label = "p"
    source = draw(p).source
    assert 'label="max"' in source
    t = trace(p)
    forward = [t.forward_text(r) for r in t.forward]
    assert "max(a, b) = max(1, 3) = 3" in forward  # an unnamed node is called by the expression that made it
    shift_steps = [s for s in t.steps if s.node.op is STOP_MAX]
    assert [s.formula for s in shift_steps] == ["0", "0"] and all(s.contribution == 0.0 for s in shift_steps)
    assert "(its input" not in t.step_words(shift_steps[0])  # max is symmetric: no input is "x" or "y"
    assert t.grad_of(a) == pytest.approx(grad(p, [a])[0], rel=1e-15)
