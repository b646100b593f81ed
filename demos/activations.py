"""Activation functions and their derivatives, the derivatives computed by backward.

step, sigmoid, tanh and ReLU side by side: each curve, and beside it the slope that backward
finds at every point (no formula for the derivative is written here). sigmoid'(0) = 0.25,
tanh'(0) = 1, ReLU' is 0 left of 0 and 1 right of it, step' is 0 everywhere: why a perceptron's
step cannot be trained by gradient descent.

Run: python demos/activations.py [--out FOLDER]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure

from tracegrad.engine import Value

ACTIVATIONS: Dict[str, Callable[[Value], Value]] = {
    "step": Value.step,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "ReLU": Value.relu,
}


@dataclass
class Outcome:
    values: Dict[str, List[float]]
    derivatives: Dict[str, List[float]]
    xs: List[float]
    files: List[Path]


def curve(f: Callable[[Value], Value], xs: List[float]) -> Tuple[List[float], List[float]]:
    """f(x) and f'(x) at each x; the derivative is the gradient backward leaves on x."""
    values, slopes = [], []
    for x in xs:
        v = Value(x)
        out = f(v)
        out.backward()
        values.append(out.data)
        slopes.append(v.grad)
    return values, slopes


def main(out: Optional[str] = None, points: int = 201) -> Outcome:
    folder = output_dir("activations", out)
    xs = [-5.0 + 10.0 * i / (points - 1) for i in range(points)]
    values, slopes = {}, {}
    for name, f in ACTIVATIONS.items():
        values[name], slopes[name] = curve(f, xs)
        at = {x: curve(f, [x])[1][0] for x in (-1.0, 0.0, 1.0)}
        print(f"{name:>7}: derivative at -1, 0, 1 = " + ", ".join(f"{d:.4f}" for d in at.values()))
    files = [_plot(folder, xs, values, slopes)]
    return Outcome(values, slopes, xs, files)


def _plot(folder: Path, xs: List[float], values: Dict[str, List[float]], slopes: Dict[str, List[float]]) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(2, len(values), figsize=(14, 6), sharex=True)
    for col, name in enumerate(values):
        axes[0][col].plot(xs, values[name])
        axes[0][col].set_title(name)
        axes[1][col].plot(xs, slopes[name], color="tab:red")
        axes[1][col].set_title(f"{name}' (from backward)")
        for row in (0, 1):
            axes[row][col].axhline(0, color="grey", lw=0.5)
            axes[row][col].axvline(0, color="grey", lw=0.5)
    return save_figure(fig, folder / "activations.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
