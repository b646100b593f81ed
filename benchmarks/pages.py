"""How long a step-through page takes to make, and how big it is, as the graph grows.

    python benchmarks/pages.py              # chains of 25 to 400 Values, and MLP(2, [4, 4, 1])
    python benchmarks/pages.py --reps 3     # the median of 3 makings of each

A chain is ``y = tanh(y * x_k + x_k+1)`` over a few shared inputs, so each input is used all along
it (the long edges that made Graphviz's layout slow). The time is ``trace(out).save_html(path)``:
tracing, laying the graph out once, and writing the page; wall clock on whatever machine runs this.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from tracegrad import Value, trace  # noqa: E402
from tracegrad.engine import topological_order  # noqa: E402
from tracegrad.nn import MLP  # noqa: E402

SIZES = (25, 50, 100, 200, 400)


def chain(values: int) -> Value:
    """A chain of tanh neurons with at least ``values`` Values in its graph."""
    xs = [Value(0.1 * (i % 7) - 0.3, label=f"x{i}") for i in range(values // 4 + 1)]
    out, k = xs[0], 1
    while len(topological_order(out)) < values:
        out = (out * xs[k % len(xs)] + xs[(k + 1) % len(xs)]).tanh()
        k += 1
    out.label = "y"
    return out


def model_output() -> Value:
    """MLP(2, [4, 4, 1]) on one point: a model's graph, drawn in columns."""
    out = MLP(2, [4, 4, 1], rng=0)([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    out.label = "o"
    return out


def make(out: Value, folder: str, reps: int) -> Tuple[float, int]:
    """The median seconds of ``reps`` makings of ``out``'s page, and the page's size in bytes."""
    path = os.path.join(folder, "page.html")
    times: List[float] = []
    for _ in range(reps):
        start = time.perf_counter()
        trace(out).save_html(path)
        times.append(time.perf_counter() - start)
    return statistics.median(times), os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1, help="makings of each page (default 1)")
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    cases = [(f"chain of {len(topological_order(out))} Values", out) for out in map(chain, SIZES)]
    mlp = model_output()
    cases.append((f"MLP(2, [4, 4, 1]), {len(topological_order(mlp))} Values", mlp))
    print("| graph | made in (median) | page size |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, out in cases:
            seconds, size = make(out, folder, args.reps)
            print(f"| {name} | {seconds:.2f} s | {size / 1e3:,.0f} KB |", flush=True)


if __name__ == "__main__":
    main()
