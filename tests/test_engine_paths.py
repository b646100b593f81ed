"""The engine's fast paths against the plain chain rule: backward() is backward_steps() run to the end."""

from __future__ import annotations

import math
from typing import Any, Dict, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import (
    DerivativeError,
    DomainError,
    Step,
    Value,
    backward_steps,
    linear,
    mode_context,
    neuron,
    topological_order,
    value_sum,
)
from tracegrad.engine.ops import OPS
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


# --- the zero-upstream skip: backward() passes over a node whose upstream gradient is exactly 0
# when its op has finite partials and its output is finite. Graphs whose leaves are the numbers
# where that could go wrong (inf, nan, ±0, huge, subnormal) and with dead ReLUs everywhere.

SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, -3.0, 1e300, -1e300, 1e-300, 5e-324, math.inf, -math.inf, math.nan]
UNARY = ["relu", "tanh", "exp", "sigmoid", "abs", "neg", "sin", "cos", "step", "sign", "sqrt", "log", "square",
         "reciprocal", "leaky_relu"]
BINARY = ["add", "sub", "mul", "div", "linear", "linear_relu", "shared", "sum"]
leaf_values = st.one_of(st.sampled_from(SPECIAL), st.floats(-3.0, 3.0))
# one instruction: (op, three picks among the nodes so far, a width, whether a dead-or-alive relu follows)
instructions = st.tuples(st.sampled_from(UNARY + BINARY), st.integers(0, 10**6), st.integers(0, 10**6),
                         st.integers(0, 10**6), st.integers(1, 3), st.booleans())


def build(leaves: List[Value], program: List[Any]) -> Value:
    """The graph a program of instructions makes; an instruction whose op refuses its inputs
    (log of -1, exp overflowing) is left out, as a user's graph would not have that node."""
    nodes = list(leaves)
    tuples: Any = None  # the latest neuron's (w..., b) and (x...), which "shared" reads again
    for kind, i, j, k, width, relu_after in program:
        x, y = nodes[i % len(nodes)], nodes[j % len(nodes)]
        pick = [nodes[(k + 7 * m) % len(nodes)] for m in range(2 * width + 1)]
        try:
            if kind == "shared" and tuples is not None:
                v = neuron(*tuples, relu=relu_after)
                nodes.append(v)
                continue
            if kind in ("linear_relu", "shared"):
                tuples = ((*pick[:width], pick[-1]), tuple(pick[width:-1]))
                nodes.append(neuron(*tuples, relu=True))
                continue
            if kind == "square":
                v = x ** 2
            elif kind == "reciprocal":
                v = x ** -1
            elif kind == "neg":
                v = -x
            elif kind == "leaky_relu":
                v = x.leaky_relu(0.1)
            elif kind in UNARY:
                v = getattr(x, kind)()
            elif kind == "linear":
                v = linear(pick[:width], pick[width:-1], pick[-1])
            elif kind == "sum":
                v = value_sum(pick[: width + 1])
            else:
                v = {"add": x.__add__, "sub": x.__sub__, "mul": x.__mul__, "div": x.__truediv__}[kind](y)
        except (DomainError, ArithmeticError, ValueError):
            continue
        nodes.append(v.relu() if relu_after else v)
    return nodes[-1]


def bits(x: float) -> str:
    """A float's exact identity: its bits (so -0.0 and 0.0 differ), any NaN as one."""
    return "nan" if math.isnan(x) else x.hex() if x else str(x)


@given(st.lists(leaf_values, min_size=1, max_size=4), st.lists(instructions, min_size=1, max_size=14))
@example([-math.inf, 1.0], [("mul", 0, 1, 0, 1, True)])  # -inf * 1 behind a dead relu: inf * 0 is NaN
@example([0.0], [("sqrt", 0, 0, 0, 1, False), ("sub", 1, 0, 0, 1, True)])  # sqrt'(0) behind a dead relu
@example([1e300, 1e300, -1.0], [("linear", 0, 0, 0, 1, True), ("mul", 0, 2, 0, 1, True)])
@example([5e-324, -1.0], [("log", 0, 0, 0, 1, False), ("mul", 2, 1, 0, 1, True)])  # log'(tiny) overflows
@example([math.inf, 0.0], [("linear_relu", 0, 0, 0, 1, False)])  # a dead ReLU neuron: inf * 0 is NaN
@example([-1.0, 2.0], [("linear_relu", 0, 0, 0, 1, False), ("shared", 0, 0, 0, 1, False), ("add", 2, 3, 0, 1, False)])
def test_the_zero_upstream_skip_changes_no_bit(data: List[float], program: List[Any]) -> None:
    leaves = [Value(x) for x in data]
    out = build(leaves, program)
    try:
        want = totals_by_steps(out)
    except DerivativeError:
        for leaf in leaves:
            leaf.grad = 0.25
        with pytest.raises(DerivativeError):
            out.backward()
        assert [leaf.grad for leaf in leaves] == [0.25] * len(leaves)  # the leaves restored
        return
    out.backward()
    for node in topological_order(out):
        # backward adds each contribution to a gradient that starts at 0.0; the generator's running
        # total starts at the first contribution, so 0.0 + total is the same sum (0.0 + -0.0 is 0.0)
        assert bits(node.grad) == bits(0.0 + want.get(node, 0.0)), (node, node.op)


def test_the_skip_is_exact_only_where_the_op_table_says_so() -> None:
    finite = {name for name, op in OPS.items() if op.finite_partials}
    assert {"add", "mul", "relu", "tanh", "linear", "sum"} <= finite
    assert not finite & {"div", "pow", "vpow", "log", "sqrt"}
    a, b = Value(-math.inf), Value(1.0)
    (a * b).relu().backward()  # a dead relu above a node whose output is -inf: not skipped
    assert a.grad == 0.0 and math.isnan(b.grad)
    x = Value(0.0)
    with pytest.raises(DerivativeError, match="sqrt"):
        (x.sqrt() - 1.0).relu().backward()  # sqrt'(0) is undefined even behind a dead relu


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
