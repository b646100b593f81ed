"""Pictures of backprop: the step-through page of one neuron, and the clustered graph of a small MLP.

Run: python demos/pictures.py [--out FOLDER]   (default: out/pictures/)
     python demos/pictures.py --docs           (regenerates the pictures the README shows)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
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
    steps = trace(neuron.build())
    page = steps.save_html(os.path.join(out_dir, "neuron-steps.html"))
    practice = steps.save_html(os.path.join(out_dir, "neuron-practice.html"), practice=True)
    model, out = mlp_output()
    graph = draw(out, model=model, precision=3)
    svg = save(graph, os.path.join(out_dir, "mlp.svg"))
    paths = [page, svg, practice]
    for path in paths:
        print(f"wrote {os.path.abspath(path)}")
    print(f"open {Path(os.path.abspath(practice)).as_uri()} in a browser to practise backprop step by step "
          "(type each step's contribution, the page checks it)")
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
    paths.append(screenshot(os.path.join(folder, "step-through.png")))
    for path in paths:
        print(f"wrote {path}")
    return paths


def notebook_example() -> Value:
    """The README's notebook example, ``o = tanh(p*q + r)``, exactly as it builds it."""
    p, q, r = Value(2.0, label="p"), Value(-3.0, label="q"), Value(6.8813735870195432, label="r")
    o = (p * q + r).tanh()
    o.label = "o"
    return o


def screenshot(path: str) -> str:
    """The README's picture of the page beside its notebook example: a 1280×800 window at backward
    step 4, taken by headless Chromium (Playwright and Debian's chromium, as the browser tests use)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        steps = trace(notebook_example())
        page = steps.save_html(os.path.join(folder, "page.html"))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            offline = lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort()
            tab.route("**/*", offline)
            tab.goto(Path(page).as_uri())
            tab.get_by_role("slider", name="Step").fill(str(len(steps.values) + README_STEP))
            tab.click("#g_v1")  # p: its gradient as a chain-rule sum in the inspector
            png = tab.screenshot()
            browser.close()
    return write_atomic(path, png)


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
