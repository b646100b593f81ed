"""The trace: its numbers are the engine's own, its words say them, and its frames never move nodes."""

from __future__ import annotations

import io
import math
import os
import re
import sys
import xml.etree.ElementTree as ET
from typing import Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracegrad.engine import Value, linear, topological_order, value_sum
from tracegrad.engine.ops import OPS
from tracegrad.testing import Expression, expressions
from tracegrad.viz.render import available_renderers
from tracegrad.viz.steps import explain, trace

import needs


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    xw = x * w
    xw.label = "xw"
    n = xw + b
    n.label = "n"
    o = n.tanh()
    o.label = "L"
    return o


@given(expressions(n_inputs=3, max_leaves=10))
def test_the_trace_holds_the_engines_numbers(e: Expression) -> None:
    leaves = e.leaves()
    root = e(*leaves)
    t = trace(root, max_nodes=None)
    root.backward()
    for v in topological_order(root):
        assert t.grad_of(v) == v.grad  # the same floats, not just close ones
    for s in t.steps:
        assert s.contribution == s.local * s.upstream
    assert [s.index for s in t.steps] == list(range(1, len(t.steps) + 1))


@settings(max_examples=40)
@given(expressions(n_inputs=2, max_leaves=8))
def test_the_trace_agrees_with_numerical_differentiation(e: Expression) -> None:
    leaves = e.leaves()
    t = trace(e(*leaves), max_nodes=None)
    for i, leaf in enumerate(leaves):
        h = 1e-6 * max(1.0, abs(e.inputs[i]))
        up = list(e.inputs)
        down = list(e.inputs)
        up[i] += h
        down[i] -= h
        numeric = (e(*up) - e(*down)) / (2 * h)
        assert math.isclose(t.grad_of(leaf), numeric, rel_tol=1e-4, abs_tol=1e-4)


def test_the_worked_neuron_agrees_with_pytorch() -> None:
    torch = needs.torch()
    t = trace(neuron())
    x, w, b = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (2.0, -3.0, 6.8813735870195432))
    torch.tanh(x * w + b).backward()
    leaves = {v.label: t.grad_of(v) for v in t.values if v.op is None}
    assert leaves == pytest.approx({"x": x.grad.item(), "w": w.grad.item(), "b": b.grad.item()}, rel=1e-12)


def test_fan_in_sums_are_shown_as_they_accumulate() -> None:
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    t = trace(y)
    first, second = t.steps
    assert (first.first, first.last, second.first, second.last) == (True, False, False, True)
    assert (first.total, second.total) == (3.0, 6.0)
    assert t.step_text(second) == "∂y/∂x += x × ∂y/∂y = x × 1 = 3 × 1 = 3; running total ∂y/∂x = 6"
    assert "more than once" in t.step_words(second)


def test_the_worked_neuron_in_words() -> None:
    t = trace(neuron())
    # the output's own step: its local derivative times the seed, not the circular ∂L/∂n × ∂L/∂L
    assert t.step_text(t.steps[0]) == "∂L/∂n += (1 - L²) × ∂L/∂L = (1 - L²) × 1 = 0.5 × 1 = 0.5"
    assert OPS["tanh"].formulas[0] == "1 - out**2" and t.steps[0].formula == "1 - L²"  # the user's names
    assert t.steps[0].formula_numbers == "1 - 0.7071²"
    assert t.forward_text(t.forward[2]) == "xw = x*w = 2*(-3) = -6"
    assert t.seed_text() == "∂L/∂L = 1: the output's gradient with respect to itself"
    assert t.step_text(t.steps[1]) == "∂L/∂xw += ∂n/∂xw × ∂L/∂n = 1 × 0.5 = 0.5"  # no "= 1 = 1"
    assert t.step_text(t.steps[-1]) == "∂L/∂w += ∂xw/∂w × ∂L/∂xw = x × 0.5 = 2 × 0.5 = 1"
    words = t.step_words(t.steps[-1])
    assert "∂xw/∂w = x = 2" in words and "upstream gradient ∂L/∂xw = 0.5" in words
    assert "= 1 = 1" not in t.step_words(t.steps[1])


