"""fit: it learns, records the history, shows a progress bar only when asked."""

from __future__ import annotations

import random
import subprocess
import sys
from typing import Any, List

import pytest

from tracegrad.engine import Value
from tracegrad.nn import MLP, Neuron
from tracegrad.nn.data import blobs, moons
from tracegrad.nn.losses import hinge, l2_penalty, mse, softmax_cross_entropy
from tracegrad.nn.optim import SGD, Adam
from tracegrad.nn.train import History, classification_accuracy, fit

import needs


def test_fit_learns_moons_with_minibatches() -> None:
    data = moons(60, noise=0.05, seed=1, signed=True)
    model = MLP(2, [12, 12, 1], rng=2, fused=True)
    opt = SGD(model.parameters(), lr=lambda k: 0.3 * (1 - k / 400), momentum=0.5)
    seen: List[int] = []
    history = fit(model, data, lambda out, y: hinge(out, y) + l2_penalty(model.parameters(), 1e-4), opt,
                  epochs=40, batch_size=20, progress=False, seed=0, callback=lambda e, h: seen.append(e))
    assert isinstance(history, History)
    assert len(history.loss) == len(history.accuracy) == 40
    assert len(history.batch_loss) == 40 * 3
    assert seen == list(range(40))
    assert opt.steps == 120
    assert history.loss[-1] < history.loss[0] / 4
    assert history.accuracy[-1] is not None and history.accuracy[-1] >= 0.95


def test_fit_regression_without_accuracy() -> None:
    xs = [[x / 10] for x in range(-10, 11)]
    data = (xs, [3.0 * x[0] - 1.0 for x in xs])
    neuron = Neuron(1, activation="linear", rng=0)
    history = fit(neuron, data, mse, Adam(neuron.parameters(), lr=0.1), epochs=150, progress=False, accuracy=None)
    assert history.accuracy == [None] * 150
    assert neuron.w[0].data == pytest.approx(3.0, abs=1e-3)
    assert neuron.b.data == pytest.approx(-1.0, abs=1e-3)


def test_fit_softmax_classes() -> None:
    data = blobs(60, [[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]], std=0.4, seed=4)
    model = MLP(2, [8, 3], activation="tanh", rng=5, fused=True)
    history = fit(model, data, softmax_cross_entropy, Adam(model.parameters(), lr=0.05), epochs=30,
                  batch_size=15, progress=False, seed=1)
    assert history.accuracy[-1] == 1.0


def test_diverging_training_stops_with_a_clear_error() -> None:
    xs = [[10.0], [20.0]]
    neuron = Neuron(1, activation="linear", rng=0)
    with pytest.raises(FloatingPointError, match="fit: .*epoch .*smaller learning rate"):
        fit(neuron, (xs, [1.0, 2.0]), mse, SGD(neuron.parameters(), lr=1e3), epochs=200, progress=False,
            accuracy=None)


def test_progress_bar_shows_the_loss(capsys: Any) -> None:
    needs.tqdm()
    data = moons(10, seed=0, signed=True)
    model = MLP(2, [4, 1], rng=0, fused=True)
    fit(model, data, hinge, SGD(model.parameters(), lr=0.1), epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "loss=" in err and "acc=" in err


class _Kernel:
    kernel = object()  # what a notebook's IPython shell has


def test_in_a_notebook_the_bar_is_a_widget_or_one_plain_line(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    needs.tqdm()
    import types
    import warnings

    from tracegrad.nn import progress

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: _Kernel()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert progress.in_notebook()
    monkeypatch.setattr(progress, "has_widgets", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning about a missing widget package
        data = moons(10, seed=0, signed=True)
        model = MLP(2, [4, 1], rng=0, fused=True)
        fit(model, data, hinge, SGD(model.parameters(), lr=0.1), epochs=30, progress=True)
    captured = capsys.readouterr()
    assert captured.err == ""  # a notebook shows stderr in red
    lines = captured.out.replace("\r", "\n").strip().splitlines()
    assert lines and all("fit" in line for line in lines) and "30/30" in lines[-1]
    assert len(lines) <= 5  # a line that updates in place, a few times, not once per epoch
    monkeypatch.setattr(progress, "has_widgets", lambda: True)
    from tqdm.notebook import tqdm as notebook_bar

    made = progress.progress_bar(range(3), desc="fit", disable=True)
    assert isinstance(made, notebook_bar)


def test_no_tqdm_import_when_progress_is_off() -> None:
    code = (
        "import sys\n"
        "from tracegrad.nn.data import moons\nfrom tracegrad.nn import MLP\nfrom tracegrad.nn.losses import hinge\n"
        "from tracegrad.nn.optim import SGD\nfrom tracegrad.nn.train import fit\n"
        "m = MLP(2, [3, 1], rng=0)\n"
        "fit(m, moons(8, seed=0, signed=True), hinge, SGD(m.parameters(), lr=0.1), epochs=1, progress=False)\n"
        "print('tqdm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_accuracy_rules() -> None:
    v = Value
    assert classification_accuracy([v(0.5), v(-0.5)], [1, -1]) == 1.0
    assert classification_accuracy([v(0.5), v(-0.5)], [1, 0]) == 1.0
    assert classification_accuracy([v(0.5), v(0.5)], [1, 0]) == 0.5
    assert classification_accuracy([[v(0.1), v(2.0)], [v(3.0), v(0.0)]], [1, 1]) == 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": -1}, "epochs must be an int >= 0"),
        ({"data": ([[1.0, 2.0]], [1, -1])}, "1 inputs but 2 targets"),
        ({"data": ([], [])}, "no data"),
    ],
)
def test_bad_arguments_are_named(kwargs: Any, message: str) -> None:
    model = MLP(2, [2, 1], rng=0)
    args = {"data": moons(4, seed=0, signed=True), "epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        fit(model, args["data"], hinge, SGD(model.parameters(), lr=0.1), epochs=args["epochs"], progress=False)


def test_a_seeded_run_repeats_exactly_whatever_the_global_random_state() -> None:
    """The README's run: data and model seeded, one batch of all the data. fit used to shuffle
    that batch with the global random module, so the last digits changed from run to run."""
    def run(global_seed: int, batch_size: Any = None, seed: Any = None) -> List[float]:
        random.seed(global_seed)
        data = moons(40, noise=0.1, seed=0, signed=True)
        model = MLP(2, [8, 1], rng=0, fused=True)
        history = fit(model, data, hinge, SGD(model.parameters(), lr=0.1), epochs=5, progress=False,
                      batch_size=batch_size, seed=seed)
        return history.loss

    assert run(1) == run(2) == run(3)
    assert run(1, batch_size=10, seed=7) == run(2, batch_size=10, seed=7)  # minibatches: one seed
