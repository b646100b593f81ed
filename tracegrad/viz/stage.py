"""The step-through's picture: the graph laid out once, and drawn once for the page.

dot lays the graph out with every box holding its final text; the positions are then pinned
(``neato -n2``), so whatever a frame changes — colours, a box's numbers, an edge's label — no
node ever moves. The page holds one drawing of that layout (:func:`stage`) and its script
restyles it frame by frame; the frames for slides draw each frame on the same layout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple, Union

from ..engine import Value
from . import labels
from .detour import LANE_GAP, detours, route
from .dot import Edge, Node, Picture, clusters, lift_outputs, picture, short_name
from .looks import ACTIVE_PEN, Look, dot_attrs
from .render import Renderer
from .steps import Trace
from .timeline import edge_text
from .viewer import inline_svg

FONT_SIZES = (12, 11, 11)
"""Point sizes of the frames' node, edge and box-title text: 16, 14.7 and 14.7 CSS px at full size,
so the page may zoom out to 0.8 and still show text of 12 px."""


def boxes(t: Trace) -> Dict[Value, Optional[str]]:
    """The module box each Value is drawn in (a model's layers and neurons, from dotted labels)."""
    return lift_outputs(t.values, clusters(t.values, {}))


def _title(t: Trace, v: Value, box: Optional[str]) -> str:
    return f"#{t.number[v]} {short_name(t.name(v), box)}"


@dataclass
class Layout:
    """The graph laid out once: a picture with every node and edge pinned where dot put it.

    Attributes:
        pinned: the picture, positions fixed (its nodes and edges are restyled per frame).
        titles: each Value's box title (``#3 p*q``), by element id (``v3``).
    """

    pinned: Picture
    titles: Dict[str, str]

    def styled(self, looks: Mapping[str, Look], prefix: str = "") -> Picture:
        """A copy of the pinned picture drawn with ``looks`` (by element id), element ids prefixed."""
        pic = self.pinned.copy()
        pic.id_prefix = prefix
        items: List[Union[Node, Edge]] = [*pic.nodes, *pic.edges]
        for item in items:
            look = looks.get(item.id)
            if look is None:
                continue
            item.attrs.update(dot_attrs(look))
            if look.kind == "value":
                fields = (self.titles[item.id], *look.texts)
                item.attrs["label"] = labels.record(*(labels.record_field(f) for f in fields), stacked=True)
            elif look.texts:
                item.attrs["label"] = labels.plain(look.texts[0])
        return pic


def _layout_picture(t: Trace, where: Dict[Value, Optional[str]]) -> Picture:
    def fields(v: Value, n: int) -> List[str]:
        return [_title(t, v, where.get(v)), f"data {t.num(v.data)}", f"grad {t.num(t.grad_of(v))}"]

    pic = picture(t.root, max_nodes=None, cluster=True, precision=t.precision, stacked=True, fields=fields)
    pic.fontsizes = FONT_SIZES
    pic.graph_attrs.update(ranksep="0.3", nodesep="0.15", forcelabels="true")
    texts = {f"e{s.node_number}_{s.position}": edge_text(t, s) for s in t.steps}
    for edge in pic.edges:
        edge.attrs.pop("label", None)  # the op's own input names: the frames say left / right instead
        if edge.id in texts:
            edge.attrs["xlabel"] = labels.plain(texts[edge.id])  # placed after the layout: ranks stay close
    return pic


def _box(o: Mapping[str, Any]) -> Tuple[float, float, float]:
    x, y = (float(c) for c in str(o["pos"]).split(","))
    return x, y, float(o["height"]) * 72


def _pin(pic: Picture, laid: Dict[str, Any], away: Set[str]) -> Picture:
    """A copy of ``pic`` with every node and edge at the place ``laid`` (dot's -Tjson) gives it;
    the edges ``away`` (left out of the layout) go along a lane under the picture."""
    pinned = pic.copy()
    pinned.hints = []  # the layout's own guides: nothing to draw
    where = {o["name"]: o for o in laid.get("objects", []) if "pos" in o}
    routes = {e.get("id"): e for e in laid.get("edges", [])}
    x0, y0, x1, y1 = (float(c) for c in laid["bb"].split(","))
    lane = y0 - LANE_GAP
    if away:
        y0 = lane - LANE_GAP  # room for the labels under the lane
        for edge in pinned.edges:
            if edge.id in away:
                pos, lp = route(_box(where[edge.tail]), _box(where[edge.head]), lane)
                routes[edge.id] = {"pos": pos, "xlp": lp}
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
    bb = f"{x0:.2f},{y0:.2f},{x1:.2f},{y1:.2f}"
    pinned.graph_attrs = {**pinned.graph_attrs, "bb": bb, "splines": "true", "outputorder": "edgesfirst"}
    # two invisible corners around the picture: a frame whose label reaches past the boxes then
    # never grows (the renderer would shift every node of that frame)
    reach = max((len(str(e.attrs.get("label", ""))) * FONT_SIZES[1] * 0.3 for e in pinned.edges), default=0.0)
    for name, x, y in (("corner0", x0 - reach, y0 - 20), ("corner1", x1 + reach, y1 + 20)):
        pinned.nodes.append(Node(name, {"shape": "point", "style": "invis", "width": "0", "height": "0",
                                        "pos": f"{x:.2f},{y:.2f}"}))
    return pinned


def lay_out(t: Trace, renderer: Renderer) -> Layout:
    """Lay the trace's graph out once (one run of dot) and pin it."""
    where = boxes(t)
    base = _layout_picture(t, where)
    away = detours(t.values, t.number)
    for_dot = base.copy()
    for_dot.edges = [e for e in for_dot.edges if e.id not in away]
    laid = json.loads(renderer.run(for_dot.source(), "json").decode("utf-8"))
    titles = {f"v{t.number[v]}": _title(t, v, where.get(v)) for v in t.values}
    return Layout(_pin(base, laid, away), titles)


def split_svgs(output: bytes) -> List[str]:
    """The SVG documents in one renderer output holding several (one per graph)."""
    text = output.decode("utf-8")
    parts = re.split(r"(?=<\?xml )", text)
    return [p for p in parts if p.strip()]


_GROUP = re.compile(r'<g id="(\w+)" class="(?:node|edge)">(.*?)</g>', re.DOTALL)
_HEAD = re.compile(r'<polygon [^>]*?points="([^"]*)"')


def _heads(svg: str, prefix: str) -> Dict[str, str]:
    """Each edge's arrowhead points, by element id (the prefix taken off)."""
    found = {}
    for gid, inner in _GROUP.findall(svg):
        match = _HEAD.search(inner)
        if match and gid.startswith(prefix + "e"):
            found[gid[len(prefix):]] = match.group(1)
    return found


@dataclass
class Stage:
    """The page's one drawing of the graph, which its script restyles frame by frame.

    Attributes:
        svg: the inline SVG; every node's and edge's group has the id ``g_`` + its element id.
        heads: for an input edge whose arrowhead the renderer draws elsewhere under the current
            step's thicker pen, those points (newer Graphviz pulls a thick arrow back), by element id.
    """

    svg: str
    heads: Dict[str, str]


def stage(t: Trace, layout: Layout, first: Mapping[str, Look], renderer: Renderer) -> Stage:
    """Draw the layout once, in the looks of the first frame, with every edge that a step
    passes through labelled (the script changes the text and colours, never the geometry)."""
    labelled = dict(first)
    active = dict(first)
    for s in t.steps:
        element = f"e{s.node_number}_{s.position}"
        text = edge_text(t, s)
        labelled[element] = Look("input", first[element].attrs, (text,))
        active[element] = Look("input", (*first[element].attrs, ("penwidth", ACTIVE_PEN)), (text,))
    pages = layout.styled(labelled, "g_").source("backprop") + layout.styled(active, "h_").source("backprop")
    drawn = split_svgs(renderer.run(pages, "svg", engine="neato", args=["-n2"]))
    if len(drawn) != 2:
        raise RuntimeError(f"save_html: {renderer.name} returned {len(drawn)} pictures for 2")
    plain, thick = _heads(drawn[0], "g_"), _heads(drawn[1], "h_")
    return Stage(inline_svg(drawn[0]), {e: p for e, p in thick.items() if plain.get(e) != p})
