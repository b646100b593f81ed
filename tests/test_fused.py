"""The fused nodes, Value.sum and linear: the fine-grained graph's numbers, bit for bit, in one node."""

from __future__ import annotations

import math
from typing import List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import Value, backward_steps, grad, linear, neuron, topological_order, value_sum
from tracegrad.engine.ops import OPS

import needs

finite = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
vectors = st.integers(1, 12).flatmap(lambda n: st.tuples(*[st.lists(finite, min_size=n, max_size=n)] * 2))


@given(st.lists(finite, min_size=2, max_size=30))
@example([0.1, 0.2, 0.3])  # not associative: (0.1 + 0.2) + 0.3 != 0.1 + (0.2 + 0.3)
@example([1e16, 1.0, -1e16])  # a compensated sum would give 1.0 here, the chain of + gives 0.0
def test_sum_adds_left_to_right_as_the_chain_of_plus_does(xs: List[float]) -> None:
    fused_leaves = [Value(x) for x in xs]
    chain_leaves = [Value(x) for x in xs]
    fused = Value.sum(fused_leaves)
    chain = chain_leaves[0]
    for v in chain_leaves[1:]:
        chain = chain + v
    assert fused.data == chain.data
    assert fused.op is OPS["sum"] and fused.inputs == tuple(fused_leaves)
    fused.backward()
    chain.backward()
    assert [v.grad for v in fused_leaves] == [v.grad for v in chain_leaves] == [1.0] * len(xs)


def test_sum_of_nothing_one_thing_and_numbers() -> None:
    assert Value.sum([]).data == 0.0 and Value.sum([]).op is None
    x = Value(2.0)
    assert value_sum([x]) is x
    s = value_sum([x, 3, 0.5])
    assert s.data == 5.5 and s.inputs[0] is x and s.inputs[1].data == 3.0


def test_sum_counts_a_repeated_input_twice() -> None:
    x = Value(2.0)
    s = value_sum([x, x, x])
    s.backward()
    assert s.data == 6.0 and x.grad == 3.0


