"""Neuron, Layer, MLP: naming, initialisation, fused path, gradients, saving and loading, to_torch."""

from __future__ import annotations

import json
import math
import os
import random
from typing import Any, List

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn import ACTIVATIONS, MLP, Layer, LoadError, Module, Neuron

import needs

coords = st.floats(-3.0, 3.0, allow_nan=False)
activations = st.sampled_from(sorted(ACTIVATIONS))


def numeric_grad(f: Any, params: List[Value], h: float = 1e-6) -> List[float]:
    """Central differences of f() with respect to each parameter's data."""
    out = []
    for p in params:
        old = p.data
        p.data = old + h
        up = f().data
        p.data = old - h
        down = f().data
        p.data = old
        out.append((up - down) / (2 * h))
    return out


# --- structure and names


def test_named_parameters_use_dotted_paths_and_set_labels() -> None:
    model = MLP(3, [4, 2], rng=0)
    names = [n for n, _ in model.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
                         "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.1.b"
    assert "layers.0.neurons.3.w.1" in names
    assert len(names) == len(set(names)) == 4 * 4 + 2 * 5
    assert [p.label for p in model.parameters()] == names


def test_standalone_neuron_and_layer_names() -> None:
    assert [n for n, _ in Neuron(2, rng=0).named_parameters()] == ["w.0", "w.1", "b"]
    assert [n for n, _ in Layer(1, 2, rng=0).named_parameters()] == ["neurons.0.w.0", "neurons.0.b",
                                                                    "neurons.1.w.0", "neurons.1.b"]


def test_repr_matches_micrograd() -> None:
    model = MLP(2, [2, 1], rng=0)
    assert repr(model) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    assert repr(Neuron(3, activation="tanh", rng=0)) == "TanhNeuron(3)"
    assert repr(Neuron(3, False, rng=0)) == "LinearNeuron(3)"


def test_micrograd_init_order_draws_from_global_random() -> None:
    random.seed(7)
    model = MLP(2, [3, 1])
    random.seed(7)
    expected = []
    for nin, nout in ((2, 3), (3, 1)):
        for _ in range(nout):
            expected += [random.uniform(-1, 1) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected


def test_seeded_models_are_reproducible_and_leave_global_random_alone() -> None:
    random.seed(3)
    before = random.random()
    random.seed(3)
    a, b = MLP(2, [4, 1], rng=11), MLP(2, [4, 1], rng=random.Random(11))
    assert random.random() == before
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


@pytest.mark.parametrize("init", ["xavier", "he"])
def test_inits_have_the_right_scale(init: str) -> None:
    layer = Layer(200, 50, init=init, rng=1)
    ws = [w.data for n in layer.neurons for w in n.w]
    std = math.sqrt(sum(w * w for w in ws) / len(ws))
    want = math.sqrt(2.0 / (200 + 50)) if init == "xavier" else math.sqrt(2.0 / 200)
    assert abs(std - want) / want < 0.05
    assert all(n.b.data == 0.0 for n in layer.neurons)
    if init == "xavier":
        assert max(abs(w) for w in ws) <= math.sqrt(6.0 / 250)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        Neuron(2, activation="swish")
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        Neuron(2, init="zeros")
    with pytest.raises(ValueError, match="nin must be a positive int"):
        Neuron(0)
    with pytest.raises(TypeError, match="rng"):
        Neuron(2, rng="seed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ReLUNeuron\(2\): expected 2 inputs, got 3"):
        Neuron(2, rng=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [])


def test_layer_of_one_neuron_returns_a_value() -> None:
    assert isinstance(Layer(2, 1, rng=0)([1.0, 2.0]), Value)
    assert len(Layer(2, 3, rng=0)([1.0, 2.0])) == 3


def test_zero_grad() -> None:
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


# --- forward and gradients


@given(activation=activations, x=st.lists(coords, min_size=3, max_size=3), seed=st.integers(0, 10_000))
@example(activation="relu", x=[0.0, 0.0, 0.0], seed=0)
def test_neuron_forward_is_its_formula(activation: str, x: List[float], seed: int) -> None:
    n = Neuron(3, activation=activation, rng=seed)
    pre = n.b.data
    for w, xi in zip(n.w, x):
        pre = pre + w.data * xi
    out = n(x).data
    expected = {"relu": max(pre, 0.0), "tanh": math.tanh(pre), "sigmoid": 1 / (1 + math.exp(-pre)),
                "step": 1.0 if pre > 0 else 0.0, "linear": pre,
                "leaky_relu": pre if pre > 0 else 0.01 * pre}[activation]
    assert out == pytest.approx(expected, rel=1e-12, abs=1e-15)


@given(activation=st.sampled_from(["tanh", "sigmoid", "linear"]), x=st.lists(coords, min_size=2, max_size=2),
       seed=st.integers(0, 10_000))
def test_mlp_gradients_match_numerical_differentiation(activation: str, x: List[float], seed: int) -> None:
    model = MLP(2, [3, 2], activation=activation, rng=seed)

    def f() -> Value:
        a, b = model(x)
        return a * b + a

    model.zero_grad()
    f().backward()
    numeric = numeric_grad(f, model.parameters())
    for p, g in zip(model.parameters(), numeric):
        assert p.grad == pytest.approx(g, rel=1e-5, abs=1e-6), p.label


@given(activation=activations, x=st.lists(coords, min_size=3, max_size=3), seed=st.integers(0, 10_000))
def test_fused_model_is_bit_for_bit_the_fine_grained_one(activation: str, x: List[float], seed: int) -> None:
    plain = MLP(3, [4, 3, 2], activation=activation, rng=seed)
    fused = MLP(3, [4, 3, 2], activation=activation, rng=seed, fused=True)
    xs_plain, xs_fused = [Value(v) for v in x], [Value(v) for v in x]
    out_plain, out_fused = plain(xs_plain), fused(xs_fused)
    (out_plain[0] * out_plain[1]).backward()
    (out_fused[0] * out_fused[1]).backward()
    assert [o.data for o in out_plain] == [o.data for o in out_fused]
    assert [p.grad for p in plain.parameters()] == [p.grad for p in fused.parameters()]
    assert [v.grad for v in xs_plain] == [v.grad for v in xs_fused]


# --- state, save and load


def _model(seed: int = 0) -> MLP:
    return MLP(2, [3, 1], rng=seed)


def test_state_dict_round_trip() -> None:
    a, b = _model(1), _model(2)
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()


@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=13, max_size=13))
def test_save_and_load_round_trip_exactly(tmp_path_factory: Any, values: List[float]) -> None:
    path = tmp_path_factory.mktemp("m") / "model.json"
    a = _model()
    for p, v in zip(a.parameters(), values):
        p.data = v
    a.save(path)
    b = _model(5).load(path)
    assert [p.data for p in b.parameters()] == values
    assert [f for f in os.listdir(path.parent) if f.startswith(".tmp")] == []


