"""Convolution by hand: a 3x3 horizontal-edge filter slid over a 6x6 image, all in Values.

The image is bright (1) in its top three rows and dark (0) below. The filter
[[1, 1, 1], [0, 0, 0], [-1, -1, -1]] answers "how much brighter is above than below?" at each
position, so the 4x4 feature map is 0 where the image is flat and 3 along the edge: the edge
shows as a line. Then the filter's nine weights are learned from scratch by gradient descent,
from images and the feature maps wanted for them.

Run: python demos/edge_filter.py [--out FOLDER]
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure

from tracegrad.engine import Value, ValueLike, value_sum
from tracegrad.nn.losses import mse
from tracegrad.nn.optim import SGD

Grid = List[List[float]]

EDGE_FILTER: Grid = [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]]
IMAGE: Grid = [[1.0] * 6 for _ in range(3)] + [[0.0] * 6 for _ in range(3)]


@dataclass
class Outcome:
    feature_map: Grid
    learned_filter: Grid
    losses: List[float]
    files: List[Path]


def convolve(image: Sequence[Sequence[ValueLike]], kernel: Sequence[Sequence[ValueLike]]) -> List[List[Value]]:
    """Slide ``kernel`` over ``image`` (no padding, stride 1): each output is Σ kernel·patch."""
    k = len(kernel)
    rows, cols = len(image) - k + 1, len(image[0]) - k + 1
    return [[value_sum([kernel[a][b] * image[i + a][j + b] for a in range(k) for b in range(k)])
             for j in range(cols)] for i in range(rows)]


def data(n: int = 4, seed: int = 0) -> List[Grid]:
    """The edge image and a few random 6x6 images: one image alone does not pin down nine weights."""
    rng = random.Random(seed)
    return [IMAGE] + [[[float(rng.random() < 0.5) for _ in range(6)] for _ in range(6)] for _ in range(n - 1)]


def learn(images: List[Grid], steps: int, lr: float = 0.15, seed: int = 1) -> tuple[List[List[Value]], List[float]]:
    """Gradient descent on the squared error between this filter's maps and the wanted ones."""
    rng = random.Random(seed)
    kernel = [[Value(rng.uniform(-1, 1), label=f"k{a}{b}") for b in range(3)] for a in range(3)]
    wanted = [[v.data for row in convolve(img, EDGE_FILTER) for v in row] for img in images]
    optimizer = SGD([w for row in kernel for w in row], lr=lr, momentum=0.5)
    losses = []
    for _ in range(steps):
        outputs = [v for img in images for row in convolve(img, kernel) for v in row]
        loss = mse(outputs, [t for maps in wanted for t in maps])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
    return kernel, losses


def main(out: Optional[str] = None, steps: int = 150) -> Outcome:
    folder = output_dir("edge_filter", out)
    feature_map = [[v.data for v in row] for row in convolve(IMAGE, EDGE_FILTER)]
    print("image:")
    for row in IMAGE:
        print("  " + " ".join(f"{v:g}" for v in row))
    print("feature map (the edge is the line of 3s):")
    for row in feature_map:
        print("  " + " ".join(f"{v:g}" for v in row))
    kernel, losses = learn(data(), steps)
    learned = [[w.data for w in row] for row in kernel]
    print(f"learned filter after {steps} steps (loss {losses[0]:.3f} -> {losses[-1]:.2e}):")
    for row in learned:
        print("  " + " ".join(f"{v:6.3f}" for v in row))
    files = [_plot(folder, feature_map, learned, losses)]
    return Outcome(feature_map, learned, losses, files)


def _plot(folder: Path, feature_map: Grid, learned: Grid, losses: List[float]) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    for ax, grid, title in ((axes[0], IMAGE, "6x6 image"), (axes[1], feature_map, "feature map"),
                            (axes[2], learned, "learned 3x3 filter")):
        ax.imshow(grid, cmap="gray")
        ax.set_title(title)
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                ax.text(j, i, f"{v:.2g}", ha="center", va="center", color="tab:red", fontsize=8)
    axes[3].semilogy(losses)
    axes[3].set_title("squared error while learning")
    axes[3].set_xlabel("step")
    return save_figure(fig, folder / "edge_filter.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
