"""The training page in a real headless Chromium, network blocked: it replays, its numbers are the
recording's, a click shows a point's graph, runs compare side by side, and names stay text."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tracegrad.nn import MLP, SGD, History, Neuron, fit
from tracegrad.nn.data import moons
from tracegrad.nn.losses import hinge, mse
from tracegrad.nn.record import Recorder
from tracegrad.viz import labels

import browsing
import needs

pytestmark = pytest.mark.browser

HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=1">'
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browsing.launch()


def readme_page(folder: Path) -> Tuple[str, History]:
    """The page the README's code makes (run here as it is written there), and its history."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    (block,) = [b for b in blocks if 'history.save_html("training.html")' in b]
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        namespace: Dict[str, Any] = {"__name__": "readme"}
        exec(compile(block, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    return str(folder / "training.html"), namespace["history"]


def celsius_runs() -> Dict[str, History]:
    celsius = [-15.0 + 30.0 * i / 19 for i in range(20)]
    fahrenheit = [1.8 * c + 32.0 for c in celsius]
    runs = {}
    for name, lr in (("too small", 1e-4), ("good", 6e-3), ("too large", 1.6e-2)):
        neuron = Neuron(1, activation="linear", rng=1, fused=True)
        recorder = Recorder(inputs=["°C"], output="°F")

        def watch(epoch: int, history: History) -> None:
            if history.loss[-1] > 1e6 * history.loss[0]:
                raise FloatingPointError("the loss grew a millionfold")

        try:
            fit(neuron, ([[c] for c in celsius], fahrenheit), mse, SGD(neuron.parameters(), lr=lr), epochs=150,
                shuffle=False, progress=False, accuracy=None, callback=watch, record=recorder)
        except FloatingPointError as error:
            recorder.stop(error)
        runs[f"lr {lr:g} ({name})"] = recorder.history
    return runs


def hostile_history() -> History:
    model = MLP(2, [3, 1], rng=0, fused=True)
    recorder = Recorder(inputs=[HOSTILE, "b"], output=HOSTILE, classes=[HOSTILE, "</title><b>bold</b>"])
    return fit(model, moons(12, seed=0, signed=True), hinge, SGD(model.parameters(), lr=0.1), epochs=4,
               progress=False, record=recorder)


def notebook_output(history: History, folder: Path) -> str:
    """A page holding what a notebook shows for ``history`` (its HTML output), as Jupyter would."""
    path = folder / "notebook.html"
    path.write_text("<!DOCTYPE html><html><body><p>Out[3]:</p>" + history._repr_mimebundle_()["text/html"]
                    + "</body></html>", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    needs.any_renderer()
    folder = tmp_path_factory.mktemp("pages")
    (moons_page, history), runs, hostile = readme_page(folder), celsius_runs(), hostile_history()
    from tracegrad.viz.learning import replay

    return {
        "moons": moons_page, "history": history,
        "compare": replay(runs, title="Three learning rates").save_html(folder / "compare.html"), "runs": runs,
        "hostile": replay(hostile, title=HOSTILE).save_html(folder / "hostile.html"),
        "hostile_compare": replay({HOSTILE: hostile, "b": hostile}).save_html(folder / "hostile_compare.html"),
        "notebook": notebook_output(hostile, folder),
    }


@pytest.fixture()
def open_tab(browser: Any, pages: Dict[str, Any]) -> Iterator[Any]:
    opened: List[Any] = []

    def opener(name: str) -> Any:
        """The page, opened offline at 1300×900 (every request but its file's aborted and noted)."""
        path = str(pages[name])
        _, tab, requests, problems = browsing.offline_tab(browser, "file://" + path, width=1300, height=900)
        opened.append((tab, requests, problems))
        if not path.endswith("notebook.html"):
            tab.wait_for_selector("#where")
        return tab

    yield opener
    requests = [url for _, asked, _ in opened for url in asked]
    problems = [text for _, _, said in opened for text in said]
    assert requests == [], f"the page asked the network for {requests}"
    assert problems == [], f"the console reported {problems}"
    for tab, _, _ in opened:
        tab.context.close()


def position(tab: Any) -> int:
    return int(tab.get_attribute("body", "data-position"))


def data(tab: Any) -> Dict[str, Any]:
    result: Dict[str, Any] = json.loads(tab.text_content("#learning-data"))
    return result


def shown_equals(text: str, value: float) -> bool:
    """Whether ``text`` is ``value`` to the digits it shows."""
    mantissa = re.sub(r"e.*$", "", text.lstrip("-"))
    digits = len(mantissa.replace(".", "").lstrip("0")) or 1
    shown = float(text)
    scale = 10 ** (math.floor(math.log10(abs(value))) - digits + 1) if value else 1e-12
    return abs(shown - value) <= scale / 2 * (1 + 1e-9)


def test_the_scrubber_and_play_move_through_the_snapshots(open_tab: Any, pages: Dict[str, Any]) -> None:
    tab = open_tab("moons")
    snapshots = pages["history"].recording.snapshots
    slider = tab.get_by_role("slider", name="Snapshot")
    assert position(tab) == len(snapshots) - 1  # it opens on the end of training
    slider.fill("0")
    assert position(tab) == 0 and tab.text_content("#status-0") == f"epoch 1 of {len(snapshots)}"
    tab.get_by_role("button", name="Next snapshot").click()
    assert position(tab) == 1 and tab.text_content("#loss-0") == labels.number(snapshots[1].loss, 4)
    tab.keyboard.press("End")
    tab.keyboard.press("ArrowLeft")
    assert position(tab) == len(snapshots) - 2
    tab.keyboard.press("Home")
    tab.get_by_role("button", name="Play").click()
    for _ in range(100):  # polled from here: the page's policy forbids evaluating strings
        if position(tab) >= 3:
            break
        tab.wait_for_timeout(100)
    assert position(tab) >= 3
    tab.get_by_role("button", name="Pause").click()
    stopped = position(tab)
    tab.wait_for_timeout(1000)
    assert position(tab) == stopped and tab.get_by_role("button", name="Play").is_visible()
    images = tab.get_attribute("#regions-0", "href")
    slider.fill(str(len(snapshots) - 1))
    assert tab.get_attribute("#regions-0", "href") != images  # the model's view changed with it


def test_the_loss_at_the_last_snapshot_is_the_historys(open_tab: Any, pages: Dict[str, Any]) -> None:
    tab = open_tab("moons")
    history = pages["history"]
    tab.keyboard.press("End")
    shown = tab.text_content("#loss-0")
    assert shown_equals(shown, history.loss[-1]), (shown, history.loss[-1])
    assert tab.text_content("#accuracy-0") == f"{history.accuracy[-1]:.1%}"


def test_clicking_a_point_shows_its_graph(open_tab: Any) -> None:
    tab = open_tab("moons")
    assert tab.is_hidden("#graph-stage")
    content = data(tab)
    graph = content["runs"][0]["graph"]
    first = sorted(graph["points"], key=int)[0]
    tab.get_by_role("slider", name="Snapshot").fill("10")
    tab.click(f'circle.point[data-i="{first}"]')
    assert tab.is_visible("#graph-stage")
    point = graph["points"][first]
    structure = graph["structures"][point["structure"]]
    assert tab.is_visible(f"#graph-{point['structure']}")
    numbers = point["numbers"][10].split()
    for b, box in enumerate(structure["boxes"]):
        texts = tab.locator(f"#{box} text").all_text_contents()
        assert texts[-2:] == [f"data {numbers[2 * b]}", f"grad {numbers[2 * b + 1]}"]
    assert tab.text_content("#graph-title") == point["title"]
    tab.keyboard.press("ArrowRight")  # the graph follows the scrubber
    root = structure["boxes"][-1]
    assert tab.locator(f"#{root} text").all_text_contents()[-2] == f"data {point['numbers'][11].split()[-2]}"
    other = sorted(graph["points"], key=int)[1]
    tab.focus(f'circle.point[data-i="{other}"]')
    tab.keyboard.press("Enter")  # the keyboard picks a point too
    assert tab.text_content("#graph-title") == graph["points"][other]["title"]


def test_a_weight_shows_its_value_and_gradient(open_tab: Any) -> None:
    tab = open_tab("moons")
    network = data(tab)["runs"][0]["network"]
    tab.get_by_role("slider", name="Snapshot").fill("4")
    tab.hover('line.hit[data-k="3"]', force=True)
    info = tab.text_content("#weight-info")
    value, grad = network["w"][4].split()[3], network["g"][4].split()[3]
    assert info.startswith(network["names"][3]) and f"value {value}, gradient {grad}" in info
    tab.get_by_role("button", name="neuron 2 of hidden layer 1 (relu): show its bias").click()
    assert tab.text_content("#weight-info").startswith("bias of neuron 2 of hidden layer 1")


def test_the_comparison_shows_each_runs_loss(open_tab: Any, pages: Dict[str, Any]) -> None:
    tab = open_tab("compare")
    runs = pages["runs"]
    tab.keyboard.press("End")
    for r, (name, history) in enumerate(runs.items()):
        assert tab.text_content(f'.run[data-run="{r}"] h2') == name
        shown = tab.text_content(f"#loss-{r}")
        assert shown == labels.number(history.recording.snapshots[-1].loss, 4)
        assert shown_equals(shown, history.loss[-1])
    assert "grew a millionfold" in tab.text_content("#note-2") and tab.text_content("#note-0") == ""
    tab.get_by_role("slider", name="Snapshot").fill("3")
    assert tab.text_content("#status-0") == tab.text_content("#status-1") == "epoch 4 of 150"


def test_a_hostile_label_or_class_name_does_not_run(open_tab: Any) -> None:
    for name in ("hostile", "hostile_compare"):
        tab = open_tab(name)
        tab.keyboard.press("Home")
        tab.keyboard.press("End")
        if name == "hostile":
            tab.click("circle.point.pick")
            assert HOSTILE in tab.text_content("#graph-stage")  # the input's box shows the name as text
        assert tab.evaluate("typeof window.pwned") == "undefined"
        assert tab.eval_on_selector_all("img, b", "xs => xs.length") == 0
        assert HOSTILE in tab.text_content("main")


def test_the_page_works_inline_in_a_notebooks_output(open_tab: Any) -> None:
    tab = open_tab("notebook")
    frame = tab.frame_locator("iframe")
    slider = frame.get_by_role("slider", name="Snapshot")
    slider.fill("0")
    assert frame.locator("#status-0").text_content() == "epoch 1 of 4"
    frame.get_by_role("button", name="Next snapshot").click()
    assert frame.locator("#status-0").text_content() == "epoch 2 of 4"
    frame.locator("circle.point.pick").first.click()
    assert frame.locator("#graph-stage").is_visible()
    assert tab.evaluate("typeof window.pwned") == "undefined"


def test_the_readme_picture(open_tab: Any, tmp_path: Path) -> None:
    """The README's picture of the page; ``TRACEGRAD_WRITE_DOCS=1`` writes it into docs/."""
    tab = open_tab("moons")
    tab.set_viewport_size({"width": 1000, "height": 800})
    tab.get_by_role("slider", name="Snapshot").fill("12")
    tab.locator("circle.point.pick").nth(5).click()
    if tab.text_content("#fit") == "Fit to width":
        tab.click("#fit")
    tab.hover('line.hit[data-k="4"]', force=True)
    tab.evaluate("window.scrollTo(0, 0)")  # the sticky controls at the top, where they start
    target = DOCS / "training-page.png" if os.environ.get("TRACEGRAD_WRITE_DOCS") else tmp_path / "page.png"
    shot = tab.screenshot(path=str(target), full_page=True)
    assert shot.startswith(b"\x89PNG")