def test_wrong_shape_file_is_refused_and_model_untouched(tmp_path: Any) -> None:
    path = tmp_path / "big.json"
    MLP(2, [4, 1], rng=0).save(path)
    small = _model()
    before = small.state_dict()
    with pytest.raises(LoadError, match=r"unexpected 4 parameter\(s\): 'layers.0.neurons.3.w.0'"):
        small.load(path)
    assert small.state_dict() == before


def test_truncated_file_is_refused_and_model_untouched(tmp_path: Any) -> None:
    path = tmp_path / "m.json"
    model = _model()
    model.save(path)
    text = path.read_text()
    before = model.state_dict()
    for cut in (0, 1, len(text) // 2, len(text) - 2):
        path.write_text(text[:cut])
        with pytest.raises(LoadError, match="not a valid model file"):
            model.load(path)
        assert model.state_dict() == before


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "not a tracegrad model file"),
        ('{"format": "tracegrad.module", "version": 99, "parameters": {}}', "version 99"),
        ('{"format": "tracegrad.module", "version": 1, "parameters": [1]}', "expected a dict"),
        ("[" * 100_000 + "]" * 100_000, "not a valid model file"),
        ("\xff\xfe garbage", "not a valid model file"),
    ],
)
def test_hostile_files_are_refused(tmp_path: Any, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content.encode("latin-1"))
    model = _model()
    before = model.state_dict()
    with pytest.raises(LoadError, match=message):
        model.load(path)
    assert model.state_dict() == before


