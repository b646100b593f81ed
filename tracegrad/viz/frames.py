"""Every step of a :class:`~tracegrad.viz.steps.Trace` drawn on one layout.

The graph is laid out once by dot, with every box holding its final text; each frame is then
the same graph with those positions pinned (``neato -n2``), so nodes never move between frames.
Only colours and texts change: the node being processed is orange, the input receiving a
gradient blue, the edge of the current step red with ``local × upstream = contribution``;
gradients still being summed are yellow, finished ones green, unknown ones show ``?``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Union

from ..engine import Value
from ..files import staged_folder, write_atomic
from . import labels
from .dot import COMMUTATIVE, Node, Picture, clusters, lift_outputs, picture, short_name
from .render import Renderer, find_renderer
from .steps import StepRecord, Trace

FUTURE = "#b7b7b7"
CURRENT = "#e69138"
RECEIVER = "#3d85c6"
PARTIAL_FILL = "#fff2cc"
FINAL_FILL = "#d9ead3"
ACTIVE_EDGE = "#cc0000"
DONE_EDGE = "#6aa84f"


@dataclass
class Frame:
    """One picture of the step-through.

    Attributes:
        index: 0 for the first frame.
        kind: ``"forward"``, ``"seed"`` or ``"backward"``.
        title: ``"Forward 3 / 10"``, ``"Backward step 2 / 9"``.
        text: the step as an equation (``∂L/∂x += ∂n/∂x × ∂L/∂n = 0.5 × 1 = 0.5``).
        words: the same in a sentence.
        step: the backward step shown, if any.
        source: the frame's DOT text (positions pinned).
        svg: the rendered SVG (filled in by :func:`frames`).
        grads: each Value's gradient as known at this frame, by topological number.
    """

    index: int
    kind: str
    title: str
    text: str
    words: str
    step: Optional[StepRecord]
    source: str = ""
    svg: str = ""
    grads: Dict[int, float] = field(default_factory=dict)


@dataclass
class _State:
    computed: int  # how many Values (in topological order) have their data
    current: Optional[Value] = None
    receiver: Optional[Value] = None
    edge: Optional[str] = None
    totals: Dict[Value, float] = field(default_factory=dict)
    final: Set[Value] = field(default_factory=set)
    done_edges: Set[str] = field(default_factory=set)


FONT_SIZES = (12, 11, 11)
"""Point sizes of the frames' node, edge and box-title text: 16, 14.7 and 14.7 CSS px at full size,
so the page may zoom out to 0.8 and still show text of 12 px."""


def _edge_text(t: Trace, step: StepRecord) -> str:
    return f"{t.num(step.local)} × {t.num(step.upstream)} = {t.num(step.contribution)}"


def operand(node: Value, position: int) -> str:
    """``left`` / ``right`` for the inputs of an op where order matters (``a - b``), else ''."""
    op = node.op
    if op is None or op.name in COMMUTATIVE or len(node.inputs) != 2:
        return ""
    return ("left", "right")[position]


def boxes(t: Trace) -> Dict[Value, Optional[str]]:
    """The module box each Value is drawn in (a model's layers and neurons, from dotted labels)."""
    return lift_outputs(t.values, clusters(t.values, {}))


def _box(t: Trace, v: Value, data: bool, grad: Optional[float], box: Optional[str] = None) -> List[str]:
    title = f"#{t.number[v]} {short_name(t.name(v), box)}"
    return [title, f"data {t.num(v.data)}" if data else "data ?", "grad ?" if grad is None else f"grad {t.num(grad)}"]


def _states(t: Trace) -> List[tuple]:  # type: ignore[type-arg]
    """(kind, title, text, words, step, state) for every frame, in order."""
    out: List[tuple] = []  # type: ignore[type-arg]
    n = len(t.values)
    for k, record in enumerate(t.forward, start=1):
        words = ("a leaf: a number you gave" if record.node.op is None
                 else "computed from its inputs, which are all known by now (topological order)")
        out.append(("forward", f"Forward {k} / {n}", t.forward_text(record), f"#{k} {t.name(record.node)} is {words}.",
                    None, _State(k, current=record.node)))
    state = _State(n, current=t.root, totals={t.root: t.gradient}, final={t.root})
    out.append(("seed", "Backward: the seed", t.seed_text(),
                f"Backprop starts at {t.name(t.root)} with gradient {t.num(t.gradient)}; nodes are then processed "
                "in reverse topological order, so a node's gradient is complete before it is passed on.", None, state))
    for step in t.steps:
        state = copy.copy(state)
        state.totals = {**state.totals, step.input: step.total}
        state.final = state.final | ({step.input} if step.last else set())
        edge = f"e{step.node_number}_{step.position}"
        state.done_edges = state.done_edges | {edge}
        state.current, state.receiver, state.edge = step.node, step.input, edge
        out.append(("backward", f"Backward step {step.index} / {len(t.steps)}", t.step_text(step),
                    t.step_words(step), step, state))
    return out


def _layout_picture(t: Trace, where: Dict[Value, Optional[str]]) -> Picture:
    pic = picture(t.root, max_nodes=None, cluster=True, precision=t.precision, stacked=True,
                  fields=lambda v, n: _box(t, v, True, t.grad_of(v), where.get(v)))
    pic.fontsizes = FONT_SIZES
    pic.graph_attrs.update(ranksep="0.3", nodesep="0.15", forcelabels="true")
    texts = {f"e{s.node_number}_{s.position}": _edge_text(t, s) for s in t.steps}
    for edge in pic.edges:
        edge.attrs.pop("label", None)  # the op's own input names: the frames say left / right instead
        if edge.id in texts:
            edge.attrs["xlabel"] = labels.plain(texts[edge.id])  # placed after the layout: ranks stay close
    return pic


def _pin(pic: Picture, laid: Dict[str, Any]) -> Picture:
    """A copy of ``pic`` with every node and edge at the place ``laid`` (dot's -Tjson) gives it."""
    pinned = pic.copy()
    where = {o["name"]: o for o in laid.get("objects", []) if "pos" in o}
    routes = {e.get("id"): e for e in laid.get("edges", [])}
    for node in pinned.nodes:
        o = where[node.id]
        node.attrs.update(pos=o["pos"], width=str(o["width"]), height=str(o["height"]), fixedsize="true")
    for edge in pinned.edges:
        e = routes.get(edge.id, {})
        if "pos" in e:
            edge.attrs["pos"] = e["pos"]
        if "xlabel" in edge.attrs:  # laid out as an external label, pinned as a plain one where dot put it
            edge.attrs["label"] = edge.attrs.pop("xlabel")
            if "xlp" in e:
                edge.attrs["lp"] = e["xlp"]
        elif "lp" in e:
            edge.attrs["lp"] = e["lp"]
    pinned.cluster_attrs = {o["name"]: {"bb": o["bb"], **({"lp": o["lp"]} if "lp" in o else {})}
                            for o in laid.get("objects", []) if str(o.get("name", "")).startswith("cluster_")}
    pinned.graph_attrs = {**pinned.graph_attrs, "bb": laid["bb"], "splines": "true", "outputorder": "edgesfirst"}
    # two invisible corners around the picture: a frame whose label reaches past the boxes then
    # never grows (the renderer would shift every node of that frame)
    x0, y0, x1, y1 = (float(c) for c in laid["bb"].split(","))
    reach = max((len(str(e.attrs.get("label", ""))) * FONT_SIZES[1] * 0.3 for e in pinned.edges), default=0.0)
    for name, x, y in (("corner0", x0 - reach, y0 - 20), ("corner1", x1 + reach, y1 + 20)):
        pinned.nodes.append(Node(name, {"shape": "point", "style": "invis", "width": "0", "height": "0",
                                        "pos": f"{x:.2f},{y:.2f}"}))
    return pinned


def _styled(t: Trace, pinned: Picture, state: _State, edge_texts: Dict[str, str],
            where: Dict[Value, Optional[str]]) -> Picture:
    pic = pinned.copy()
    by_id = {f"v{t.number[v]}": v for v in t.values}
    by_op = {f"o{t.number[v]}": v for v in t.values if v.op is not None}
    for node in pic.nodes:
        v = by_id.get(node.id)
        if v is not None:
            known = t.number[v] <= state.computed
            fields = _box(t, v, known, state.totals.get(v), where.get(v))
            node.attrs["label"] = labels.record(*(labels.record_field(f) for f in fields), stacked=True)
            node.attrs.pop("fillcolor", None)
            node.attrs["style"] = "filled" if known else "filled,dashed"
            fill = FINAL_FILL if v in state.final else PARTIAL_FILL if v in state.totals else "white"
            node.attrs["fillcolor"] = fill
            node.attrs["color"] = "black" if known else FUTURE
            node.attrs["fontcolor"] = "black" if known else FUTURE
            if v is state.current:
                node.attrs.update(color=CURRENT, penwidth="3")
            elif v is state.receiver:
                node.attrs.update(color=RECEIVER, penwidth="3")
            continue
        if node.id not in by_op:  # the layout's invisible corners
            continue
        v = by_op[node.id]
        known = t.number[v] <= state.computed
        node.attrs["color"] = "black" if known else FUTURE
        node.attrs["fontcolor"] = "black" if known else FUTURE
        if v is state.current and state.receiver is not None:
            node.attrs.update(fillcolor=CURRENT)
    for edge in pic.edges:
        head = by_op.get(edge.head) or by_id[edge.head]
        known = t.number[head] <= state.computed
        edge.attrs["color"] = "black" if known else FUTURE
        if edge.id in edge_texts:
            if edge.id == state.edge:
                edge.attrs.update(color=ACTIVE_EDGE, fontcolor=ACTIVE_EDGE, penwidth="2.5",
                                  label=labels.plain(edge_texts[edge.id]))
            elif edge.id in state.done_edges:
                edge.attrs.update(color=DONE_EDGE, label="")  # its numbers are in the boxes now
            else:
                edge.attrs["label"] = labels.plain(operand(head, int(edge.id.rsplit("_", 1)[1])))
                edge.attrs["fontcolor"] = FUTURE
    return pic


def frames(t: Trace, *, renderer: Union[Renderer, str, None] = None, render: bool = True) -> List[Frame]:
    """Every frame of the step-through: the forward pass, the seed, then each backward step.

    The layout is computed once; each frame pins it. With ``render=False`` only the DOT sources
    are made (no SVG), which needs no renderer beyond the one layout call.

    Raises:
        RendererNotFound: no Graphviz renderer (the text table, :func:`~tracegrad.viz.steps.explain`, needs none).
    """
    chosen = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
    where = boxes(t)
    base = _layout_picture(t, where)
    laid = json.loads(chosen.run(base.source(), "json").decode("utf-8"))
    pinned = _pin(base, laid)
    edge_texts = {f"e{s.node_number}_{s.position}": _edge_text(t, s) for s in t.steps}
    result: List[Frame] = []
    for i, (kind, title, text, words, step, state) in enumerate(_states(t)):
        pic = _styled(t, pinned, state, edge_texts, where)
        pic.id_prefix = f"f{i}_"
        grads = {t.number[v]: g for v, g in state.totals.items()}
        result.append(Frame(i, kind, title, text, words, step, pic.source("backprop"), grads=grads))
    if render and result:
        svgs = split_svgs(chosen.run("".join(f.source for f in result), "svg", engine="neato", args=["-n2"]))
        if len(svgs) != len(result):
            raise RuntimeError(f"frames: {chosen.name} returned {len(svgs)} pictures for {len(result)} frames")
        for frame, svg in zip(result, svgs):
            frame.svg = svg
    return result


def split_svgs(output: bytes) -> List[str]:
    """The SVG documents in one renderer output holding several (one per graph)."""
    text = output.decode("utf-8")
    parts = re.split(r"(?=<\?xml )", text)
    return [p for p in parts if p.strip()]


def save_frames(
    t: Trace, folder: Any, format: str = "svg", *, renderer: Union[Renderer, str, None] = None
) -> List[str]:
    """Write one picture per frame (``frame-001.svg``, ...) into ``folder``; returns the paths.

    The set appears all at once or not at all: the frames are written into a temporary folder
    and moved into place only when every one is made (see :func:`tracegrad.files.staged_folder`).
    Frames of this format from an earlier, longer trace in that folder are removed; other files
    are left alone.

    Raises:
        ValueError: a format other than ``"svg"`` or ``"png"``.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"save_frames: format must be 'svg' or 'png', got {format!r}")
    chosen = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
    made = frames(t, renderer=chosen, render=format == "svg")
    folder = os.fspath(folder)
    names = [f"frame-{frame.index + 1:03d}.{format}" for frame in made]
    ours = re.compile(rf"frame-\d{{3,}}\.{format}")
    with staged_folder(folder, stale=lambda name: ours.fullmatch(name) is not None) as stage:
        for frame, name in zip(made, names):
            data: Union[str, bytes] = frame.svg
            if format == "png":
                data = chosen.run(frame.source, "png", engine="neato", args=["-n2"])
            write_atomic(os.path.join(stage, name), data)
    return [os.path.join(folder, name) for name in names]
