"""micrograd's demo notebook runs on tracegrad unchanged and gives micrograd's numbers.

The notebook (two moons, ``MLP(2, [16, 16, 1])``, SVM max-margin loss + 1e-4 L2, 100 steps of
SGD with a decaying rate, after ``random.seed(1337)`` and ``np.random.seed(1337)``) is written
once below and run with either engine's ``Value`` and ``MLP``. Its points come from
``tracegrad.nn.data.sklearn_moons``, the same numbers scikit-learn gives after NumPy's seed.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, List, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value, grad
from tracegrad.nn import MLP
from tracegrad.nn.data import sklearn_moons

import needs

# Printed by the published notebook: "step k loss ..., accuracy ...%".
NOTEBOOK = {
    0: (0.8958441028683222, 0.50),
    1: (1.7235905336972022, 0.81),
    2: (0.7429006313851131, 0.77),
    39: (0.05225659921975849, 0.98),
    40: (0.06016009895234464, 1.00),
    99: (0.010978370135492717, 1.00),
}
NOTEBOOK_FIRST_PERFECT_STEP = 40


def notebook(value: Callable[[float], Any], make_model: Callable[[], Any], steps: int) -> List[Tuple[float, float]]:
    """micrograd's demo.ipynb, cell by cell; returns (loss, accuracy) of each step."""
    data = sklearn_moons(n_samples=100, noise=0.1, numpy_seed=1337)
    X, y = data.X, [v * 2 - 1 for v in data.y]  # make y be -1 or 1
    random.seed(1337)
    model = make_model()

    def loss() -> Tuple[Any, float]:
        inputs = [list(map(value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    return history


def first_perfect(history: List[Tuple[float, float]]) -> int:
    return next(k for k, (_, acc) in enumerate(history) if acc == 1.0)


def check_against(ours: List[Tuple[float, float]], theirs: List[Tuple[float, float]]) -> None:
    assert ours[0][0] == theirs[0][0]  # the forward pass is deterministic: every digit
    for k, ((loss, acc), (their_loss, their_acc)) in enumerate(zip(ours, theirs)):
        assert loss == pytest.approx(their_loss, rel=1e-12), f"step {k}"
        assert acc == their_acc, f"step {k}"


def check_published(history: List[Tuple[float, float]]) -> None:
    assert history[0] == NOTEBOOK[0]
    for k, (loss, acc) in NOTEBOOK.items():
        if k < len(history):
            assert history[k][0] == pytest.approx(loss, rel=1e-12), f"step {k}"
            assert history[k][1] == acc, f"step {k}"
    assert first_perfect(history) == NOTEBOOK_FIRST_PERFECT_STEP


def test_notebook_reproduces_the_published_numbers_up_to_100_percent() -> None:
    check_published(notebook(Value, lambda: MLP(2, [16, 16, 1], fused=True), NOTEBOOK_FIRST_PERFECT_STEP + 1))


def test_first_steps_match_micrograd_side_by_side() -> None:
    needs.micrograd()
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP

    theirs = notebook(MicroValue, lambda: MicroMLP(2, [16, 16, 1]), 2)
    ours = notebook(Value, lambda: MLP(2, [16, 16, 1]), 2)
    check_against(ours, theirs)


def test_same_model_same_parameters_same_repr_as_micrograd() -> None:
    needs.micrograd()
    from micrograd.nn import MLP as MicroMLP
    from micrograd.nn import Layer as MicroLayer
    from micrograd.nn import Neuron as MicroNeuron

    from tracegrad.nn import Layer, Neuron

    for ours_cls, theirs_cls, args in ((MLP, MicroMLP, (3, [4, 4, 1])), (Layer, MicroLayer, (3, 2)),
                                       (Neuron, MicroNeuron, (3,))):
        random.seed(42)
        theirs = theirs_cls(*args)
        random.seed(42)
        ours = ours_cls(*args)
        assert repr(ours) == repr(theirs)
        assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    random.seed(0)
    assert repr(MicroNeuron(2, nonlin=False)) == repr(Neuron(2, nonlin=False))


@pytest.mark.slow
def test_whole_notebook_matches_micrograd_side_by_side() -> None:
    needs.micrograd()
    from micrograd.engine import Value as MicroValue
    from micrograd.nn import MLP as MicroMLP

    theirs = notebook(MicroValue, lambda: MicroMLP(2, [16, 16, 1]), 100)
    ours = notebook(Value, lambda: MLP(2, [16, 16, 1]), 100)
    check_against(ours, theirs)
    assert first_perfect(ours) == first_perfect(theirs) == NOTEBOOK_FIRST_PERFECT_STEP
    check_published(ours)


# --- the GPT-style engines' constructor: Value(data, children, local_grads)


class GptStyle:
    """Custom ops written as the GPT-style minimal engines write them: the node and its local
    derivatives as numbers, ``Value(data, children, local_grads)``."""

    @staticmethod
    def log(v: Value) -> Value:
        return Value(math.log(v.data), (v,), (1 / v.data,))

    @staticmethod
    def exp(v: Value) -> Value:
        return Value(math.exp(v.data), (v,), (math.exp(v.data),))

    @staticmethod
    def mul(a: Value, b: Value) -> Value:
        return Value(a.data * b.data, (a, b), (b.data, a.data))


@given(st.floats(0.1, 10.0), st.floats(-3.0, 3.0))
def test_custom_ops_given_local_grads_pass_gradients_through(a: float, b: float) -> None:
    x, y = Value(a), Value(b)
    out = GptStyle.mul(GptStyle.log(x), GptStyle.exp(y)) * 2.0 + x  # mixed with tracegrad's own ops
    out.backward()
    xr, yr = Value(a), Value(b)
    ref = xr.log() * yr.exp() * 2.0 + xr
    ref.backward()
    assert out.data == pytest.approx(ref.data, rel=1e-12)
    assert x.grad == pytest.approx(xr.grad, rel=1e-12) and y.grad == pytest.approx(yr.grad, rel=1e-12)
    assert type(x.grad) is float


def test_local_grads_nodes_show_their_structure_and_refuse_what_cannot_work() -> None:
    x = Value(4.0)
    node = Value(2.0, (x,), (0.25,))
    assert node.inputs == (x,) and node._children == (x,) and node._local_grads == (0.25,) and node._op == ""
    assert Value(1.0, (x, x), local_grads=[1, 2])._local_grads == (1.0, 2.0)  # the keyword, numbers as floats
    assert (x * 3.0)._local_grads == (3.0, 4.0)  # tracegrad's own nodes answer too
    with pytest.raises(ValueError, match="1 children need 1 local grads, got 2"):
        Value(1.0, (x,), (1.0, 2.0))
    with pytest.raises(TypeError, match="each local grad must be a real number, got str"):
        Value(1.0, (x,), ("a",))
    from tracegrad import compile
    from tracegrad.check import gradcheck

    with pytest.raises(TypeError, match=r"Value\(data, children, local_grads\)"):
        compile(lambda: Value(2.0, (x,), (0.25,)) * 1.0)()
    (g,) = grad(GptStyle.log(x), [x], create_graph=True)
    assert g.data == 0.25
    assert gradcheck(lambda v: GptStyle.log(v), [4.0])