@pytest.mark.parametrize("bad", ["NaN", "Infinity", '"1.0"', "true", "null", "1e999", "1" + "0" * 400,
                                 "9" * 5000, "[1.0]"])
def test_non_numbers_and_non_finite_values_are_refused(tmp_path: Any, bad: str) -> None:
    path = tmp_path / "m.json"
    model = _model()
    model.save(path)
    doc = json.loads(path.read_text())
    name = "layers.1.neurons.0.b"
    text = json.dumps(doc).replace(f'"{name}": {json.dumps(doc["parameters"][name])}', f'"{name}": {bad}')
    path.write_text(text)
    before = model.state_dict()
    with pytest.raises(LoadError):
        model.load(path)
    assert model.state_dict() == before


def test_save_refuses_non_finite_parameters_and_keeps_the_old_file(tmp_path: Any) -> None:
    path = tmp_path / "m.json"
    model = _model()
    model.save(path)
    old = path.read_text()
    model.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="layers.0.neurons.0.w.0.*nan"):
        model.save(path)
    assert path.read_text() == old


def test_module_base_has_no_parameters() -> None:
    assert Module().parameters() == [] and Module().state_dict() == {}


# --- PyTorch


@given(activation=activations, output=activations, x=st.lists(coords, min_size=3, max_size=3),
       seed=st.integers(0, 10_000))
@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@example(activation="relu", output="linear", x=[1.0, 2.0, 3.0], seed=0)
def test_to_torch_gives_the_same_outputs_and_gradients(activation: str, output: str, x: List[float],
                                                       seed: int) -> None:
    torch = needs.torch()
    model = MLP(3, [5, 4, 2], activation=activation, output_activation=output, rng=seed)
    net = model.to_torch()
    xs = [Value(v) for v in x]
    outs = model(xs)
    (outs[0] * 2.0 + outs[1]).backward()
    tx = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    tout = net(tx)
    (tout[0, 0] * 2.0 + tout[0, 1]).backward()
    assert [o.data for o in outs] == pytest.approx(tout[0].tolist(), rel=1e-12, abs=1e-12)
    torch_grads = []
    for module in net:
        if isinstance(module, torch.nn.Linear):
            for row, b in zip(module.weight.grad.tolist(), module.bias.grad.tolist()):
                torch_grads += [*row, b]
    assert [p.grad for p in model.parameters()] == pytest.approx(torch_grads, rel=1e-12, abs=1e-12)
    assert [v.grad for v in xs] == pytest.approx(tx.grad[0].tolist(), rel=1e-12, abs=1e-12)


def test_a_crash_while_saving_keeps_the_old_file_whole(tmp_path: Any, monkeypatch: Any) -> None:
    path = tmp_path / "m.json"
    model = _model()
    model.save(path)
    old = path.read_text()
    model.parameters()[0].data = 0.125

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_text() == old
    assert os.listdir(tmp_path) == ["m.json"]


def test_a_layer_of_one_neuron_feeds_the_next_layer() -> None:
    model = MLP(2, [1, 1], rng=0)
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    out.backward()
    assert all(isinstance(p.grad, float) for p in model.parameters())
    assert Neuron(1, rng=0)(Value(2.0)).data == Neuron(1, rng=0)([2.0]).data
