"""The step-through of one attention head (demos/attention_head.py), driven in headless Chromium."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from tracegrad.viz.render import available_renderers

import browsing

pytestmark = pytest.mark.browser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "demos"))


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not available_renderers():
        pytest.skip("no Graphviz renderer: install Graphviz, or `pip install tracegrad[viz]` for graphviz-pure")
    import attention_head

    outcome = attention_head.main(str(tmp_path_factory.mktemp("attention")), quiet=True)
    outcome.out.backward()
    return outcome


@pytest.fixture(scope="module")
def tab(head: Any) -> Iterator[Any]:
    for browser in browsing.launch():
        context, page, requests, problems = browsing.offline_tab(browser, "file://" + os.path.abspath(head.page))
        page.wait_for_selector("#equation")
        yield page
        assert requests == [] and problems == [], (requests, problems)
        context.close()


def show(tab: Any, frame: int) -> str:
    tab.get_by_role("slider", name="Step").fill(str(frame))
    return str(tab.text_content("#equation"))


def test_the_softmax_reads_in_the_heads_own_names(tab: Any, head: Any) -> None:
    t = head.trace
    lines = {show(tab, i) for i in range(len(t.values))}
    assert "m = max(score1, score2, score3) = max(0.5, 2, -1) = 2" in lines
    assert "d2 = score2 - m = 2 - 2 = 0" in lines
    assert "e2 = exp(d2) = exp(0) = 1" in lines
    assert "weight2 = e2/total = 1/1.273 = 0.7856" in lines
    assert "out = wv1 + wv2 + wv3 = 0.1753 + (-1.571) + 0.1173 = -1.279" in lines


def test_the_shift_passes_nothing_back_and_every_gradient_is_the_engines(tab: Any, head: Any) -> None:
    t = head.trace
    first = len(t.values) + 1
    into_scores = [s for s in t.steps if s.node is head.names["m"]]
    assert len(into_scores) == 3 and all(s.local == 0 for s in into_scores)
    for step in into_scores:
        assert show(tab, first + step.index - 1) == t.step_text(step)
        assert "∂m/∂score" in t.step_text(step)
    tab.keyboard.press("End")
    for name in ("q", "k1", "k2", "k3", "v1", "v2", "v3"):
        v = head.names[name]
        cell = f'#grads tr[data-number="{t.number[v]}"] td.grad'
        assert float(tab.get_attribute(cell, "data-exact")) == v.grad
