"""Softmax and cross-entropy: three spiral arms, and "hot dog or not hot dog".

The loss of one example is -log(probability the model gives the correct class): a model that
says "hot dog" with 80% for a hot dog pays -log(0.8) = 0.22, one that says 30% pays
-log(0.3) = 1.20. Softmax turns any scores (logits) into probabilities; cross-entropy computed
through log-sum-exp never overflows, however large the logits. An MLP with three outputs learns
three interleaved spirals, which no straight lines separate; the training page spirals.html
replays how it learns them.

Run: python demos/softmax.py [--out FOLDER]
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure, save_page

from tracegrad.engine import no_grad
from tracegrad.nn import MLP
from tracegrad.nn.data import spirals
from tracegrad.nn.losses import softmax, softmax_cross_entropy
from tracegrad.nn.optim import Adam
from tracegrad.nn.record import Recorder
from tracegrad.nn.train import fit

HOT_DOG = 0  # class 0: hot dog, class 1: not hot dog


@dataclass
class Outcome:
    hot_dog_loss: Dict[str, float]
    losses: List[float]
    accuracy: float
    files: List[Path]
    page: Path


def hot_dog() -> Dict[str, float]:
    """The loss of two models on a photo of a hot dog: -log P(hot dog)."""
    losses = {}
    for name, p in (("good model (80% hot dog)", 0.8), ("poor model (30% hot dog)", 0.3)):
        logits = [math.log(p), math.log(1 - p)]  # scores whose softmax is (p, 1 - p)
        probs = softmax(logits)
        loss = softmax_cross_entropy(logits, HOT_DOG)
        losses[name] = loss.data
        print(f"{name}: softmax -> ({probs[0].data:.2f}, {probs[1].data:.2f}), "
              f"loss = -log({p}) = {loss.data:.4f}")
    return losses


def main(out: Optional[str] = None, epochs: int = 40, points: int = 20) -> Outcome:
    folder = output_dir("softmax", out)
    hot = hot_dog()
    data = spirals(points, classes=3, noise=0.1, seed=0)
    model = MLP(2, [12, 12, 3], rng=0, fused=True)
    history = fit(model, data, softmax_cross_entropy, Adam(model.parameters(), lr=0.05), epochs=epochs,
                  progress=False, record=Recorder(output="logit", classes=["arm 1", "arm 2", "arm 3"]))
    accuracy = history.accuracy[-1] or 0.0
    print(f"3 spirals, MLP(2, [12, 12, 3]), {epochs} epochs: loss {history.loss[0]:.3f} -> {history.loss[-1]:.3f}, "
          f"training accuracy {accuracy:.1%}")
    files = [_plot(folder, model, data.X, data.y, history.loss)]
    page = save_page(history, folder / "spirals.html", title="Watch MLP(2, [12, 12, 3]) learn three spirals")
    return Outcome(hot, history.loss, accuracy, files, page)


def _argmax(scores: List[float]) -> int:
    return max(range(len(scores)), key=scores.__getitem__)


@no_grad()
def _plot(folder: Path, model: MLP, X: Sequence[Sequence[float]], y: Sequence[int], losses: List[float]) -> Path:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5))
    grid = [-1.1 + 2.2 * i / 49 for i in range(50)]
    z = [[float(_argmax([o.data for o in model([a, b])])) for a in grid] for b in grid]
    ax1.contourf(grid, grid, z, levels=[-0.5, 0.5, 1.5, 2.5], cmap="brg", alpha=0.3)
    ax1.scatter([p[0] for p in X], [p[1] for p in X], c=y, cmap="brg", s=20, edgecolors="k")
    ax1.set_title("the class with the highest softmax probability")
    ax2.plot(losses)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("softmax cross-entropy")
    return save_figure(fig, folder / "softmax.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
