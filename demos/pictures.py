"""Pictures of backprop: the step-through page of one neuron, and the clustered graph of a small MLP.

Run: python demos/pictures.py [OUT_DIR]        (default: out/pictures/)
     python demos/pictures.py --docs           (regenerates the pictures the README shows)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

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


def docs(folder: str = "docs") -> List[str]:
    """The README's pictures: the neuron's graph after backward, and one step of its page."""
    os.makedirs(folder, exist_ok=True)
    o = neuron.build()
    o.backward()
    paths = [save(draw(o), os.path.join(folder, "neuron.svg"))]
    frames = trace(neuron.build()).frames()
    step = next(f for f in frames if f.step is not None and f.step.index == 8)
    paths.append(write_atomic(os.path.join(folder, "neuron-step.svg"), step.svg))
    paths.append(screenshot(os.path.join(folder, "step-through.png")))
    for path in paths:
        print(f"wrote {path}")
    return paths


def screenshot(path: str) -> str:
    """The README's picture of the page: the neuron's page at a 1280×800 window, at backward step 4,
    taken by headless Chromium (Playwright and Debian's chromium, as the browser tests use)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        page = trace(neuron.build()).save_html(os.path.join(folder, "page.html"))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            offline = lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort()
            tab.route("**/*", offline)
            tab.goto(Path(page).as_uri())
            tab.get_by_role("slider", name="Step").fill(str(10 + 4))
            tab.click("#g_v1")  # x: its gradient as a chain-rule sum in the inspector
            png = tab.screenshot()
            browser.close()
    return write_atomic(path, png)


if __name__ == "__main__":
    if sys.argv[1:] == ["--docs"]:
        docs(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs"))
    else:
        main(*sys.argv[1:2])
