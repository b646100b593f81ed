"""A look painted as SVG attributes is what the renderer draws for it: the page restyles its one
drawing with these, so every frame it shows is the frame the renderer would have drawn."""

from __future__ import annotations

from typing import Dict, List

from tracegrad.engine import Value
from tracegrad.nn import MLP
from tracegrad.viz.looks import Look, svg_paint
from tracegrad.viz.steps import trace
from tracegrad.viz.timeline import timeline

from svg_parts import Part, groups


def graph() -> Value:
    """Module boxes, an ordered op (left / right labels) and an input used twice."""
    model = MLP(1, [2, 1], activation="tanh", rng=0)
    x = [Value(0.5, label="x0")]
    out = model(x) - x[0]
    out.label = "L"
    return out


def _which(kind: str, tag: str) -> str:
    """The part of a look an element of the group takes (as the page's script decides)."""
    if tag == "polygon" and kind in ("input", "result"):
        return "head"
    return {"polygon": "shape", "ellipse": "shape", "polyline": "line", "path": "path", "text": "text"}[tag]


def _check(element: str, look: Look, parts: List[Part]) -> None:
    paint = svg_paint(look)
    for tag, attrs, _ in parts:
        for name, value in paint[_which(look.kind, tag)].items():
            assert attrs.get(name) == value, (element, tag, name, attrs, look)
    texts = [text for tag, _, text in parts if tag == "text"]
    shown = [text for text in look.texts if text]  # the renderer writes no text for an empty label
    assert texts[len(texts) - len(shown):] == shown, (element, texts, look.texts)


def test_each_look_paints_what_the_renderer_draws(renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(graph())
    made = t.frames(renderer=renderer)
    looks: Dict[str, Look] = {}
    kinds = set()
    for moment, frame in zip(timeline(t), made):
        looks.update(moment.changes)
        drawn = groups(frame.svg)
        assert set(drawn) == set(looks)
        for element, parts in drawn.items():
            _check(element, looks[element], parts)
            kinds.add((looks[element].kind, looks[element].get("color")))
    assert {kind for kind, _ in kinds} == {"value", "op", "input", "result"}
    assert len(kinds) >= 10  # every colour of each kind of element was seen


def test_a_look_without_a_colour_is_drawn_in_black() -> None:
    paint = svg_paint(Look("result", ()))
    assert paint["path"]["stroke"] == paint["head"]["fill"] == "black" and paint["text"]["fill"] is None
