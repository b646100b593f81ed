"""The benchmark's workloads compute what they claim: every engine builds the same graph and
gets the same losses, so the timings compare like with like."""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Callable, List

import pytest

from tracegrad import Value, linear, topological_order

import needs

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import workloads as wl

X, Y = wl.moons()


def losses(value: Callable[[float], Any], steps: int = 3, linear_: Any = None) -> List[float]:
    model = wl.ScalarMLP(value, wl.init_weights(), linear_)
    return [wl.train_step(model, value, X, Y, wl.learning_rate(k)) for k in range(steps)]


def test_the_demo_step_is_the_65818_node_graph_of_the_table() -> None:
    model = wl.ScalarMLP(Value, wl.init_weights())
    loss = wl.svm_loss(model, [[Value(a) for a in row] for row in X], Y)
    assert len(topological_order(loss)) == 65_818


def test_fused_and_minimal_engines_give_the_same_losses_as_tracegrad() -> None:
    want = losses(Value)
    assert losses(Value, linear_=linear) == want  # fused adds in the same order: bit for bit
    assert losses(wl.MinimalValue) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_the_fused_mlp_is_the_workloads_model_bit_for_bit() -> None:
    model = wl.tracegrad_mlp(wl.init_weights())
    got = [wl.train_step(model, Value, X, Y, wl.learning_rate(k)) for k in range(3)]
    assert got == losses(Value)


def test_the_minimal_engine_differentiates_like_tracegrad() -> None:
    a, b = wl.MinimalValue(1.5), wl.MinimalValue(-2.0)
    out = (a * b + 3.0).relu() * a + 2.0 * b
    out.backward()
    ta, tb = Value(1.5), Value(-2.0)
    want = (ta * tb + 3.0).relu() * ta + 2.0 * tb
    want.backward()
    assert (out.data, a.grad, b.grad) == (want.data, ta.grad, tb.grad)


def test_the_plain_float_forward_is_the_same_loss() -> None:
    weights = wl.init_weights()
    model = wl.ScalarMLP(Value, weights)
    want = wl.svm_loss(model, [[Value(a) for a in row] for row in X], Y).data
    assert math.isclose(wl.float_forward_loss(weights, X, Y), want, rel_tol=1e-12)
    assert math.isclose(wl.float_forward_loss_builtin(weights, X, Y), want, rel_tol=1e-12)


def test_micrograd_gives_the_same_losses() -> None:
    mg = needs.micrograd()
    assert losses(mg.engine.Value) == pytest.approx(losses(Value), rel=1e-12, abs=1e-12)