def test_the_issues_example_reads_as_on_the_board() -> None:
    p, q, r = Value(2.0, label="p"), Value(-3.0, label="q"), Value(6.8813735870195432, label="r")
    o = (p * q + r).tanh()
    o.label = "o"
    t = trace(o)
    assert [t.name(v) for v in t.values] == ["p", "q", "p*q", "r", "p*q + r", "o"]
    assert [s.formula for s in t.steps] == ["1 - o²", "1", "1", "q", "p"]
    assert t.step_text(t.steps[3]) == "∂o/∂p += ∂(p*q)/∂p × ∂o/∂(p*q) = q × 0.5 = -3 × 0.5 = -1.5"
    assert t.seed_text() == "∂o/∂o = 1: the output's gradient with respect to itself"


def test_unnamed_values_get_one_short_name() -> None:
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    long = a * b + a.exp() - b / (a + 2.0)
    t = trace(long * long)
    number = t.number[long]
    assert t.name(long) == f"v{number}"  # its expression is too long to be its name
    assert t.name(t.root) == "L"
    twin = Value(1.0, label=f"v{number}")  # a label that is a made-up name pushes that name aside
    t2 = trace(long * twin)
    assert t2.name(long) == f"v{number}′" and t2.name(twin) == f"v{number}"
    two = Value(2.0)
    assert trace(a * two).name(two) == "2"  # a constant is its number


def test_formulas_of_fused_ops() -> None:
    w = [Value(1.0, label="u"), Value(2.0, label="v")]
    x, b = [Value(3.0, label="p"), Value(4.0, label="q")], Value(0.5, label="c")
    t = trace(linear(w, x, b))
    assert [s.formula for s in t.steps] == ["p", "q", "u", "v", "1"]  # ∂/∂w_i is x_i, ∂/∂x_i is w_i
    assert {s.formula for s in trace(value_sum([Value(1.0), Value(2.0), Value(3.0)])).steps} == {"1"}


def test_an_unlabelled_root_is_called_L() -> None:
    x = Value(1.0)
    t = trace(x * 2.0)
    assert t.name(t.root) == "L" and t.name(x) == "1"


def test_a_leaf_root_has_no_steps() -> None:
    x = Value(2.0, label="x")
    t = trace(x)
    assert t.steps == [] and t.grad_of(x) == 1.0


def test_explain_needs_no_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    out = io.StringIO()
    explain(neuron(), file=out)
    text = out.getvalue()
    assert "forward pass" in text and "backward pass" in text
    assert "∂L/∂x = -1.5" in text and "∂L/∂w = 1" in text and "∂L/∂b = 0.5" in text
    assert "1 - L²" in text and not re.search(r"\bout\b", text)


def test_trace_refuses_what_is_not_a_value() -> None:
    with pytest.raises(TypeError, match="trace: root must be a Value"):
        trace(1.0)  # type: ignore[arg-type]


# --- frames: one layout, every frame



SVG = "{http://www.w3.org/2000/svg}"


def shapes(svg: str) -> Dict[str, str]:
    """Each node's outline (its first polygon or ellipse), by node name."""
    root = ET.fromstring(svg)
    found = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        title = g.find(f"{SVG}title")
        outline = g.find(f"{SVG}polygon")
        if outline is None:
            outline = g.find(f"{SVG}ellipse")
        assert title is not None and outline is not None
        found[title.text or ""] = " ".join(f"{k}={outline.get(k)}" for k in ("points", "cx", "cy", "rx", "ry"))
    return found


def fan_in_graph() -> Value:
    a, b = Value(0.7, label="a"), Value(-1.2, label="b")
    c = a * b + a.exp()
    d = (c * a - b / (a + 2.0)).tanh()
    d.label = "d"
    return d


