"""Newton's method and a Hessian, from second derivatives that backprop computes itself.

``grad(y, [x], create_graph=True)`` returns dy/dx as a Value built from the same op table, so it
can be differentiated again. That gives Newton's method for a root (x -= f / f'), for a minimum
(x -= f' / f''), and the Hessian matrix of a function of several variables, which Newton's method
in two dimensions uses to walk to the bottom of Rosenbrock's banana valley in a few steps.

Run: python demos/newton.py [--out FOLDER]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir, parse_args, pyplot, save_figure

from tracegrad.engine import Value, grad

Matrix = List[List[float]]


@dataclass
class Outcome:
    root: float
    root_steps: List[float]
    minimum: float
    minimum_steps: List[float]
    hessian: Matrix
    rosenbrock_steps: List[Tuple[float, float]]
    files: List[Path]


def cubic(x: Value) -> Value:
    """x³ - 2x - 5: Newton's own example; its real root is 2.0945514815423265."""
    return x**3 - 2 * x - 5


def quartic(x: Value) -> Value:
    """x⁴ - 3x³ + 2: a minimum at x = 9/4."""
    return x**4 - 3 * x**3 + 2


def newton_root(f: Callable[[Value], Value], x0: float, steps: int = 8) -> List[float]:
    xs = [x0]
    for _ in range(steps):
        x = Value(xs[-1])
        y = f(x)
        (slope,) = grad(y, [x])
        xs.append(xs[-1] - y.data / slope)
    return xs


def newton_minimum(f: Callable[[Value], Value], x0: float, steps: int = 8) -> List[float]:
    xs = [x0]
    for _ in range(steps):
        x = Value(xs[-1])
        (slope,) = grad(f(x), [x], create_graph=True)  # f'(x) as a Value
        (curvature,) = grad(slope, [x])  # f''(x): the derivative of the derivative
        xs.append(xs[-1] - slope.data / curvature)
    return xs


def hessian(f: Callable[..., Value], point: List[float]) -> Tuple[List[float], Matrix]:
    """The gradient and the matrix of second derivatives ∂²f/∂xi∂xj at ``point``."""
    xs = [Value(v) for v in point]
    first = grad(f(*xs), xs, create_graph=True)
    rows = [grad(g, xs, allow_unused=True) for g in first]
    return [g.data for g in first], [[0.0 if h is None else h for h in row] for row in rows]


def rosenbrock(x: Value, y: Value) -> Value:
    """(1 - x)² + 100 (y - x²)²: a curved valley with its minimum at (1, 1)."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def newton_2d(f: Callable[..., Value], start: Tuple[float, float], steps: int = 8) -> List[Tuple[float, float]]:
    path = [start]
    for _ in range(steps):
        g, h = hessian(f, list(path[-1]))
        det = h[0][0] * h[1][1] - h[0][1] * h[1][0]
        dx = (h[1][1] * g[0] - h[0][1] * g[1]) / det  # the 2x2 solve of H · step = g
        dy = (h[0][0] * g[1] - h[1][0] * g[0]) / det
        path.append((path[-1][0] - dx, path[-1][1] - dy))
    return path


def main(out: Optional[str] = None) -> Outcome:
    folder = output_dir("newton", out)
    roots = newton_root(cubic, 2.0)
    print("root of x³ - 2x - 5 from x = 2:", " -> ".join(f"{x:.12f}" for x in roots[:5]))
    minima = newton_minimum(quartic, 4.0)
    print("minimum of x⁴ - 3x³ + 2 from x = 4:", " -> ".join(f"{x:.6f}" for x in minima[:6]))
    _, h = hessian(lambda x, y: x**2 * y + x * y.sin(), [1.0, 2.0])
    print("Hessian of x²y + x sin(y) at (1, 2):", h)
    path = newton_2d(rosenbrock, (-1.2, 1.0))
    print("Newton on Rosenbrock from (-1.2, 1):", " -> ".join(f"({x:.4f}, {y:.4f})" for x, y in path))
    files = [_plot(folder, minima, path)]
    return Outcome(roots[-1], roots, minima[-1], minima, h, path, files)


def _plot(folder: Path, minima: List[float], path: List[Tuple[float, float]]) -> Path:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    xs = [-1.0 + 4.5 * i / 199 for i in range(200)]
    ax1.plot(xs, [quartic(Value(x)).data for x in xs])
    ax1.plot(minima, [quartic(Value(x)).data for x in minima], "o-", color="tab:red", label="Newton steps")
    ax1.set_title("x⁴ - 3x³ + 2: Newton steps to the minimum")
    ax1.legend()
    gx = [-1.5 + 3.0 * i / 99 for i in range(100)]
    gy = [-0.5 + 2.0 * j / 99 for j in range(100)]
    z = [[rosenbrock(Value(a), Value(b)).data for a in gx] for b in gy]
    ax2.contour(gx, gy, z, levels=[0.5, 2, 8, 30, 100, 300, 800], cmap="viridis")
    ax2.plot([p[0] for p in path], [p[1] for p in path], "o-", color="tab:red")
    ax2.set_title("Newton's method on Rosenbrock's valley")
    return save_figure(fig, folder / "newton.png")


if __name__ == "__main__":
    main(parse_args(__doc__).out)