@given(vectors, finite)
@example(([0.1, 0.2], [0.3, 0.7]), 1e16)
def test_linear_is_the_fine_grained_neuron_bit_for_bit(wx: tuple, b: float) -> None:  # type: ignore[type-arg]
    w_data, x_data = wx
    fused_ws, fused_xs, fused_b = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    fine_ws, fine_xs, fine_b = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    fused = linear(fused_ws, fused_xs, fused_b).tanh()
    fine = sum((w * x for w, x in zip(fine_ws, fine_xs)), fine_b).tanh()  # micrograd's neuron
    assert fused.data == fine.data
    fused.backward()
    fine.backward()
    assert [v.grad for v in (*fused_ws, *fused_xs, fused_b)] == [v.grad for v in (*fine_ws, *fine_xs, fine_b)]


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@given(vectors, finite)
def test_linear_gradients_agree_with_pytorch(wx: tuple, b: float) -> None:  # type: ignore[type-arg]
    torch = needs.torch()
    w_data, x_data = wx
    ws, xs, bias = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    out = linear(ws, xs, bias) * 0.01
    out.backward()
    tw = torch.tensor(w_data, dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(x_data, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    t_out = (tb + (tw * tx).sum()) * 0.01
    t_out.backward()
    assert math.isclose(out.data, t_out.item(), rel_tol=1e-12, abs_tol=1e-9)
    for mine, theirs in ((ws, tw.grad), (xs, tx.grad)):
        assert [v.grad for v in mine] == pytest.approx(theirs.tolist(), rel=1e-12, abs=1e-15)
    assert bias.grad == pytest.approx(tb.grad.item(), rel=1e-12)


@given(vectors, finite)
def test_linear_steps_and_second_derivatives_come_from_the_op_table(wx: tuple, b: float) -> None:  # type: ignore[type-arg]
    w_data, x_data = wx
    ws, xs, bias = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    out = linear(ws, xs, bias)
    steps = list(backward_steps(out))
    assert [s.input for s in steps] == [*ws, *xs, bias]
    assert [s.local for s in steps] == [*x_data, *w_data, 1.0]
    # d/dw0 of (d out/dx0 = w0) is 1: the partials evaluated on Values
    (dx0,) = grad(out, [xs[0]], create_graph=True)
    assert grad(dx0, [ws[0]]) == [1.0]


def test_linear_lifts_numbers_and_refuses_mismatched_lengths() -> None:
    w = Value(2.0)
    out = linear([w, 3.0], [4.0, Value(5.0)], 1)
    assert out.data == 1.0 + 8.0 + 15.0 and len(out.inputs) == 5
    with pytest.raises(ValueError, match="linear: 2 weights for 1 inputs"):
        linear([w, w], [w], w)
    with pytest.raises(TypeError):
        linear(["a"], [1.0], 0.0)  # type: ignore[list-item]


def test_fused_ops_keep_value_subclasses_and_refuse_lookalikes() -> None:
    class Named(Value):
        __slots__ = ()

    w, x = Named(2.0), Value(3.0)
    out = linear([w], [x], 0.5)
    assert out.data == 6.5 and out.inputs[0] is w and out.inputs[1] is x
    assert value_sum([w, x]).inputs == (w, x)

    class LooksLikeAValue:
        data = 1.0

    with pytest.raises(TypeError, match="Value: data must be a real number, got LooksLikeAValue"):
        linear([w], [LooksLikeAValue()], 0.0)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got LooksLikeAValue"):
        value_sum([x, LooksLikeAValue()])  # type: ignore[list-item]


@given(vectors, finite)
@example(([0.1, 0.2], [0.3, 0.7]), -1e16)
def test_a_relu_neuron_is_the_fine_grained_neuron_and_its_relu_bit_for_bit(wx: tuple, b: float) -> None:  # type: ignore[type-arg]
    w_data, x_data = wx
    fused_ws, fused_xs, fused_b = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    fine_ws, fine_xs, fine_b = [Value(w) for w in w_data], [Value(x) for x in x_data], Value(b)
    fused = neuron((*fused_ws, fused_b), fused_xs, relu=True) * 1.5
    fine = sum((w * x for w, x in zip(fine_ws, fine_xs)), fine_b).relu() * 1.5
    assert fused.data == fine.data and fused.inputs[0].op is OPS["linear_relu"]
    fused.backward()
    fine.backward()
    assert [v.grad for v in (*fused_ws, *fused_xs, fused_b)] == [v.grad for v in (*fine_ws, *fine_xs, fine_b)]


def test_a_neuron_keeps_its_tuples_and_shows_its_inputs_in_order() -> None:
    w0, w1, b, x0, x1 = (Value(v) for v in (0.5, -1.0, 0.25, 2.0, 3.0))
    params, xs = (w0, w1, b), (x0, x1)
    first, second = neuron(params, xs, relu=True), neuron(params, xs)
    assert first.inputs == second.inputs == (w0, w1, x0, x1, b) and first.param is None
    assert first._a is second._a is params and first._b is second._b is xs  # shared, not copied
    assert second.op is OPS["linear"] and second.data == 0.25 + 1.0 - 3.0 and first.data == 0.0
    from tracegrad.engine import apply

    made = apply(OPS["linear_relu"], w0, w1, x0, x1, b)
    assert made.inputs == (w0, w1, x0, x1, b) and made.data == 0.0
    with pytest.raises(ValueError, match="linear_relu: 1 weights for 2 inputs"):
        neuron((w0, b), xs, relu=True)
    with pytest.raises(TypeError, match="linear: takes the weights, the inputs and the bias"):
        apply(OPS["linear"], w0, w1)


def test_shared_tuples_are_walked_once_and_in_order() -> None:
    # a weight made from a node that reads the same tuple of inputs: the walk must still put every
    # input before every node that reads it
    xs = tuple(Value(v) for v in (0.5, -2.0, 1.5))
    inner = neuron((Value(0.1), Value(0.2), Value(0.3), Value(0.0)), xs, relu=True)
    params = (inner, Value(-0.4), Value(0.7), Value(0.05))
    top = value_sum([neuron(params, xs), neuron(params, xs, relu=True), inner])
    order = topological_order(top)
    position = {node: i for i, node in enumerate(order)}
    assert len(order) == len(set(order)) and order[-1] is top
    assert all(position[i] < position[node] for node in order for i in node.inputs)
    want = {step.input: step.total for step in backward_steps(top)}
    top.backward()
    assert all(x.grad == want[x] for x in (*xs, *params))


def test_a_fused_mlp_shares_its_parameters_until_one_is_replaced() -> None:
    from tracegrad.nn import MLP

    model = MLP(2, [3, 1], rng=0, fused=True)
    neuron0 = model.layers[0].neurons[0]
    a, b = model([1.0, 2.0]), model([3.0, 4.0])
    assert a.op is OPS["linear"] and a.inputs[3].op is OPS["linear_relu"]
    assert a.inputs[3]._a is b.inputs[3]._a  # the first neuron's (w0, w1, b), one tuple for both
    new = Value(5.0)
    neuron0.w[0] = new
    c = model([1.0, 2.0])
    assert c.inputs[3].inputs[0] is new and c.inputs[3]._a is not a.inputs[3]._a