def test_nodes_never_move_between_frames(renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(fan_in_graph())
    made = t.frames(renderer=renderer)
    assert len(made) == len(t.values) + 1 + len(t.steps)
    first = shapes(made[0].svg)
    assert len(first) == len(t.values) + sum(1 for v in t.values if v.op is not None)
    for frame in made[1:]:
        assert shapes(frame.svg) == first


@pytest.mark.needs("any_renderer")  # skips before hypothesis runs, not inside an example
@settings(max_examples=5)
@given(expressions(n_inputs=2, max_leaves=6))
def test_nodes_never_move_on_generated_graphs(e: Expression) -> None:
    needs.any_renderer()
    for found in available_renderers():
        made = trace(e(*e.leaves()), max_nodes=None).frames(renderer=found)
        first = shapes(made[0].svg)
        assert all(shapes(f.svg) == first for f in made[1:])


def test_frames_highlight_the_step(renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(neuron())
    made = t.frames(renderer=renderer)
    step_frame = next(f for f in made if f.step is not None and f.step.index == 1)
    svg = step_frame.svg
    current = re.search(r'<g id="f\d+_e6_0" class="edge">.*?</g>', svg, re.DOTALL)
    assert current is not None and "#cc0000" in current.group(0) and "0.5 × 1 = 0.5" in current.group(0)
    assert step_frame.grads == {6: 1.0, 5: t.steps[0].total}
    assert "grad ?" in svg  # gradients not reached yet
    assert made[0].kind == "forward" and "data ?" in made[0].svg
    assert made[-1].grads[1] == t.grad_of(t.values[0]) == pytest.approx(-1.5)
    ET.fromstring(made[-1].svg)


def test_save_frames(tmp_path: os.PathLike, renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(neuron())
    svgs = t.save_frames(os.path.join(tmp_path, "svg"), renderer=renderer)
    assert len(svgs) == len(t.values) + 1 + len(t.steps)
    assert [os.path.basename(p) for p in svgs[:2]] == ["frame-001.svg", "frame-002.svg"]
    pngs: List[str] = t.save_frames(os.path.join(tmp_path, "png"), "png", renderer=renderer)
    with open(pngs[-1], "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(os.path.join(tmp_path, "png"))) == sorted(os.path.basename(p) for p in pngs)
    with pytest.raises(ValueError, match="format must be 'svg' or 'png'"):
        t.save_frames(tmp_path, "gif", renderer=renderer)


@pytest.mark.needs("any_renderer")  # skips before hypothesis runs, not inside an example
@given(st.text(max_size=12))
@settings(max_examples=10)
def test_frames_of_any_label_are_well_formed(label: str) -> None:
    needs.any_renderer()
    x = Value(1.5, label=label)
    made = trace((x * x).tanh()).frames()
    for frame in made:
        ET.fromstring(frame.svg)


def test_a_failed_set_of_frames_leaves_none_behind(tmp_path: os.PathLike, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    from tracegrad.viz import frames as frames_module

    renderer = needs.any_renderer()
    t = trace((Value(2.0, label="x") * Value(-3.0, label="w")).tanh())
    real_write = frames_module.write_atomic
    written: List[str] = []

    def fills_the_disk(path: str, data: object) -> str:
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(path)
        return real_write(path, data)  # type: ignore[arg-type]

    monkeypatch.setattr(frames_module, "write_atomic", fills_the_disk)
    folder = os.path.join(tmp_path, "frames")
    with pytest.raises(OSError, match="No space left on device") as caught:
        t.save_frames(folder, renderer=renderer)
    assert caught.value.filename == folder  # the user's folder, not a temporary one
    assert os.listdir(tmp_path) == []  # no frames, no temporary folder
    monkeypatch.undo()
    first = t.save_frames(folder, renderer=renderer)
    written.clear()
    monkeypatch.setattr(frames_module, "write_atomic", fills_the_disk)
    with pytest.raises(OSError):
        t.save_frames(folder, renderer=renderer)
    assert sorted(os.listdir(folder)) == sorted(os.path.basename(p) for p in first)  # the earlier set, whole
