"""Pictures of backprop: the step-through page of one neuron, and the clustered graph of a small MLP.

Run: python demos/pictures.py [--out FOLDER]   (default: out/pictures/)
     python demos/pictures.py --docs           (regenerates the pictures the README shows)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import neuron

from tracegrad import Value
from tracegrad.files import write_atomic
from tracegrad.nn import MLP
from tracegrad.viz import draw, save, trace


def mlp_output() -> Tuple[MLP, Value]:
    """MLP(2, [4, 4, 1]) on one input, after backward: every parameter has its gradient."""
    model = MLP(2, [4, 4, 1], activation="tanh", rng=0)
    x = [Value(0.5, label="x0"), Value(-1.5, label="x1")]
    out = model(x)
    out.label = "out"
    out.backward()
    return model, out


def main(out_dir: str = os.path.join("out", "pictures")) -> List[str]:
    """Write the neuron's step-through page and the MLP's graph into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    page = trace(neuron.build()).save_html(os.path.join(out_dir, "neuron-steps.html"))
    model, out = mlp_output()
    graph = draw(out, model=model, precision=3)
    svg = save(graph, os.path.join(out_dir, "mlp.svg"))
    paths = [page, svg]
    for path in paths:
        print(f"wrote {os.path.abspath(path)}")
    return paths


def readme_neuron() -> Value:
    """The README's neuron, ``tanh(x*w + b)``, exactly as its "Draw the graph" code builds it."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    return (x * w + b).tanh()


README_STEP = 4
"""The backward step the README shows: ``*`` passing its gradient to ``x``."""


def docs(folder: str = "docs") -> List[str]:
    """The README's pictures, of the code beside them: the neuron's graph after backward, and
    one step of its step-through."""
    os.makedirs(folder, exist_ok=True)
    o = readme_neuron()
    o.backward()
    paths = [save(draw(o), os.path.join(folder, "neuron.svg"))]
    frames = trace(readme_neuron()).frames()
    step = next(f for f in frames if f.step is not None and f.step.index == README_STEP)
    paths.append(write_atomic(os.path.join(folder, "neuron-step.svg"), step.svg))
    for path in paths:
        print(f"wrote {path}")
    return paths


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Pictures of backprop: a neuron's step-through page, an MLP's graph.")
    parser.add_argument("--out", default=os.path.join("out", "pictures"), help="folder for the pictures")
    parser.add_argument("--docs", action="store_true", help="regenerate the pictures the README shows (docs/)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    if options.docs:
        docs(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs"))
    else:
        main(options.out)
