"""The step-through page in a real headless Chromium: offline, navigable, its numbers the engine's."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List

import pytest

from tracegrad.engine import Value
from tracegrad.viz import labels
from tracegrad.viz.steps import Trace, trace

import needs

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=1">'


def graph() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label=HOSTILE), Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh() * x  # x is used twice: a fan-in sum
    o.label = "L"
    return o


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = needs.chromium()
    sync_api = needs.playwright()
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    needs.any_renderer()
    root = graph()
    t = trace(root)
    path = t.save_html(os.path.join(tmp_path_factory.mktemp("page"), "trace.html"))
    root.backward()
    return {"path": path, "trace": t, "root": root}


@pytest.fixture()
def page(browser: Any, saved: Dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requests: List[str] = []
    problems: List[str] = []

    def only_the_file(route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            requests.append(url)
            route.abort()

    context.route("**/*", only_the_file)
    tab = context.new_page()
    tab.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    tab.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    tab.goto("file://" + saved["path"])
    tab.wait_for_selector("#equation")
    yield tab
    assert requests == [], f"the page asked the network for {requests}"
    assert problems == [], f"the console reported {problems}"
    context.close()


def frame(tab: Any) -> int:
    return int(tab.get_attribute("body", "data-frame"))


def stroke(tab: Any, element: str) -> str:
    """The colour the picture shows an edge in now."""
    return str(tab.get_attribute(f"#g_{element} path", "stroke"))


def test_buttons_keys_and_slider_move_through_the_steps(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    total = len(t.values) + 1 + len(t.steps)
    assert frame(page) == 0
    assert page.is_disabled("#prev")
    page.click("#next")
    page.click("#next")
    assert frame(page) == 2
    page.click("#prev")
    assert frame(page) == 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert frame(page) == 3
    page.keyboard.press("ArrowLeft")
    assert frame(page) == 2
    page.keyboard.press("End")
    assert frame(page) == total - 1 and page.is_disabled("#next")
    page.fill("#slider", "5")
    assert frame(page) == 5
    assert page.text_content("#counter") == f"6 / {total}"
    page.keyboard.press("Home")
    assert frame(page) == 0


def test_play_steps_forward_by_itself(page: Any) -> None:
    page.click("#play")
    for _ in range(100):  # polled from here: the page's policy forbids evaluating strings
        if frame(page) >= 2:
            break
        page.wait_for_timeout(100)
    assert frame(page) >= 2
    page.click("#play")
    stopped = frame(page)
    page.wait_for_timeout(1200)
    assert frame(page) == stopped


def test_the_numbers_shown_are_the_engines(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    first_step = len(t.values) + 1
    for step in t.steps:
        page.fill("#slider", str(first_step + step.index - 1))
        exact = {key: float(page.get_attribute(f"#step-{key}", "data-exact"))
                 for key in ("local", "upstream", "contribution", "total")}
        assert exact == {"local": step.local, "upstream": step.upstream, "contribution": step.contribution,
                         "total": step.total}
        assert page.text_content("#step-total") == t.num(step.total)
        assert page.text_content("#equation") == t.step_text(step)
    for v in t.values:  # the last frame's table holds every gradient, as backward() computed it
        cell = f'#grads tr[data-number="{t.number[v]}"] td.grad'
        assert float(page.get_attribute(cell, "data-exact")) == v.grad
        assert page.text_content(cell) == t.num(v.grad)


def test_the_panel_explains_the_step_in_words(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    page.fill("#slider", str(len(t.values) + 1))
    assert page.text_content("#title") == f"Backward step 1 / {len(t.steps)}"
    assert page.text_content("#equation").startswith("∂L/∂")
    assert "local derivative" in page.text_content("#words")


def test_a_hostile_label_does_not_run(page: Any) -> None:
    page.keyboard.press("End")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.eval_on_selector_all("img", "xs => xs.length") == 0
    assert labels.shown(HOSTILE) in page.text_content("#stage")  # shown as text (clipped, as every label)


def test_screenshot(page: Any, tmp_path: os.PathLike) -> None:
    page.keyboard.press("End")
    shot = page.screenshot(path=os.path.join(tmp_path, "page.png"), full_page=True)
    assert shot.startswith(b"\x89PNG")


def test_the_picture_follows_the_steps(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    first = t.steps[0]
    edge = f"e{first.node_number}_{first.position}"
    assert stroke(page, edge) != "#cc0000"
    page.fill("#slider", str(len(t.values) + 1))  # the first backward step
    assert stroke(page, edge) == "#cc0000"
    assert "grad ?" in page.text_content(f"#g_v{t.number[t.values[0]]}")
    page.keyboard.press("End")
    assert stroke(page, edge) == "#6aa84f"  # done
    assert "grad ?" not in page.text_content("#stage")
    page.keyboard.press("Home")  # back to the start: every gradient unknown again
    assert stroke(page, edge) != "#cc0000" and "data ?" in page.text_content("#stage")
