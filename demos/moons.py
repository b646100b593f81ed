"""micrograd's demo: a 2-layer MLP learns the two moons to 100% training accuracy.

MLP(2, [16, 16, 1]) (ReLU hidden layers), SVM max-margin loss + 1e-4 L2, 100 steps of full-batch
SGD with the rate decaying from 1.0 to 0.1, after random.seed(1337), on the points scikit-learn's
make_moons(100, noise=0.1) gives after numpy.random.seed(1337). The numbers are micrograd's own.
Training is recorded, and replayed in the training page moons.html (open it in a browser).

Run: python demos/moons.py [--out FOLDER]
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure, save_page

from tracegrad.engine import no_grad
from tracegrad.nn import MLP
from tracegrad.nn.data import sklearn_moons
from tracegrad.nn.losses import hinge, l2_penalty
from tracegrad.nn.optim import SGD
from tracegrad.nn.record import Recorder
from tracegrad.nn.train import fit


@dataclass
class Outcome:
    losses: List[float]
    accuracy: List[float]
    first_perfect_step: Optional[int]
    files: List[Path]
    page: Path


def main(out: Optional[str] = None, steps: int = 100, grid: int = 60, progress: bool = True) -> Outcome:
    """Train as the notebook does, then plot the decision boundary and the loss curve."""
    folder = output_dir("moons", out)
    data = sklearn_moons(n_samples=100, noise=0.1, numpy_seed=1337)
    X, y = data.X, [2 * v - 1 for v in data.y]
    random.seed(1337)
    model = MLP(2, [16, 16, 1], fused=True)  # the fused pre-activation: micrograd's numbers, bit for bit
    print(model)
    print("number of parameters", len(model.parameters()))
    optimizer = SGD(model.parameters(), lr=lambda k: 1.0 - 0.9 * k / 100)
    recorder = Recorder(classes={-1: "upper moon", 1: "lower moon"})  # changes no number of the training
    history = fit(model, (X, y), lambda out, t: hinge(out, t) + l2_penalty(model.parameters(), 1e-4), optimizer,
                  epochs=steps, batch_size=None, shuffle=False, progress=progress, record=recorder)
    accuracy = [a or 0.0 for a in history.accuracy]
    for k in (0, steps // 2, steps - 1):
        print(f"step {k} loss {history.loss[k]}, accuracy {accuracy[k] * 100}%")
    perfect = next((k for k, a in enumerate(accuracy) if a == 1.0), None)
    print(f"100% training accuracy first at step {perfect}")
    files = [_boundary(folder, model, X, y, grid), _loss_curve(folder, history.loss, accuracy)]
    page = save_page(history, folder / "moons.html", title="Watch MLP(2, [16, 16, 1]) learn the two moons")
    return Outcome(history.loss, accuracy, perfect, files, page)


@no_grad()
def _boundary(folder: Path, model: MLP, X: Sequence[Sequence[float]], y: Sequence[int], grid: int) -> Path:
    plt = pyplot()
    xs = [-1.6 + 3.8 * i / (grid - 1) for i in range(grid)]
    ys = [-1.1 + 2.6 * j / (grid - 1) for j in range(grid)]
    z = [[1.0 if model([a, b]).data > 0 else 0.0 for a in xs] for b in ys]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(xs, ys, z, cmap="Spectral", alpha=0.8)
    ax.scatter([p[0] for p in X], [p[1] for p in X], c=y, s=20, cmap="jet")
    ax.set_title("MLP(2, [16, 16, 1]) decision boundary")
    return save_figure(fig, folder / "decision_boundary.png")


def _loss_curve(folder: Path, losses: List[float], accuracy: List[float]) -> Path:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(losses, label="loss (hinge + L2)")
    ax.plot(accuracy, label="training accuracy")
    ax.set_xlabel("step")
    ax.legend()
    return save_figure(fig, folder / "loss.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
