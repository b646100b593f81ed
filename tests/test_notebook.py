"""A real notebook: executed with nbclient on this Python, converted with nbconvert, and the
converted HTML driven in headless Chromium: inside the embedded page, Next and the arrow keys
step through backprop and the gradients shown are backward()'s. One kernel run for every check."""

from __future__ import annotations

import html
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from tracegrad import Value, tanh
from tracegrad.viz.notebook import SANDBOX
from tracegrad.viz.render import available_renderers

import browsing
import needs

pytestmark = pytest.mark.browser

CELLS = [
    "import sys\nprint(sys.executable)",
    "from tracegrad import Value, tanh\nfrom tracegrad.viz import draw, trace\n"
    "p, q, r = Value(2.0, label='p'), Value(-3.0, label='q'), Value(6.8813735870195432, label='r')\n"
    "o = tanh(p*q + r)\no.label = 'o'\ntrace(o)",
    "o.backward()\ndraw(o)",
    "from tracegrad.nn import MLP\nfrom tracegrad.nn.data import moons\nfrom tracegrad.nn.losses import hinge\n"
    "from tracegrad.nn.optim import SGD\nfrom tracegrad.nn.train import fit\n"
    "model = MLP(2, [4, 1], rng=0, fused=True)\n"
    "history = fit(model, moons(20, seed=0, signed=True), hinge, SGD(model.parameters(), lr=0.1), epochs=40)",
    "trace(o).page(practice=True)",
]


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    needs.notebook()
    if not available_renderers():
        pytest.skip("no Graphviz renderer: install Graphviz, or `pip install tracegrad[viz]` for graphviz-pure")
    import nbformat
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    folder = tmp_path_factory.mktemp("notebook")
    # a kernel spec of our own, so the kernel is this very interpreter (not a python3 found elsewhere)
    spec = folder / "kernels" / "tracegrad-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tracegrad test", "language": "python",
    }))
    manager = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    kernel = KernelManager(kernel_name="tracegrad-test", kernel_spec_manager=manager)
    client = NotebookClient(nb, km=kernel, timeout=180, resources={"metadata": {"path": str(folder)}})
    client.execute()
    body, _ = HTMLExporter().from_notebook_node(nb)
    page = folder / "notebook.html"
    page.write_text(body, encoding="utf-8")
    return {"nb": nb, "html": str(page)}


def outputs(nb: Any, index: int) -> List[Any]:
    return list(nb.cells[index].outputs)


def test_the_kernel_is_this_python(notebook: Dict[str, Any]) -> None:
    (out,) = outputs(notebook["nb"], 0)
    assert out.output_type == "stream" and out.text.strip() == sys.executable


def _iframe(out: Any) -> str:
    assert out.output_type == "execute_result"
    assert set(out.data) == {"text/html", "text/plain"}
    element = out.data["text/html"]
    assert element.startswith("<iframe srcdoc=") and f'sandbox="{SANDBOX}"' in element
    page = html.unescape(element.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert page.startswith("<!DOCTYPE html>") and "default-src 'none'" in page
    return page


def test_trace_and_draw_show_as_pages_inline(notebook: Dict[str, Any]) -> None:
    nb = notebook["nb"]
    (trace_out,) = outputs(nb, 1)
    assert 'id="trace-data"' in _iframe(trace_out) and trace_out.data["text/plain"].startswith("<Trace of o")
    (draw_out,) = outputs(nb, 2)
    assert "<svg" in _iframe(draw_out)
    (practice_out,) = outputs(nb, 4)
    assert '"practice": true' in _iframe(practice_out)


def test_fit_shows_one_clean_line(notebook: Dict[str, Any]) -> None:
    outs = outputs(notebook["nb"], 3)
    assert {(o.output_type, o.name) for o in outs} == {("stream", "stdout")}  # no stderr: nothing red
    text = "".join(o.text for o in outs)  # a notebook shows consecutive stream outputs as one
    assert "Warning" not in text and "ipywidgets" not in text and "\n" not in text.rstrip("\n")
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    assert lines and "40/40" in lines[-1] and len(lines) <= 6  # one line, rewritten in place a few times


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browsing.launch()


def test_chromium_steps_through_the_converted_notebook(notebook: Dict[str, Any], browser: Any,
                                                       tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    from_page: List[str] = []

    def block(route: Any) -> None:  # the converted notebook may ask for its own assets; never ours
        if route.request.frame.url.startswith("about:srcdoc"):
            from_page.append(route.request.url)
        if route.request.url.startswith(("file://", "about:", "data:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", block)
    tab = context.new_page()
    tab.goto("file://" + notebook["html"])
    inner = tab.frame_locator('iframe[title^="Step-through: backprop of o"]')
    expect = _engine()
    slider = inner.get_by_role("slider", name="Step")
    inner.get_by_role("button", name="Next", exact=True).click()
    assert slider.input_value() == "1"
    inner.get_by_role("heading", name="Forward 2 / 6").click()  # focus inside the page for its keys
    for _ in range(4):
        tab.keyboard.press("ArrowRight")
    assert slider.input_value() == "5"
    tab.keyboard.press("ArrowLeft")
    assert slider.input_value() == "4"
    for _ in range(20):
        inner.get_by_role("button", name="Next", exact=True).click() if not inner.get_by_role(
            "button", name="Next", exact=True).is_disabled() else None
    assert inner.locator("#title").text_content() == "Backward step 5 / 5"
    for number, grad in expect.items():
        cell = inner.locator(f'#grads tr[data-number="{number}"] td.grad')
        assert float(cell.get_attribute("data-exact")) == grad
    sizes = tab.frame_locator('iframe[title^="Step-through: backprop of o"]').locator("body").evaluate(
        browsing.FONT_SIZES.replace("() =>", "(body) =>"))
    assert min(sizes) >= 12
    os.makedirs(tmp_path, exist_ok=True)
    tab.screenshot(path=str(tmp_path / "notebook.png"), full_page=True)
    assert from_page == [], f"the embedded page asked for {from_page}"
    context.close()


def _engine() -> Dict[str, float]:
    """The same graph as the notebook's, backward() here: each node's gradient by its number."""
    p, q, r = Value(2.0, label="p"), Value(-3.0, label="q"), Value(6.8813735870195432, label="r")
    pq = p * q
    n = pq + r
    o = tanh(n)
    o.backward()
    return {"1": p.grad, "2": q.grad, "3": pq.grad, "4": r.grad, "5": n.grad, "6": o.grad}
