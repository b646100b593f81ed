"""One linear neuron learns Celsius -> Fahrenheit (F = 1.8 C + 32) from noisy measurements.

Gradient descent on the mean squared error finds w ≈ 1.8 and b ≈ 32. The learning rate matters:
too small and it has hardly moved after all the steps, a good one converges, and one above
2 / (largest curvature of the loss) makes every step overshoot further: it diverges. The training
page celsius.html replays the three runs side by side.

Run: python demos/celsius.py [--out FOLDER]
"""

from __future__ import annotations

import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure, save_page

from tracegrad.nn import History, Neuron
from tracegrad.nn.losses import mse
from tracegrad.nn.optim import SGD
from tracegrad.nn.record import Recorder
from tracegrad.nn.train import fit


@dataclass
class Outcome:
    w: float
    b: float
    learning_rates: Dict[str, float]
    final_loss: Dict[str, float]
    diverged: Dict[str, bool]
    files: List[Path]
    page: Path
    histories: Dict[str, History]


def measurements(n: int = 40, seed: int = 0) -> Tuple[List[float], List[float]]:
    """Temperatures from -15 to 15 °C and their Fahrenheit readings, each off by up to ±0.5 °F."""
    rng = random.Random(seed)
    celsius = [-15.0 + 30.0 * i / (n - 1) for i in range(n)]
    return celsius, [1.8 * c + 32.0 + rng.uniform(-0.5, 0.5) for c in celsius]


def train(celsius: List[float], fahrenheit: List[float], lr: float, steps: int) -> Tuple[Neuron, History, bool]:
    """Full-batch gradient descent, recorded; stops early (diverged) once the loss has grown a millionfold."""
    neuron = Neuron(1, activation="linear", rng=1, fused=True)
    recorder = Recorder(inputs=["°C"], output="°F")

    def watch(epoch: int, history: History) -> None:
        if not math.isfinite(history.loss[-1]) or history.loss[-1] > 1e6 * history.loss[0]:
            raise FloatingPointError(f"the loss grew a millionfold in {epoch + 1} steps: each step overshoots "
                                     "the bottom further than the last (the learning rate is too large)")

    try:
        history = fit(neuron, ([[c] for c in celsius], fahrenheit), mse, SGD(neuron.parameters(), lr=lr),
                      epochs=steps, shuffle=False, progress=False, accuracy=None, callback=watch, record=recorder)
    except FloatingPointError as error:  # from watch, or fit's own check when the loss overflows
        recorder.stop(error)
        return neuron, recorder.history, True
    return neuron, history, False


def main(out: Optional[str] = None, steps: int = 800) -> Outcome:
    folder = output_dir("celsius", out)
    celsius, fahrenheit = measurements()
    # The loss is a bowl whose steepest curvature is about 2·(mean(c²) + 1) (for a dataset
    # centred on 0 °C): a step larger than 2 / curvature overshoots the bottom.
    curvature = 2 * (sum(c * c for c in celsius) / len(celsius) + 1)
    rates = {"too small": 0.01 / curvature, "good": 1.0 / curvature, "too large": 2.5 / curvature}
    runs = {name: train(celsius, fahrenheit, lr, steps) for name, lr in rates.items()}
    neuron = runs["good"][0]
    w, b = neuron.w[0].data, neuron.b.data
    for name, (_, history, diverged) in runs.items():
        state = "diverged" if diverged else f"loss {history.loss[-1]:.4f}"
        print(f"lr {rates[name]:.2e} ({name}): after {len(history.loss)} steps {state}")
    print(f"learned F = {w:.4f} * C + {b:.4f}  (true: 1.8 * C + 32)")
    files = [_plot(folder, runs, rates, celsius, fahrenheit, w, b)]
    histories = {f"lr {rates[name]:.2g} ({name})": run[1] for name, run in runs.items()}
    page = save_page(histories, folder / "celsius.html", title="Celsius to Fahrenheit: three learning rates")
    return Outcome(w, b, rates, {k: r[1].loss[-1] for k, r in runs.items()}, {k: r[2] for k, r in runs.items()},
                   files, page, histories)


def _plot(folder: Path, runs: Dict[str, Tuple[Neuron, History, bool]], rates: Dict[str, float],
          celsius: List[float], fahrenheit: List[float], w: float, b: float) -> Path:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.scatter(celsius, fahrenheit, s=12, label="measurements")
    ax1.plot(celsius, [w * c + b for c in celsius], "r", label=f"learned: F = {w:.3f} C + {b:.2f}")
    ax1.set_xlabel("°C")
    ax1.set_ylabel("°F")
    ax1.legend()
    for name, (_, history, diverged) in runs.items():
        ax2.plot(history.loss, label=f"lr {rates[name]:.1e} ({name}{', diverged' if diverged else ''})")
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_ylabel("mean squared error")
    ax2.legend()
    return save_figure(fig, folder / "celsius.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
