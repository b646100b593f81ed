"""Will they pass the driving test? A 3-input network with two ReLU hidden neurons and a sigmoid.

The inputs are age, sex (0 male, 1 female) and number of lessons; the hidden neurons stand for
"parking" and "road driving" skill; the output is the probability of passing. With the weights
below, person A (20, male, 10 lessons) gets hidden outputs 0 and 0 and a pass probability of
sigmoid(-3) = 4.74%; person B (50, female, 20 lessons) gets 150.5 and 179.5 and
sigmoid(2.9925) = 95.22%. Then the same shape of network is trained on a small synthetic set,
showing what an epoch and a batch size are; the training pages driving_test.html (batch size 16)
and driving_test_batches.html (three batch sizes, epoch by epoch) replay it.

Run: python demos/driving_test.py [--out FOLDER]
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure, save_page

from tracegrad.engine import Value
from tracegrad.nn import MLP
from tracegrad.nn.losses import binary_cross_entropy
from tracegrad.nn.optim import Adam
from tracegrad.nn.record import Recorder
from tracegrad.nn.train import History, fit

# (age, sex, lessons) weights and bias of each neuron
PARKING = ([5.0, 0.5, 0.0], -100.0)
ROAD = ([3.0, -0.5, 9.0], -150.0)
OUTPUT = ([0.01, 0.025], -3.0)
PEOPLE = {"A": [20.0, 0.0, 10.0], "B": [50.0, 1.0, 20.0]}


@dataclass
class Outcome:
    hidden: Dict[str, Tuple[float, float]]
    output_sum: Dict[str, float]
    pass_probability: Dict[str, float]
    steps_per_epoch: Dict[int, int]
    final_accuracy: Dict[int, float]
    files: List[Path]
    pages: List[Path]


def network() -> MLP:
    """MLP(3, [2, 1]) with ReLU hidden neurons, a sigmoid output, and the hand-picked weights."""
    model = MLP(3, [2, 1], activation="relu", output_activation="sigmoid", rng=0)
    for neuron, (ws, b) in zip(model.layers[0].neurons + model.layers[1].neurons, (PARKING, ROAD, OUTPUT)):
        for w, value in zip(neuron.w, ws):
            w.data = value
        neuron.b.data = b
    return model


def examinees(n: int = 64, seed: int = 0) -> Tuple[List[List[float]], List[int]]:
    """Synthetic candidates: more lessons help, so does practice with age; features scaled to ~[0, 1]."""
    rng = random.Random(seed)
    X, y = [], []
    for _ in range(n):
        age, sex, lessons = rng.uniform(17, 70), float(rng.random() < 0.5), rng.uniform(0, 40)
        skill = 0.15 * lessons + 0.03 * (age - 17) - 3.0 + rng.gauss(0, 0.3)
        X.append([age / 70, sex, lessons / 40])
        y.append(int(skill > 0))
    return X, y


def main(out: Optional[str] = None, epochs: int = 60) -> Outcome:
    folder = output_dir("driving_test", out)
    model = network()
    hidden, sums, probs = {}, {}, {}
    for name, person in PEOPLE.items():
        h = [n([Value(v) for v in person]).data for n in model.layers[0].neurons]
        out_neuron = model.layers[1].neurons[0]
        z = out_neuron.b.data + sum(w.data * hv for w, hv in zip(out_neuron.w, h))
        hidden[name], sums[name], probs[name] = (h[0], h[1]), z, model(person).data
        print(f"person {name} {person}: parking {h[0]:g}, road driving {h[1]:g}, "
              f"sigmoid({z:.4f}) = {probs[name]:.2%} chance to pass")

    X, y = examinees()
    steps, accuracy, curves = {}, {}, {}
    histories: Dict[int, History] = {}
    for batch_size in (1, 16, len(X)):
        # the same shape, its output a logit: the loss applies the sigmoid itself, stably
        trainee = MLP(3, [2, 1], activation="relu", init="he", rng=3, fused=True)
        optimizer = Adam(trainee.parameters(), lr=0.05)
        recorder = Recorder(inputs=["age / 70", "sex (1: female)", "lessons / 40"], output="passes (logit)",
                            classes={0: "fails", 1: "passes"})
        history = fit(trainee, (X, y), binary_cross_entropy, optimizer, epochs=epochs, batch_size=batch_size,
                      progress=False, seed=0, record=recorder)
        histories[batch_size] = history
        steps[batch_size] = optimizer.steps // epochs
        accuracy[batch_size] = history.accuracy[-1] or 0.0
        curves[batch_size] = history.loss
        print(f"batch size {batch_size:>2}: {steps[batch_size]:>2} steps per epoch, {epochs} epochs -> "
              f"loss {history.loss[-1]:.3f}, training accuracy {accuracy[batch_size]:.0%}")
    files = [_plot(folder, curves, steps)]
    pages = [save_page(histories[16], folder / "driving_test.html", title="Watch MLP(3, [2, 1]) learn who passes"),
             save_page({f"batch size {size} ({steps[size]} step{'s' if steps[size] > 1 else ''} an epoch)": h
                        for size, h in histories.items()},
                       folder / "driving_test_batches.html", title="Epochs and batch sizes: the same network, "
                       "three batch sizes")]
    return Outcome(hidden, sums, probs, steps, accuracy, files, pages)


def _plot(folder: Path, curves: Dict[int, List[float]], steps: Dict[int, int]) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for size, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=f"batch size {size} ({steps[size]} steps / epoch)")
    ax.set_xlabel("epoch (one pass over the 64 candidates)")
    ax.set_ylabel("cross-entropy")
    ax.legend()
    return save_figure(fig, folder / "driving_test.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
