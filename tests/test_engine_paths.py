"""The engine's fast paths against the plain chain rule: backward() is backward_steps() run to the end."""

from __future__ import annotations

import math
from typing import Any, Dict, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Step, Value, backward_steps, linear, mode_context, topological_order, value_sum
from tracegrad.testing import Expression, expressions

fused_ops = ["add", "mul", "sub", "tanh", "relu", "exp", "sum", "linear", "pow", "div", "neg"]


def totals_by_steps(root: Value) -> Dict[Value, float]:
    """∂root/∂node for every node, from the generator: the last running total of each input."""
    totals: Dict[Value, float] = {root: 1.0}
    for step in backward_steps(root):
        totals[step.input] = step.total
    return totals


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@given(expressions(n_inputs=3, max_leaves=12))
def test_backward_matches_the_step_generator_exactly(e: Expression) -> None:
    xs = e.leaves()
    out = e(*xs)
    want = totals_by_steps(out)
    out.backward()
    for node in topological_order(out):
        assert same(node.grad, want.get(node, 0.0)), (node, e.source)


@given(expressions(n_inputs=2, ops=fused_ops, max_leaves=12))
def test_fused_graphs_match_the_step_generator_exactly(e: Expression) -> None:
    xs = e.leaves()
    out = e(*xs)
    want = totals_by_steps(out)
    out.backward()
    assert all(same(x.grad, want.get(x, 0.0)) for x in xs)


@given(expressions(n_inputs=3, max_leaves=10))
def test_backward_with_a_step_hook_takes_the_same_path(e: Expression) -> None:
    fast_leaves, hooked_leaves = e.leaves(), e.leaves()
    fast, hooked = e(*fast_leaves), e(*hooked_leaves)
    seen: List[Step] = []
    fast.backward()
    with mode_context(on_step=seen.append):
        hooked.backward()
    assert len(seen) == sum(len(n.inputs) for n in topological_order(hooked))
    for a, b in zip(topological_order(fast), topological_order(hooked)):
        assert same(a.grad, b.grad)


@given(expressions(n_inputs=2, max_leaves=10), st.integers(2, 3))
def test_leaves_accumulate_and_interior_nodes_hold_the_latest_call(e: Expression, calls: int) -> None:
    xs = e.leaves()
    out = e(*xs)
    out.backward()
    once = {n: n.grad for n in topological_order(out)}
    for _ in range(calls - 1):
        out.backward()
    for node, g in once.items():
        if node.op is None:
            assert same(node.grad, math.fsum([g] * calls)) or math.isclose(node.grad, calls * g, rel_tol=1e-15)
        else:
            assert same(node.grad, g)


@given(expressions(n_inputs=3, ops=fused_ops, max_leaves=12))
def test_topological_order_puts_each_node_after_its_inputs(e: Expression) -> None:
    out = e(*e.leaves())
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is out
    for node in order:
        assert all(position[i] < position[node] for i in node.inputs)
    reachable, stack = {out}, [out]
    while stack:
        for i in stack.pop().inputs:
            if i not in reachable:
                reachable.add(i)
                stack.append(i)
    assert reachable == set(order)


def test_a_wide_fused_node_and_a_shared_input() -> None:
    x = Value(0.5)
    ws = [Value(float(i)) for i in range(50)]
    out = value_sum([linear(ws, [x] * 50, x), x * x])
    want = totals_by_steps(out)
    out.backward()
    assert x.grad == want[x] == sum(range(50)) + 1.0 + 1.0
    assert [w.grad for w in ws] == [want[w] for w in ws] == [0.5] * 50


def test_a_long_chain_needs_no_recursion() -> None:
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y + 0.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.slow
def test_a_chain_of_ten_million() -> None:
    x = Value(1.0)
    y: Any = x
    for _ in range(10_000_000):
        y = y + 0.0
    y.backward()
    assert x.grad == 1.0
