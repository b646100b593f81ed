"""Replaying a recording: the model's shape as data, rebuilt, and run fast on floats bit for bit."""

from __future__ import annotations

import math
from typing import Any, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import OPS, Value
from tracegrad.nn import ACTIVATIONS, MLP, SGD, Layer, Neuron, fit
from tracegrad.nn.data import moons
from tracegrad.nn.losses import hinge, l2_penalty
from tracegrad.nn.replay import FloatForward, Replayer, array_activation, check_description, describe, rebuild

import needs

activations = st.sampled_from(sorted(ACTIVATIONS))
coords = st.floats(-4.0, 4.0, allow_nan=False, allow_subnormal=False)


@given(hidden=activations, output=activations, sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       seed=st.integers(0, 10_000), fused=st.booleans(),
       points=st.lists(st.lists(coords, min_size=3, max_size=3), min_size=1, max_size=6))
@example(hidden="relu", output="linear", sizes=[2], seed=0, fused=False, points=[[0.0, -0.0, 1.0]])
def test_the_float_forward_is_the_models_bit_for_bit(hidden: str, output: str, sizes: List[int], seed: int,
                                                     fused: bool, points: List[List[float]]) -> None:
    model = MLP(3, sizes, activation=hidden, output_activation=output, rng=seed, fused=fused)
    shape = describe(model)
    assert shape is not None
    wanted = [[v.data for v in (out if isinstance(out, list) else [out])] for out in map(model, points)]
    for numpy in (False, None):
        if numpy is None:
            needs.numpy()
        fast = FloatForward(shape, numpy=numpy)
        fast.load([p.data for p in model.parameters()])
        columns = fast.columns(points)
        assert [[column[i] for column in columns[-1]] for i in range(len(points))] == wanted
        first = [n for n in model.layers[0].neurons]
        assert columns[0] == [[n(p).data for p in points] for n in first]  # every layer is kept


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_array_activations_are_the_op_tables(name: str) -> None:
    np = needs.numpy()
    values = [0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 3.0, -3.0, 700.0, -700.0, math.inf, -math.inf, math.nan]
    got = array_activation(name, 0.07, np)(np.array(values)).tolist()
    for x, y in zip(values, got):
        if name == "linear":
            want = x
        else:
            op = OPS[name]
            want = op.forward(x, 0.07) if op.param is not None else op.forward(x)
        assert (math.isnan(y) and math.isnan(want)) or (y == want and math.copysign(1, y) == math.copysign(1, want)), (
            name, x, y, want)


def test_describe_and_rebuild_keep_names_and_order() -> None:
    for model in (MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", rng=1),
                  Layer(3, 2, activation="leaky_relu", slope=0.2, rng=1), Neuron(4, activation="step", rng=1)):
        shape = describe(model)
        assert shape is not None and check_description(shape) is None
        again = rebuild(shape)
        assert type(again) is type(model)
        assert [n for n, _ in again.named_parameters()] == [n for n, _ in model.named_parameters()]
        assert all(p.data == 0.0 for p in again.parameters())
        assert FloatForward(shape).parameter_count == len(model.parameters())


def test_what_cannot_be_described() -> None:
    assert describe(lambda x: x) is None
    mixed = Layer(2, 2, rng=0)
    mixed.neurons[1] = Neuron(2, activation="tanh", rng=0)
    assert describe(mixed) is None

    class Custom(MLP):
        pass

    assert describe(Custom(2, [1], rng=0)) is None  # a subclass may compute anything
    assert check_description({"kind": "MLP", "inputs": 2, "layers": []}) is not None
    assert check_description({"kind": "Neuron", "inputs": 2, "layers": [
        {"size": 2, "activation": "relu", "slope": 0.0}]}) == "a Neuron's layer has size 1"
    with pytest.raises(ValueError, match="expected 9 parameters, got 2"):
        FloatForward(describe(MLP(2, [2, 1], rng=0))).load([1.0, 2.0])  # type: ignore[arg-type]


def _trained() -> Any:
    model = MLP(2, [4, 1], rng=0, fused=True)
    history = fit(model, moons(16, seed=0, signed=True), lambda o, y: hinge(o, y) + l2_penalty(model.parameters()),
                  SGD(model.parameters(), lr=0.1), epochs=4, progress=False, record=True)
    return model, history


def test_replaying_puts_the_live_parameters_back() -> None:
    model, history = _trained()
    before = [(p.data, p.grad) for p in model.parameters()]
    replayer = Replayer(history.recording)
    first = history.recording.snapshots[0]
    with replayer.at(first) as (rebuilt, loss):
        assert [p.data for p in model.parameters()] == first.parameters  # the loss's penalty sees them
        assert [p.data for p in rebuilt.parameters()] == first.parameters
        out = loss([rebuilt([0.5, 0.5])], [1])
        out.backward()  # adds into the live parameters' gradients through the penalty
    assert [(p.data, p.grad) for p in model.parameters()] == before
    with pytest.raises(RuntimeError), replayer.at(first):
        raise RuntimeError("stop")
    assert [(p.data, p.grad) for p in model.parameters()] == before


def test_replaying_a_model_that_is_not_described() -> None:
    w = Value(0.5, label="w")

    def model(x: List[Any]) -> Value:
        return (w * x[0]).tanh()

    from tracegrad.nn.losses import mse

    history = fit(model, ([[1.0], [2.0]], [0.5, 0.9]), mse, SGD([w], lr=0.5), epochs=3, progress=False,
                  accuracy=None, record=True)
    replayer = Replayer(history.recording)
    snap = history.recording.snapshots[1]
    assert replayer.outputs(snap, [[1.0], [2.0]]) == [[[math.tanh(snap.parameters[0] * 1.0),
                                                        math.tanh(snap.parameters[0] * 2.0)]]]
    assert w.data == history.recording.live.parameters[0].data != snap.parameters[0]
    history.recording.live = None
    assert not Replayer(history.recording).can_evaluate
    with pytest.raises(ValueError, match="the model has 0 parameters, the recording 1"):
        Replayer(history.recording, model=model)  # a bare function does not say what its parameters are
