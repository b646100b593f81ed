"""The step-through page in a real headless Chromium: offline, navigable by its controls' accessible
names, readable at a 1280×800 window, its numbers the engine's; practice mode, the node
inspector and the nudges as a learner uses them."""

from __future__ import annotations

import math
import os
from typing import Any, Dict, Iterator

import pytest

from tracegrad.engine import Value
from tracegrad.nn import MLP
from tracegrad.viz import labels
from tracegrad.viz.nudge import nudges
from tracegrad.viz.steps import Trace, trace

import browsing
import needs
import svg_parts

pytestmark = pytest.mark.browser

HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=1">'


def graph() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label=HOSTILE), Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh() * x  # x is used twice: a fan-in sum
    o.label = "L"
    return o


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from browsing.launch()


def _save(tmp: Any, root: Value, name: str, **options: Any) -> Dict[str, Any]:
    needs.any_renderer()
    t = trace(root, max_nodes=None)
    path = t.save_html(os.path.join(tmp, name), **options)
    root.backward()
    return {"path": path, "trace": t, "root": root}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    return _save(tmp_path_factory.mktemp("page"), graph(), "trace.html")


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    return _save(tmp_path_factory.mktemp("practice"), graph(), "practice.html", practice=True)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    model = MLP(2, [4, 4, 1], activation="tanh", rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.5, label="x1")])
    out.label = "out"
    return _save(tmp_path_factory.mktemp("mlp"), out, "mlp.html")


def _open(browser: Any, path: str, clock: bool = False) -> Iterator[Any]:
    context, tab, requests, problems = browsing.offline_tab(browser, "file://" + path, clock=clock)
    tab.wait_for_selector("#equation")
    yield tab
    assert requests == [], f"the page asked the network for {requests}"
    assert problems == [], f"the console reported {problems}"
    context.close()


@pytest.fixture()
def page(browser: Any, saved: Dict[str, Any]) -> Iterator[Any]:
    yield from _open(browser, saved["path"])


@pytest.fixture()
def practice_page(browser: Any, practice: Dict[str, Any]) -> Iterator[Any]:
    yield from _open(browser, practice["path"])


@pytest.fixture()
def mlp_page(browser: Any, mlp: Dict[str, Any]) -> Iterator[Any]:
    yield from _open(browser, mlp["path"], clock=True)


def frame(tab: Any) -> int:
    return int(tab.get_attribute("body", "data-frame"))


def stroke(tab: Any, element: str) -> str:
    """The colour the picture shows an edge in now."""
    return str(tab.get_attribute(f"#g_{element} path", "stroke"))


def button(tab: Any, name: str) -> Any:
    return tab.get_by_role("button", name=name, exact=True)


