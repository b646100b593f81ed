"""SGD and Adam: trajectories against torch.optim in float64, schedules, and bad input."""

from __future__ import annotations

import math
from typing import Any, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn.optim import SGD, Adam, Optimizer

import needs

start = st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=2, max_size=2)


def objective(a: Any, b: Any) -> Any:
    """A small non-quadratic bowl, written once for Values and for tensors."""
    return (a - 1.0) ** 2 + 2.0 * (b + 0.5) ** 2 + 0.3 * a * b + 0.1 * a**4


def run_tracegrad(make: Any, xs: List[float], steps: int) -> List[float]:
    params = [Value(x) for x in xs]
    opt = make(params)
    for _ in range(steps):
        opt.zero_grad()
        objective(*params).backward()
        opt.step()
    return [p.data for p in params]


def run_torch(torch: Any, make: Any, xs: List[float], steps: int, schedule: Any = None) -> List[float]:
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    opt = make(params)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule) if schedule else None
    for _ in range(steps):
        opt.zero_grad()
        objective(*params).backward()
        opt.step()
        if sched:
            sched.step()
    return [p.item() for p in params]


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(xs=start, lr=st.floats(0.001, 0.1), momentum=st.floats(0.0, 0.95), wd=st.floats(0.0, 0.1))
def test_sgd_follows_torch(xs: List[float], lr: float, momentum: float, wd: float) -> None:
    torch = needs.torch()
    ours = run_tracegrad(lambda ps: SGD(ps, lr=lr, momentum=momentum, weight_decay=wd), xs, 10)
    theirs = run_torch(torch, lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=wd), xs, 10)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(xs=start, lr=st.floats(0.001, 0.2), b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999),
       wd=st.floats(0.0, 0.1))
def test_adam_follows_torch(xs: List[float], lr: float, b1: float, b2: float, wd: float) -> None:
    torch = needs.torch()
    ours = run_tracegrad(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), weight_decay=wd), xs, 10)
    theirs = run_torch(torch, lambda ps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), weight_decay=wd), xs, 10)
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-12)


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(xs=start)
def test_schedule_follows_torch_lambda_lr(xs: List[float]) -> None:
    torch = needs.torch()

    def factor(k: int) -> float:
        return 1.0 - 0.9 * k / 100

    ours = run_tracegrad(lambda ps: SGD(ps, lr=lambda k: 0.05 * factor(k)), xs, 15)
    theirs = run_torch(torch, lambda ps: torch.optim.SGD(ps, lr=0.05), xs, 15, schedule=factor)
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


def test_plain_sgd_is_micrograds_update_exactly() -> None:
    p = Value(0.7)
    p.grad = 0.123
    opt = SGD([p], lr=lambda k: 1.0 - 0.9 * k / 100)
    opt.step()
    assert p.data == 0.7 - 1.0 * 0.123
    p.grad = 0.5
    before = p.data
    opt.step()
    assert p.data == before - (1.0 - 0.9 * 1 / 100) * 0.5
    assert opt.steps == 2


def test_adam_converges_to_the_minimum() -> None:
    w = Value(5.0)
    opt = Adam([w], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        ((w - 2.0) ** 2).backward()
        opt.step()
    assert abs(w.data - 2.0) < 1e-3


def test_non_finite_gradient_stops_the_step_and_names_the_parameter() -> None:
    a, b = Value(1.0, label="layers.0.neurons.0.w.0"), Value(2.0)
    a.grad, b.grad = 0.5, math.inf
    opt = SGD([a, b], lr=0.1)
    with pytest.raises(FloatingPointError, match="parameter 1 is inf"):
        opt.step()
    a.grad, b.grad = math.nan, 0.0
    with pytest.raises(FloatingPointError, match="'layers.0.neurons.0.w.0' is nan"):
        opt.step()
    assert (a.data, b.data, opt.steps) == (1.0, 2.0, 0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SGD([Value(1.0)], lr=-0.1), "learning rate must be a finite number >= 0, got -0.1"),
        (lambda: SGD([Value(1.0)], lr=math.nan), "got nan"),
        (lambda: SGD([Value(1.0)], momentum=1.5), r"momentum must be in \[0, 1\), got 1.5"),
        (lambda: SGD([]), "no parameters"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), r"betas\[1\] must be in \[0, 1\)"),
        (lambda: Adam([Value(1.0)], eps=0.0), "eps must be a positive number"),
    ],
)
def test_bad_settings_are_named(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_schedule_value_is_named() -> None:
    p = Value(1.0)
    opt = SGD([p], lr=lambda k: -1.0 if k == 1 else 0.1)
    opt.step()
    with pytest.raises(ValueError, match="schedule at step 1"):
        opt.step()


def test_non_value_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="parameter 0 is a float"):
        SGD([1.0], lr=0.1)  # type: ignore[list-item]


def test_base_optimizer_needs_an_update_rule() -> None:
    with pytest.raises(NotImplementedError):
        Optimizer([Value(1.0)], 0.1).step()
