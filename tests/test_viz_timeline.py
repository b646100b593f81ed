"""The step-through as data: each frame holds only what changes, and replaying the changes gives
every frame's whole picture, as worked out afresh from the frame's place in backprop."""

from __future__ import annotations

from typing import Dict

from hypothesis import given, settings

from tracegrad.engine import Value, value_sum
from tracegrad.testing import Expression, expressions
from tracegrad.viz.looks import ACTIVE_EDGE, CURRENT, DONE_EDGE, FINAL_FILL, FUTURE, RECEIVER, Look
from tracegrad.viz.steps import Trace, trace
from tracegrad.viz.timeline import _Picture, elements, timeline


def afresh(t: Trace, index: int) -> Dict[str, Look]:
    """Every element's look at frame ``index``, from that frame's state alone (nothing carried over)."""
    pic = _Picture(t)
    n = len(t.values)
    if index < n:
        pic.computed, pic.current = index + 1, t.values[index]
    else:
        pic.computed, pic.current = n, t.root
        pic.totals, pic.final = {t.root: t.gradient}, {t.root}
        for s in t.steps[: index - n]:
            edge = f"e{s.node_number}_{s.position}"
            pic.totals[s.input] = s.total
            if s.last:
                pic.final.add(s.input)
            pic.done.add(edge)
            pic.current, pic.receiver, pic.edge = s.node, s.input, edge
    return {element: pic.look(element) for element in elements(t)}


def _replays(t: Trace) -> None:
    moments = timeline(t)
    assert len(moments) == len(t.values) + 1 + len(t.steps)
    assert set(moments[0].changes) == set(elements(t))
    shown: Dict[str, Look] = {}
    for i, moment in enumerate(moments):
        shown.update(moment.changes)
        assert shown == afresh(t, i), f"frame {i}"
        if i:  # a frame changes the few elements around its step, never the whole picture
            arity = len(t.values[i].inputs) if i < len(t.values) else 0
            assert 0 < len(moment.changes) <= 8 + arity


@settings(max_examples=40)
@given(expressions(n_inputs=3, max_leaves=10))
def test_replaying_the_changes_gives_every_frame(e: Expression) -> None:
    root = e(*e.leaves())
    if isinstance(root, Value):
        _replays(trace(root, max_nodes=None))


def test_fan_in_and_fused_nodes() -> None:
    x, w = Value(0.5, label="x"), Value(-2.0, label="w")
    y = value_sum([x * w, x.tanh(), x, w - x])
    _replays(trace((y * x).exp()))


def test_the_colours_of_a_backward_step() -> None:
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    t = trace((x * w).tanh())
    moments = timeline(t)
    step = t.steps[0]  # backward step 1: tanh passes its gradient to x*w
    looks: Dict[str, Look] = {}
    for moment in moments[: len(t.values) + 2]:
        looks.update(moment.changes)
    assert f"v{step.node_number}" not in moments[len(t.values) + 1].changes  # current since the seed
    assert looks[f"v{step.node_number}"].get("color") == CURRENT
    assert looks[f"v{step.input_number}"].get("color") == RECEIVER
    assert looks[f"v{step.input_number}"].get("fillcolor") == FINAL_FILL
    edge = looks[f"e{step.node_number}_{step.position}"]
    assert edge.get("color") == ACTIVE_EDGE and edge.texts == (f"{t.num(step.local)} × 1 = {t.num(step.contribution)}",)
    later = moments[len(t.values) + 2].changes
    assert later[f"e{step.node_number}_{step.position}"].get("color") == DONE_EDGE
    assert moments[0].changes[f"v{t.number[t.root]}"].get("color") == FUTURE
    assert moments[0].changes[f"v{t.number[t.root]}"].texts == ("data ?", "grad ?")