def test_buttons_keys_and_slider_move_through_the_steps(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    total = len(t.values) + 1 + len(t.steps)
    slider = page.get_by_role("slider", name="Step")
    assert frame(page) == 0
    assert button(page, "Previous").is_disabled()
    button(page, "Next").click()
    button(page, "Next").click()
    assert frame(page) == 2
    button(page, "Previous").click()
    assert frame(page) == 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert frame(page) == 3
    page.keyboard.press("ArrowLeft")
    assert frame(page) == 2
    page.keyboard.press("End")
    assert frame(page) == total - 1 and button(page, "Next").is_disabled()
    slider.fill("5")
    assert frame(page) == 5 and slider.get_attribute("aria-valuetext") == "Forward 6 / 7"
    assert page.text_content("#counter") == f"6 / {total}"
    page.keyboard.press("Home")
    assert frame(page) == 0


def test_play_steps_forward_by_itself(page: Any) -> None:
    play = button(page, "Play")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    for _ in range(100):  # polled from here: the page's policy forbids evaluating strings
        if frame(page) >= 2:
            break
        page.wait_for_timeout(100)
    assert frame(page) >= 2
    play.click()
    stopped = frame(page)
    page.wait_for_timeout(1200)
    assert frame(page) == stopped and play.get_attribute("aria-pressed") == "false"


def test_the_numbers_shown_are_the_engines(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    first_step = len(t.values) + 1
    for step in t.steps:
        page.get_by_role("slider", name="Step").fill(str(first_step + step.index - 1))
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


def test_the_panel_explains_the_step_in_words_in_a_live_region(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    page.get_by_role("slider", name="Step").fill(str(len(t.values) + 1))
    panel = page.get_by_role("region", name="Explanation")
    assert panel.get_attribute("aria-live") == "polite"
    assert page.text_content("#title") == f"Backward step 1 / {len(t.steps)}"
    assert page.text_content("#equation") == "∂L/∂(tanh(x*" + HOSTILE + " + b)) += x × ∂L/∂L = x × 1 = 2 × 1 = 2" \
        or page.text_content("#equation").startswith("∂L/∂")
    assert "local derivative" in panel.text_content()


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
    page.get_by_role("slider", name="Step").fill(str(len(t.values) + 1))  # the first backward step
    assert stroke(page, edge) == "#cc0000"
    on_top = "id => { const g = document.getElementById(id); return g.parentNode.lastElementChild === g; }"
    assert page.evaluate(on_top, f"g_{edge}")  # drawn over the boxes, so its label is never hidden
    assert "grad ?" in page.text_content(f"#g_v{t.number[t.values[0]]}")
    page.keyboard.press("End")
    assert stroke(page, edge) == "#6aa84f"  # done
    assert "grad ?" not in page.text_content("#stage")
    page.keyboard.press("Home")  # back to the start: every gradient unknown again
    assert stroke(page, edge) != "#cc0000" and "data ?" in page.text_content("#stage")


def test_every_frame_is_the_one_the_renderer_draws(browser: Any, renderer: Any, tmp_path: os.PathLike) -> None:
    """The page restyles one drawing: at every frame it holds exactly what the renderer draws for that frame."""
    model = MLP(1, [2, 1], activation="tanh", rng=0)
    x = [Value(0.5, label="x0")]
    out = model(x) - x[0]  # module boxes, an ordered op, an input used twice
    out.label = "L"
    saved = _save(str(tmp_path), out, "page.html", renderer=renderer)
    made = saved["trace"].frames(renderer=renderer)
    for tab in _open(browser, saved["path"]):
        slider = tab.get_by_role("slider", name="Step")
        for frame in made:
            slider.fill(str(frame.index))
            assert tab.evaluate(svg_parts.IN_PAGE) == svg_parts.groups(frame.svg), f"frame {frame.index}"
        tab.keyboard.press("Home")  # back from the end: the first frame again
        assert tab.evaluate(svg_parts.IN_PAGE) == svg_parts.groups(made[0].svg)


# --- readable by default, pan and zoom


def test_an_mlp_opens_readable_and_keeps_each_step_in_view(mlp_page: Any, mlp: Dict[str, Any]) -> None:
    """Text never smaller than 12 px: a step whose two nodes are further apart than the stage starts
    on the node passing its gradient back and travels along the edge to the input receiving it."""
    t: Trace = mlp["trace"]
    tab = mlp_page
    sizes = tab.evaluate(browsing.FONT_SIZES)
    assert sizes and min(sizes) >= 12, f"text of {min(sizes):.1f} px at a 1280×800 window"
    assert tab.evaluate(browsing.IN_VIEW, ["g_v1"]) == [True]  # the first frame's node
    stage = tab.locator("#stage")
    readable = float(stage.get_attribute("data-scale"))
    slider = tab.get_by_role("slider", name="Step")
    first_step = len(t.values) + 1
    travelled = 0
    for step in t.steps:
        slider.fill(str(first_step + step.index - 1))
        passing, receiving = f"g_v{step.node_number}", f"g_v{step.input_number}"
        assert tab.evaluate(browsing.IN_VIEW, [passing]) == [True], f"step {step.index} starts elsewhere"
        if stage.get_attribute("data-moving"):
            travelled += 1
            tab.clock.run_for(1000)
            assert stage.get_attribute("data-moving") is None
        assert tab.evaluate(browsing.IN_VIEW, [receiving]) == [True], f"step {step.index} ends elsewhere"
        assert float(stage.get_attribute("data-scale")) == readable
        assert min(tab.evaluate(browsing.FONT_SIZES)) >= 12
    assert 0 < travelled < len(t.steps) // 3  # most steps show both nodes at once


def test_a_pan_stops_when_the_learner_takes_over(mlp_page: Any, mlp: Dict[str, Any]) -> None:
    t: Trace = mlp["trace"]
    tab = mlp_page
    stage = tab.locator("#stage")
    slider = tab.get_by_role("slider", name="Step")
    for far in range(len(t.values) + 1, len(t.values) + 1 + len(t.steps)):
        slider.fill(str(far))
        if stage.get_attribute("data-moving"):
            break
    else:
        pytest.fail("no step of the MLP travels along its edge")
    box = stage.bounding_box()
    tab.mouse.move(box["x"] + 200, box["y"] + 200)
    tab.mouse.down()  # grabbing the picture stops the travel where it is
    tab.mouse.up()
    assert stage.get_attribute("data-moving") is None
    transform = tab.eval_on_selector("#stage svg", "s => s.style.transform")
    tab.clock.run_for(1000)
    assert tab.eval_on_selector("#stage svg", "s => s.style.transform") == transform
    assert frame(tab) == far


def test_a_reader_who_asks_for_less_motion_is_not_panned(browser: Any, mlp: Dict[str, Any]) -> None:
    context, tab, requests, problems = browsing.offline_tab(browser, "file://" + mlp["path"])
    tab.emulate_media(reduced_motion="reduce")
    t: Trace = mlp["trace"]
    for step in t.steps:
        tab.get_by_role("slider", name="Step").fill(str(len(t.values) + step.index))
        assert tab.locator("#stage").get_attribute("data-moving") is None
        assert tab.evaluate(browsing.IN_VIEW, [f"g_v{step.input_number}"]) == [True]
    assert requests == [] and problems == []
    context.close()


def test_the_picture_pans_and_zooms(mlp_page: Any) -> None:
    stage = mlp_page.locator("#stage")
    scale = float(stage.get_attribute("data-scale"))
    transform = mlp_page.eval_on_selector("#stage svg", "s => s.style.transform")
    box = stage.bounding_box()
    mlp_page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    mlp_page.mouse.down()
    mlp_page.mouse.move(box["x"] + box["width"] / 2 - 200, box["y"] + box["height"] / 2 - 80, steps=5)
    mlp_page.mouse.up()
    moved = mlp_page.eval_on_selector("#stage svg", "s => s.style.transform")
    assert moved != transform and float(stage.get_attribute("data-scale")) == scale  # a pan
    mlp_page.mouse.wheel(0, -300)  # zoom in
    assert float(stage.get_attribute("data-scale")) > scale
    button(mlp_page, "Zoom out").click()
    button(mlp_page, "Zoom out").click()
    button(mlp_page, "Zoom out").click()
    smaller = float(stage.get_attribute("data-scale"))
    button(mlp_page, "Zoom in").click()
    assert float(stage.get_attribute("data-scale")) > smaller
    button(mlp_page, "Fit").click()  # the whole picture in the stage
    svg = mlp_page.locator("#stage svg").bounding_box()
    assert svg["width"] <= box["width"] + 1 and svg["height"] <= box["height"] + 1
    assert svg["x"] >= box["x"] - 1 and svg["y"] >= box["y"] - 1


# --- practice mode, the node inspector, the nudges


def _to_step(tab: Any, t: Trace, index: int) -> None:
    tab.get_by_role("slider", name="Step").fill(str(len(t.values) + index))


def test_practice_accepts_a_right_answer_corrects_a_wrong_one_and_keeps_score(
        practice_page: Any, practice: Dict[str, Any]) -> None:
    t: Trace = practice["trace"]
    tab = practice_page
    answer = tab.get_by_role("textbox", name="Your answer")
    check = button(tab, "Check")
    score = tab.locator("#score")
    assert not answer.is_visible()  # the forward pass asks nothing
    _to_step(tab, t, 1)
    step = t.steps[0]
    assert answer.is_visible() and tab.text_content("#equation").endswith("= ?")
    assert tab.text_content("#step-contribution") == "?" and t.num(step.contribution) not in tab.text_content(
        f"#g_e{step.node_number}_{step.position}")
    assert tab.text_content(f'#grads tr[data-number="{step.input_number}"] td.grad') == "?"
    assert tab.text_content(f"#g_v{step.input_number}").strip().endswith("grad ?")  # the box keeps it secret too
    answer.fill(f"{step.contribution * 1.004:.6g}")  # within 1%
    check.click()
    assert tab.text_content(f"#g_v{step.input_number}").strip().endswith(f"grad {t.num(step.total)}")
    label = tab.text_content(f"#g_e{step.node_number}_{step.position}").strip()
    assert label.endswith(f"{t.num(step.local)} × {t.num(step.upstream)} = {t.num(step.contribution)}")
    assert tab.text_content("#feedback").startswith("Right!") and t.step_text(step) in tab.text_content("#feedback")
    assert (score.get_attribute("data-right"), score.get_attribute("data-answered")) == ("1", "1")
    assert tab.text_content("#step-contribution") == t.num(step.contribution)  # revealed
    assert not answer.is_visible()

    tab.keyboard.press("ArrowRight")
    wrong = t.steps[1]
    answer.fill(str(wrong.contribution + 1.0))
    answer.press("Enter")
    feedback = tab.text_content("#feedback")
    assert feedback.startswith("Not quite") and t.step_text(wrong) in feedback  # corrected with the right line
    assert (score.get_attribute("data-right"), score.get_attribute("data-answered")) == ("1", "2")
    assert "Score: 1 right of 2 answered" in tab.text_content("#score")

    tab.keyboard.press("ArrowRight")
    third = t.steps[2]
    answer.fill("not a number")
    check.click()
    assert "Type a number" in tab.text_content("#feedback") and score.get_attribute("data-answered") == "2"
    tab.get_by_role("checkbox", name="just its sign (+, - or 0)").check()  # a first pass: the sign only
    answer.fill("+" if third.contribution > 0 else "-" if third.contribution < 0 else "0")
    check.click()
    assert (score.get_attribute("data-right"), score.get_attribute("data-answered")) == ("2", "3")


def test_the_inspector_shows_a_gradient_as_its_chain_rule_sum(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    x = next(v for v in t.values if v.label == "x")
    uses = [s for s in t.steps if s.input is x]
    assert len(uses) == 2  # x feeds x*w and the final product
    page.keyboard.press("End")
    page.click(f"#g_v{t.number[x]}")
    body = page.locator("#inspect-body")
    items = body.locator("li")
    assert items.count() == 2
    for item, s in zip(items.all(), uses):
        assert item.text_content().startswith(f"∂{t.name(s.node)}/∂x" if s.node is not t.root else "x ×") \
            or f" = {t.num(s.contribution)}" in item.text_content()
        assert f"= {t.num(s.local)} × {t.num(s.upstream)} = {t.num(s.contribution)}" in item.text_content()
    total = body.locator(".sum-total")
    assert float(total.get_attribute("data-exact")) == x.grad  # the sum is backward()'s gradient
    assert "+=" in body.text_content()
    page.keyboard.press("Home")  # before backward reaches x, its terms wait
    assert body.locator("li.waiting").count() == 2 and "0 of 2 terms" in total.text_content()
    button(page, t.name(t.root)).click()  # a name in the table opens it too: the output is the seed
    assert "the output's gradient with respect to itself" in body.text_content()


def test_the_nudges_are_the_forward_pass_run_again(page: Any, saved: Dict[str, Any]) -> None:
    t: Trace = saved["trace"]
    rows = page.locator("#nudge tbody tr")
    grads = {v: t.grad_of(v) for v in t.values}
    expected = nudges(t.values, grads)
    assert rows.count() == len(expected) == 3
    for row, nudge in zip(rows.all(), expected):
        assert row.locator("td.change").text_content() == t.num(nudge.change)
        assert row.locator("td.predicted").text_content() == t.num(nudge.predicted)
        assert nudge.change is not None and math.isclose(nudge.change, nudge.predicted, rel_tol=0.01, abs_tol=1e-6)


@pytest.mark.parametrize("kind", ["step-through", "picture"])
def test_a_page_laid_out_after_its_script_ran_still_opens_readable(browser: Any, saved: Dict[str, Any],
                                                                  tmp_path: os.PathLike, kind: str) -> None:
    """A notebook's frame may run the page's script before the frame is laid out: the stage is then
    0 px wide. Once it has a size, the page chooses its view as if it had had it from the start."""
    if kind == "step-through":
        path = saved["path"]
    else:
        from tracegrad.viz import draw

        path = os.path.join(tmp_path, "picture.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(draw(graph()).notebook_page()[0])
    opened = _shown(browser, path, hidden=False)
    reference = opened.get_attribute("#stage", "data-scale")
    opened.context.close()
    late = _shown(browser, path, hidden=True)
    late.wait_for_function("want => document.getElementById('stage').getAttribute('data-scale') === want",
                           arg=reference, timeout=10_000)
    late.context.close()


def _shown(browser: Any, path: str, hidden: bool) -> Any:
    """The page opened and shown; with ``hidden``, its stage has no size until every script of the
    page has run, and then gets one without the window being resized."""
    _, tab, requests, problems = browsing.offline_tab(browser, "about:blank")
    if hidden:  # the stage is hidden the moment the parser makes it, before the page's script runs
        tab.add_init_script("new MutationObserver(() => { const s = document.getElementById('stage');"
                            " if (s && !s.dataset.held) { s.dataset.held = '1'; s.style.display = 'none'; } })"
                            ".observe(document, {childList: true, subtree: true});")
    tab.goto("file://" + path)
    if hidden:
        assert tab.get_attribute("#stage", "data-held") == "1" and tab.get_attribute("#stage", "data-scale") == "1"
    tab.evaluate("() => { document.getElementById('stage').style.display = ''; }")
    assert requests == [] and problems == [], (requests, problems)
    return tab
