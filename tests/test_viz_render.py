"""Renderers: every one present is tested (CI has both the system dot and graphviz-pure)."""

from __future__ import annotations

import html
import importlib
import os
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.viz import labels
from tracegrad.viz.dot import draw
from tracegrad.viz.render import RendererNotFound, RenderError, available_renderers, find_renderer, render, save

import needs

render_module = importlib.import_module("tracegrad.viz.render")  # the package exports a function of that name
SVG = "{http://www.w3.org/2000/svg}"



def texts(svg: bytes) -> list:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    o = (x * w + b).tanh()
    o.backward()
    return o


def test_svg_shows_every_value(renderer: render_module.Renderer) -> None:
    svg = render(draw(neuron()), "svg", renderer=renderer)
    shown = texts(svg)
    assert {"x", "w", "b", "tanh", "*", "+"} <= set(shown)
    assert "grad 0.5" in shown and "data 0.7071" in shown


def test_png(renderer: render_module.Renderer) -> None:
    png = render(draw(neuron()), "png", renderer=renderer)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


HOSTILE = ['"', "{}", "<b>x</b>", "&amp;", "a\nb", "</script><script>alert(1)</script>", "\\N", "|x|", "\\", "&"]


def _unprintable(c: str) -> bool:
    return (ord(c) < 32 and c not in "\n\t") or ord(c) == 127 or c in "\ufffe\uffff"


@pytest.mark.needs("any_renderer")  # skips before hypothesis runs, not inside an example
@settings(max_examples=15)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20))
@example("".join(HOSTILE))
@example("&lt;")
@example("\r\n")  # a Windows line end is one line break (seed 16 of the dev profile found it)
def test_hostile_labels_are_shown_as_text(text: str) -> None:
    chosen = needs.any_renderer()
    x = Value(1.0, label=text)
    svg = render(draw(x * 2.0), "svg", renderer=chosen)
    root = ET.fromstring(svg)  # well-formed: nothing broke out of the text
    assert not list(root.iter(f"{SVG}script"))
    lines = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line ends, as one
    cleaned = "".join("\ufffd" if _unprintable(c) else c for c in lines)
    assert labels.shown(text) == labels.clip(cleaned, labels.MAX_NAME)  # shown clipped, whole in the tooltip
    shown = "".join("".join(texts(svg)).split())
    for line in labels.shown(text).split("\n"):
        assert "".join(line.split()) in shown  # Graphviz may collapse runs of spaces in records


@pytest.mark.parametrize("name", ["dot", "graphviz-pure"])
def test_the_hostile_labels_on_each_renderer(name: str) -> None:
    found = [needs.renderer(name)]
    for text in HOSTILE:
        svg = render(draw(Value(1.0, label=text) + 1.0), "svg", renderer=found[0])
        shown = texts(svg)
        assert text.split("\n")[0] in shown[0]


def test_layout_json(renderer: render_module.Renderer) -> None:
    laid = render_module.layout(draw(neuron()), renderer=renderer)
    names = {o["name"] for o in laid["objects"]}
    assert {"v1", "v2", "o3", "v6", "o6"} <= names and all("pos" in o for o in laid["objects"])


def test_save_writes_atomically(tmp_path: os.PathLike, renderer: render_module.Renderer) -> None:
    target = os.path.join(tmp_path, "graph.svg")
    assert save(draw(neuron()), target, renderer=renderer) == target
    ET.parse(target)
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        save(draw(neuron()), os.path.join(tmp_path, "graph.pdf"), renderer=renderer)
    dot_path = save(draw(neuron()), os.path.join(tmp_path, "graph.gv"))
    with open(dot_path, encoding="utf-8") as handle:
        assert handle.read().startswith("digraph")
    assert sorted(os.listdir(tmp_path)) == ["graph.gv", "graph.svg"]  # no temporary files left


def test_a_failed_render_leaves_the_old_file(tmp_path: os.PathLike, renderer: render_module.Renderer) -> None:
    target = os.path.join(tmp_path, "graph.svg")
    with open(target, "w", encoding="utf-8") as handle:
        handle.write("old")
    with pytest.raises(RenderError, match=renderer.name):
        save("digraph { a -> }", target, renderer=renderer)
    with open(target, encoding="utf-8") as handle:
        assert handle.read() == "old"
    assert os.listdir(tmp_path) == ["graph.svg"]


def test_no_renderer_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike) -> None:
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(render_module.sys, "executable", os.path.join(tmp_path, "python"))
    assert available_renderers() == []
    with pytest.raises(RendererNotFound, match=r"apt install graphviz.*pip install tracegrad\[viz\].*\.source"):
        find_renderer()
    assert "digraph" in draw(neuron()).source  # the DOT text needs no renderer


def test_asking_for_a_missing_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_module, "available_renderers", lambda: [])
    with pytest.raises(RendererNotFound, match="'graphviz-pure' is not available"):
        find_renderer("graphviz-pure")


def test_graphviz_pure_is_found_beside_the_interpreter(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike) -> None:
    fake = os.path.join(tmp_path, "graphviz-pure")
    with open(fake, "w", encoding="utf-8") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(fake, 0o755)
    monkeypatch.setattr(render_module.shutil, "which", lambda name: None)
    monkeypatch.setattr(render_module.sys, "executable", os.path.join(tmp_path, "python"))
    assert find_renderer().name == "graphviz-pure"


def test_jupyter_and_pipe_use_whichever_renderer_is_present(monkeypatch: pytest.MonkeyPatch,
                                                            renderer: render_module.Renderer) -> None:
    monkeypatch.setattr(render_module, "available_renderers", lambda: [renderer])
    graph = draw(neuron())
    bundle = graph._repr_mimebundle_()  # a notebook shows the picture in a page that pans and zooms
    assert set(bundle) == {"text/html", "text/plain"} and bundle["text/html"].startswith("<iframe srcdoc=")
    svg = html.unescape(bundle["text/html"]).split("<main", 1)[1].split(">", 1)[1].rsplit("</main>", 1)[0]
    ET.fromstring(svg.encode("utf-8"))
    assert graph.pipe(format="png").startswith(b"\x89PNG")


@pytest.mark.parametrize("label", ["a\ud800b", "\udfff", "L" * 100_000, "é" * 50 + "\ud800", "x\x00y" * 3000])
def test_any_label_renders_clipped_with_the_full_text_as_a_tooltip(label: str, tmp_path: Any) -> None:
    """A lone surrogate made the page raise UnicodeEncodeError; 100 KB hit Graphviz's string limit."""
    from tracegrad.viz import trace

    renderer = needs.any_renderer()
    x = Value(2.0, label=label)
    y = (x * 3.0).tanh()
    source = draw(y).source
    assert len(source) < 16_384 and "\ud800" not in source and "\udfff" not in source
    ET.fromstring(render(source, "svg", renderer=renderer).decode("utf-8"))
    shown = labels.shown(label)
    assert len(shown) <= labels.MAX_NAME
    if len(label) > labels.MAX_NAME:
        assert f'tooltip="{labels.plain(label)}"' in source  # the full text, as much as fits
    t = trace(y)
    path = t.save_html(os.path.join(tmp_path, "page.html"), renderer=renderer)
    with open(path, encoding="utf-8") as handle:  # valid UTF-8 throughout
        page = handle.read()
    assert shown.replace("\x00", "")[:10] in page or "\ufffd" in page
    assert shown in t.table()
    t.save_frames(os.path.join(tmp_path, "frames"), renderer=renderer)
