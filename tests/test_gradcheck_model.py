"""gradcheck_model: every parameter's gradient for a loss on a batch, mismatches by name."""

from __future__ import annotations

import math
from typing import Any, List, Tuple

import pytest
from hypothesis import given, settings

from tracegrad.check.gradcheck import GradcheckError
from tracegrad.check.model import gradcheck_model, gradcheck_model_report
from tracegrad.check.replay import ComplexStepError
from tracegrad.engine import Value, define_op
from tracegrad.engine.generic import cos, sin
from tracegrad.nn import MLP, Module
from tracegrad.nn.losses import hinge, mse, softmax_cross_entropy
from tracegrad.testing import mlps

WRONG_SIN = define_op("wrong_sin_m", sin, [lambda x, out: -cos(x)], ["-cos(x)"], register=False)
REAL_ONLY_SIN = define_op("real_only_sin_m", math.sin, [lambda x, out: cos(x)], ["cos(x)"], register=False)


def _squares(outputs: List[Any], targets: List[Any]) -> Any:
    """Half the summed squared outputs (a list per example for wide models) minus the targets."""
    total = Value(0.0)
    for out, t in zip(outputs, targets):
        for o in (out if isinstance(out, list) else [out]):
            total = total + (o - t) * (o - t) * 0.5
    return total


@settings(max_examples=25, deadline=None)
@given(mlps(nin=(1, 3), activation="tanh"))
def test_every_parameter_of_generated_mlps_passes(case: Tuple[Any, List[float]]) -> None:
    model, xs = case
    batch = ([xs, [x * 0.5 - 0.25 for x in xs]], [0.3, -0.7])
    assert gradcheck_model(model, _squares, batch, atol=1e-9, rtol=1e-7)
    assert gradcheck_model(model, _squares, batch, method="central")
    assert gradcheck_model(model, _squares, batch, fast=True, atol=1e-9, rtol=1e-7)


@pytest.mark.parametrize("fused", [False, True])
def test_a_relu_mlp_on_moons_passes_by_name(fused: bool) -> None:
    from tracegrad.nn.data import moons

    model = MLP(2, [8, 8, 1], rng=3, fused=fused)
    report = gradcheck_model_report(model, hinge, moons(6, seed=2, signed=True))
    assert report.ok, str(report)
    assert [e.input for e in report.entries][:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1",
                                                      "layers.0.neurons.0.b"]
    assert "complex step" in report.header


def test_a_kink_of_relu_is_a_note_not_a_failure() -> None:
    model = MLP(2, [3, 1], rng=2)
    x = [0.5, -1.0]
    neuron = model.layers[0].neurons[0]
    neuron.b.data = -(neuron.w[0].data * x[0] + neuron.w[1].data * x[1])  # its pre-activation is 0
    report = gradcheck_model_report(model, mse, ([x], [1.0]))
    assert report.ok and any("at a kink of relu (x = 0)" in str(note) for note in report.kinks)
    assert gradcheck_model(model, mse, ([x], [1.0]), method="central")


class Wavy(Module):
    """A tanh MLP behind a sine whose derivative has the wrong sign."""

    def __init__(self, op: Any = WRONG_SIN) -> None:
        self.mlp = MLP(2, [3, 1], activation="tanh", rng=3)
        self.a = Value(0.3)
        self.op = op

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [(f"mlp.{name}", p) for name, p in self.mlp.named_parameters()] + [("a", self.a)]

    def __call__(self, x: List[float]) -> Value:
        return self.op(self.mlp(x) * self.a)


BATCH = ([[0.5, 1.0], [-1.0, 0.3]], [1.0, 0.0])


def test_wrong_gradients_are_reported_by_name_worst_first() -> None:
    with pytest.raises(GradcheckError) as caught:
        gradcheck_model(Wavy(), mse, BATCH)
    failures = caught.value.failures
    assert len(failures) == 14 and failures[0].input == "a"
    errors = [f.abs_err for f in failures]
    assert errors == sorted(errors, reverse=True)
    text = str(caught.value)
    assert text.startswith("gradcheck_model: 14 of 14 parameter gradients disagree for a loss of")
    assert "  of    parameter" in text and "mlp.layers.1.neurons.0.b" in text
    assert gradcheck_model(Wavy(), mse, BATCH, raise_exception=False) is False
    with pytest.raises(GradcheckError, match="run with fast=False to see which parameters"):
        gradcheck_model(Wavy(), mse, BATCH, fast=True)


class ThroughData(Module):
    """Uses w.data as a number: the graph does not see that dependence, calling the model does."""

    def __init__(self) -> None:
        self.w, self.b = Value(0.5), Value(0.1)

    def named_parameters(self) -> List[Tuple[str, Value]]:
        return [("w", self.w), ("b", self.b)]

    def __call__(self, x: List[float]) -> Value:
        return self.w * x[0] + self.b * self.w.data


def test_a_dependence_the_graph_misses_is_found_by_calling_the_model_again() -> None:
    with pytest.raises(GradcheckError, match="does not record") as caught:
        gradcheck_model(ThroughData(), mse, ([[2.0]], [1.0]))
    assert [f.input for f in caught.value.failures] == ["w"]
    # the complex step alone replays the recorded graph, which agrees with itself
    assert gradcheck_model(ThroughData(), mse, ([[2.0]], [1.0]), method="complex")


def test_an_op_that_cannot_take_complex_numbers_falls_back_to_central_differences() -> None:
    model = Wavy(op=REAL_ONLY_SIN)
    report = gradcheck_model_report(model, mse, BATCH)
    assert report.ok and "central differences" in report.header
    with pytest.raises(ComplexStepError, match="real_only_sin_m"):
        gradcheck_model(model, mse, BATCH, method="complex")


def test_the_model_is_left_as_it_was() -> None:
    model = MLP(2, [3, 3], activation="tanh", rng=5)
    model.parameters()[0].grad = 7.0
    before = [(p.data, p.grad) for p in model.parameters()]
    assert gradcheck_model(model, softmax_cross_entropy, ([[0.5, 1.0], [1.0, -2.0]], [2, 0]), method="central")
    assert [(p.data, p.grad) for p in model.parameters()] == before


def test_bad_arguments_are_named() -> None:
    model = MLP(2, [1], rng=0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradcheck_model(model, mse, BATCH, method="forward")
    with pytest.raises(TypeError, match=r"batch must be \(inputs, targets\)"):
        gradcheck_model(model, mse, [[0.5, 1.0]])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="loss_fn must return a Value"):
        gradcheck_model(model, lambda out, y: 0.5, BATCH)
    with pytest.raises(ValueError, match="no parameters"):
        gradcheck_model(Module(), mse, BATCH)
