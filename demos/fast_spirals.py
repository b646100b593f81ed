"""A bigger problem, trained in seconds: five spiral arms, 10,000 points, a compiled training step.

MLP(2, [32, 32, 5]) (fused: a node per neuron) learns five interleaved spirals of 2,000 points
each with the multi-class SVM loss (micrograd's demo's loss for five classes: each wrong class's
score should stay 1 below the right one's) plus 1e-4 L2, full batch, Adam. ``compile`` traces the
step once over the 10,000 points, finds that it is the same graph for every point added up, and
runs it as NumPy arrays over the batch (or, without NumPy, as a loop over the points). The eager
engine would build 1.1 million nodes per step: the demo times one such step to say how long the
whole training would take eagerly.

Run: python demos/fast_spirals.py [--points 2000] [--steps 300] [--no-vectorise]
"""

from __future__ import annotations

import argparse
import time
from typing import Any, List, Optional, Sequence

from tracegrad import MLP, Value, compile
from tracegrad.nn.data import spirals
from tracegrad.nn.optim import Adam
from tracegrad.nn.progress import progress_bar
from tracegrad.nn.replay import FloatForward, describe

CLASSES = 5


def multiclass_hinge(scores: Sequence[Value], target: Sequence[float]) -> Value:
    """``Σ_j relu(1 + score_j - score_right)`` over the wrong classes ``j``; ``target`` is one-hot,
    so that every point's graph is the same whatever its class (compile needs that)."""
    right = sum(s * t for s, t in zip(scores, target))
    return sum((1 + s - right).relu() * (1 - t) for s, t in zip(scores, target))


def accuracy(model: MLP, X: Sequence[Sequence[float]], y: Sequence[int]) -> float:
    """The share of points whose highest score is their class (the model's numbers, on floats)."""
    forward = FloatForward(describe(model))  # type: ignore[arg-type]
    forward.load([p.data for p in model.parameters()])
    scores = forward.columns(X)[-1]
    right = sum(max(range(CLASSES), key=lambda j: scores[j][i]) == label for i, label in enumerate(y))
    return right / len(y)


def main(points: int = 2000, steps: int = 300, vectorise: Optional[bool] = None, quiet: bool = False) -> float:
    """Train, print the accuracy and the wall time, and return the accuracy."""
    X, y = spirals(points, CLASSES, noise=0.1, seed=0)
    targets = [[1.0 if j == label else 0.0 for j in range(CLASSES)] for label in y]
    model = MLP(2, [32, 32, CLASSES], fused=True, rng=0)
    params = model.parameters()

    def loss(X: Any, targets: Any) -> Value:
        losses: List[Value] = [multiclass_hinge(model(x), t) for x, t in zip(X, targets)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)

    step = compile(loss, vectorise=vectorise)
    optimiser = Adam(params, lr=0.01)
    start = time.perf_counter()
    value = float("nan")
    for _ in progress_bar(range(steps), desc="training", disable=quiet, unit="step"):
        optimiser.zero_grad()
        value = step(X, targets)
        optimiser.step()
    seconds = time.perf_counter() - start
    share = accuracy(model, X, y)
    print(f"{len(X):,} points, {CLASSES} classes: accuracy {share:.1%}, loss {value:.4f} after {steps} steps "
          f"in {seconds:.1f} s (compiling included)")
    print(f"  the step ran as {step.plan}")
    eager = time.perf_counter()
    loss([[Value(a) for a in x] for x in X], targets).backward()
    eager = time.perf_counter() - eager
    total = eager * steps
    print(f"  one eager step takes {eager:.1f} s: {steps} of them would take about "
          + (f"{total:.0f} seconds" if total < 120 else f"{total / 60:.0f} minutes"))
    return share


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2000, help="points per spiral arm (default 2000)")
    parser.add_argument("--steps", type=int, default=300, help="training steps (default 300)")
    parser.add_argument("--no-vectorise", action="store_true", help="loop over the points in Python instead of NumPy")
    args = parser.parse_args()
    main(args.points, args.steps, vectorise=False if args.no_vectorise else None)
