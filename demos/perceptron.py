"""The perceptron: a step-activation neuron, its learning rule, AND versus XOR, and the MLP fix.

A perceptron with inputs (0.5, 0.6), weights (0.5, 0.7), bias 0 and threshold 0.5 computes the
weighted sum 0.5*0.5 + 0.6*0.7 = 0.67 > 0.5, so it fires. The perceptron learning rule
(w += lr * (target - output) * x) learns AND, which a line separates, but never XOR, which no
line separates; an MLP with one hidden layer learns XOR by gradient descent. The training pages
xor.html (a single neuron beside the MLP, trained alike) and xor_mlp.html replay the learning.

Run: python demos/perceptron.py [--out FOLDER]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure, save_page

from tracegrad.engine import no_grad
from tracegrad.nn import MLP, Neuron
from tracegrad.nn.losses import binary_cross_entropy
from tracegrad.nn.optim import Adam
from tracegrad.nn.record import Recorder
from tracegrad.nn.train import fit

CORNERS = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
AND = [0, 0, 0, 1]
XOR = [0, 1, 1, 0]


@dataclass
class Outcome:
    weighted_sum: float
    fires: bool
    and_accuracy: float
    and_epochs: Optional[int]
    xor_best_accuracy: float
    mlp_xor_accuracy: float
    mlp_xor_outputs: List[float]
    neuron_xor_accuracy: float
    files: List[Path]
    pages: List[Path]


def perceptron(weights: Sequence[float], threshold: float) -> Neuron:
    """A step neuron firing when ``Σ w·x > threshold`` (the threshold is a bias of -threshold)."""
    n = Neuron(len(weights), activation="step", rng=0)
    for w, value in zip(n.w, weights):
        w.data = value
    n.b.data = -threshold
    return n


def learn(targets: Sequence[int], epochs: int = 20, lr: float = 0.1) -> Tuple[Neuron, float, Optional[int]]:
    """The perceptron learning rule; returns the neuron, its best accuracy, and when it got all right."""
    n = perceptron([0.0, 0.0], 0.0)
    best, done = 0.0, None
    for epoch in range(epochs):
        for x, t in zip(CORNERS, targets):
            error = t - n(x).data
            for w, xi in zip(n.w, x):
                w.data += lr * error * xi
            n.b.data += lr * error
        accuracy = sum(n(x).data == t for x, t in zip(CORNERS, targets)) / 4
        best = max(best, accuracy)
        if accuracy == 1.0 and done is None:
            done = epoch + 1
    return n, best, done


def main(out: Optional[str] = None, mlp_epochs: int = 300) -> Outcome:
    folder = output_dir("perceptron", out)
    p = perceptron([0.5, 0.7], threshold=0.5)
    x = [0.5, 0.6]
    total = sum(w.data * xi for w, xi in zip(p.w, x))  # 0.5*0.5 + 0.6*0.7
    fires = p(x).data == 1.0
    print(f"weighted sum 0.5*0.5 + 0.6*0.7 = {total:.2f} > 0.5: {'fires' if fires else 'stays silent'}")

    and_neuron, and_accuracy, and_epochs = learn(AND)
    print(f"perceptron rule on AND: {and_accuracy:.0%} right after {and_epochs} epoch(s)")
    _, xor_best, _ = learn(XOR, epochs=100)
    print(f"perceptron rule on XOR: never better than {xor_best:.0%} in 100 epochs (no line separates it)")

    mlp = MLP(2, [4, 1], activation="tanh", rng=3, fused=True)
    history = fit(mlp, (CORNERS, XOR), binary_cross_entropy, Adam(mlp.parameters(), lr=0.05), epochs=mlp_epochs,
                  shuffle=False, progress=False, record=Recorder(inputs=["a", "b"], output="logit"))
    # the same training for one neuron (a logistic regression: one line through the plane)
    single = Neuron(2, activation="linear", rng=3, fused=True)
    line = fit(single, (CORNERS, XOR), binary_cross_entropy, Adam(single.parameters(), lr=0.05), epochs=mlp_epochs,
               shuffle=False, progress=False, record=Recorder(inputs=["a", "b"], output="logit"))
    neuron_accuracy = max(a or 0.0 for a in line.accuracy)
    print(f"one neuron trained the same way on XOR: never better than {neuron_accuracy:.0%}")
    with no_grad():
        outputs = [mlp(x).sigmoid().data for x in CORNERS]
    mlp_accuracy = sum((o > 0.5) == bool(t) for o, t in zip(outputs, XOR)) / 4
    print("MLP(2, [4, 1]) on XOR: P(1) =", ", ".join(f"{o:.3f}" for o in outputs), f"-> {mlp_accuracy:.0%} right")
    files = [_plot(folder, and_neuron, mlp, history.loss)]
    pages = [save_page({"one neuron": line, "MLP(2, [4, 1])": history}, folder / "xor.html",
                       title="XOR: one neuron cannot draw it, an MLP can"),
             save_page(history, folder / "xor_mlp.html", title="Watch MLP(2, [4, 1]) learn XOR")]
    return Outcome(total, fires, and_accuracy, and_epochs, xor_best, mlp_accuracy, outputs, neuron_accuracy, files,
                   pages)


@no_grad()
def _plot(folder: Path, and_neuron: Neuron, mlp: MLP, losses: List[float]) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    grid = [i / 40 * 1.6 - 0.3 for i in range(41)]
    for ax, model, labels, title in ((axes[0], and_neuron, AND, "perceptron learns AND"),
                                     (axes[1], mlp, XOR, "MLP(2, [4, 1]) learns XOR")):
        z = [[1.0 if model([a, b]).data > 0 else 0.0 for a in grid] for b in grid]
        ax.contourf(grid, grid, z, cmap="coolwarm", alpha=0.4)
        ax.scatter([c[0] for c in CORNERS], [c[1] for c in CORNERS], c=labels, cmap="coolwarm", s=120,
                   edgecolors="k")
        ax.set_title(title)
    axes[2].plot(losses)
    axes[2].set_title("MLP on XOR: cross-entropy per epoch")
    axes[2].set_xlabel("epoch")
    return save_figure(fig, folder / "perceptron.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
