"""The step-through page as text: self-contained, offline, its numbers the engine's, labels inert."""

from __future__ import annotations

import json
import os
from typing import Any, Dict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.viz import labels
from tracegrad.viz.page_data import page_data, script_json
from tracegrad.viz.steps import trace
from tracegrad.viz.timeline import timeline
from tracegrad.viz.viewer import inline_svg

import needs
import page_parts
from page_parts import Tags

HOSTILE = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=1">&amp;{}|"\n\\N'



def graph() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label=HOSTILE), Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh() * x
    o.label = "L"
    return o


def embedded(page: str) -> Dict[str, Any]:
    return page_parts.embedded(page, "trace-data")


def test_the_page_is_one_offline_file(tmp_path: os.PathLike, renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(graph())
    path = t.save_html(os.path.join(tmp_path, "trace.html"), renderer=renderer)
    assert os.listdir(tmp_path) == ["trace.html"]
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    tags = Tags(page).tags
    assert sum(1 for tag, _ in tags if tag == "svg") == 1  # one picture, restyled frame by frame
    assert len(embedded(page)["frames"]) == len(t.values) + 1 + len(t.steps)
    assert "default-src 'none'" in page  # the browser refuses any request the page might make
    fetching = {"link", "iframe", "object", "embed", "img", "image", "use", "audio", "video", "source", "base"}
    assert not [tag for tag, _ in tags if tag in fetching]
    for tag, attrs in tags:
        assert not {"src", "href", "xlink:href", "srcset", "action"} & set(attrs), (tag, attrs)
        assert "url(" not in attrs.get("style", "")
    assert "url(" not in page


def test_a_hostile_label_stays_text(tmp_path: os.PathLike, renderer) -> None:  # type: ignore[no-untyped-def]
    path = trace(graph()).save_html(os.path.join(tmp_path, "trace.html"), renderer=renderer)
    with open(path, encoding="utf-8") as handle:
        page = handle.read()
    tags = Tags(page).tags
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "trace-data"}, {}]  # the data and our script only
    assert not [tag for tag, _ in tags if tag == "img"]
    for _, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")]
    data = embedded(page)
    assert any(labels.shown(HOSTILE).split("\n")[0] in frame["text"] for frame in data["frames"])  # clipped


def test_the_numbers_are_the_engines(tmp_path: os.PathLike, renderer) -> None:  # type: ignore[no-untyped-def]
    root = graph()
    t = trace(root)
    path = t.save_html(os.path.join(tmp_path, "trace.html"), renderer=renderer)
    with open(path, encoding="utf-8") as handle:
        data = embedded(handle.read())
    steps = [f["step"] for f in data["frames"] if f["step"] is not None]
    assert [(s["local"], s["upstream"], s["contribution"], s["total"]) for s in steps] == [
        (s.local, s.upstream, s.contribution, s.total) for s in t.steps
    ]
    root.backward()
    final: Dict[str, Any] = {}
    for frame in data["frames"]:  # each frame holds the gradients that change
        final.update(frame["grads"])
    for v in t.values:
        assert final[str(t.number[v])] == v.grad


@given(st.text(max_size=30))
def test_script_json_cannot_end_the_script(text: str) -> None:
    out = script_json({"t": text})
    assert "<" not in out and ">" not in out and "&" not in out and "\u2028" not in out
    assert json.loads(out) == {"t": text}


def test_inline_svg_drops_the_prolog() -> None:
    svg = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n "x.dtd">\n'
           '<!-- c -->\n<svg a="1"><!-- n --><g/></svg>\n')
    assert inline_svg(svg) == '<svg a="1"><g/></svg>'


def test_non_finite_numbers_survive_json() -> None:
    x = Value(1e200, label="x")
    t = trace((x * x) * 2.0)  # x * x overflows to inf, so the local derivative of the 2.0 is inf
    text = script_json(page_data(t, timeline(t)))
    data = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON a browser reads"))
    assert any(f["step"] and f["step"]["total"] == "inf" for f in data["frames"])


def test_the_demo_writes_the_neuron_page_and_the_clustered_mlp(tmp_path: os.PathLike, capsys: Any) -> None:
    needs.any_renderer()
    import importlib.util

    where = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos", "pictures.py")
    spec = importlib.util.spec_from_file_location("pictures_demo", where)
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    page_path, svg_path, practice_path = demo.main(str(tmp_path))
    printed = capsys.readouterr().out
    assert page_path in printed or os.path.abspath(page_path) in printed
    assert "practise backprop" in printed and "file://" in printed  # how to open the practice page
    with open(practice_path, encoding="utf-8") as handle:
        assert embedded(handle.read())["practice"] is True
    with open(page_path, encoding="utf-8") as handle:
        assert len(embedded(handle.read())["frames"]) == 10 + 1 + 9  # the worked neuron: 10 values, 9 steps
    with open(svg_path, encoding="utf-8") as handle:
        svg = handle.read()
    assert svg.count('class="cluster"') == 3 + 4 + 4 + 1  # a box per layer and per neuron
