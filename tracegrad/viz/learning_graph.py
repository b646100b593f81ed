"""One training point's graph on the training page: its forward values and gradients through the
network, at every snapshot, drawn with tracegrad's own graph pictures.

The graph of a point is ``loss([model(x)], [y])``, the loss of that point alone, built with the
engine at the snapshot's parameters; ``backward()`` gives every node's gradient. The parameters
themselves (and any part of the loss made only of them, such as a weight penalty) are left out
of the picture: the network panel shows them. The picture is laid out and rendered once (its
boxes wide enough for any number); the page fills in the numbers for the chosen snapshot and
point. The page holds the graphs of a spread-out selection of points, as many as a budget of
numbers allows (all of them for small data sets and models), so that it stays light.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Sequence, Set, Tuple, Union

from ..engine import Value, topological_order
from ..nn.record import Recording, Snapshot
from ..nn.replay import Replayer
from .dot import HIGHLIGHT_FILL, picture
from .render import Renderer, RendererNotFound, RenderError, find_renderer
from .svgplot import joined
from .viewer import inline_svg

BUDGET = 120_000
"""Numbers (a data and a gradient per box, per snapshot, per point) the page holds for graphs."""
SELECTION = 24
"""How many points get a graph when the budget cannot hold them all (more would crowd the picture)."""
PLACEHOLDER = "-0.0001234"
"""The widest number text a box must hold (4 significant digits)."""
ROOT_FILL = "#d9ead3"


def spread(points: Sequence[Sequence[float]], targets: Sequence[Any], count: int) -> List[int]:
    """``count`` points spread over the data and over the classes (farthest first, deterministic)."""
    n = len(points)
    if count >= n:
        return list(range(n))
    width = len(points[0])
    scales = []
    for d in range(width):
        column = [p[d] for p in points]
        mean = sum(column) / n
        scales.append(math.sqrt(sum((v - mean) ** 2 for v in column) / n) or 1.0)
    groups: Dict[Any, List[int]] = {}
    for i, t in enumerate(targets):
        groups.setdefault(t, []).append(i)
    order = [groups[k] for k in sorted(groups)]
    far = [math.inf] * n
    chosen: List[int] = []

    def distance(i: int, j: int) -> float:
        return sum(((points[i][d] - points[j][d]) / scales[d]) ** 2 for d in range(width))

    while len(chosen) < count:
        for members in order:
            if len(chosen) >= count:
                break
            free = [i for i in members if i not in chosen]
            if not free:
                continue
            pick = max(free, key=lambda i: (far[i], -i))
            chosen.append(pick)
            for i in range(n):
                far[i] = min(far[i], distance(i, pick))
    return sorted(chosen)


def _labelled_forward(replayer: Replayer, rec: Recording, xs: List[Value]) -> Any:
    """The rebuilt model's forward, each neuron's nodes named (``h1.3``, ``z1.3``, the output's name)."""
    layers = replayer.layers() or []
    classes = sorted(set(rec.targets or []))
    row: List[Any] = xs
    for depth, neurons in enumerate(layers, start=1):
        last = depth == len(layers)
        outs = []
        for j, neuron in enumerate(neurons, start=1):
            out = neuron(row)
            if last:
                name = rec.output_name if len(neurons) == 1 else (
                    f"{rec.output_name}: {rec.class_name(j - 1)}" if rec.task == "classification" and j - 1 in classes
                    else f"{rec.output_name} {j}")
                short = "out" if len(neurons) == 1 else f"out{j}"
            else:
                name, short = f"h{depth}.{j}", f"{depth}.{j}"
            if out.op is not None and out.op.name != "linear":
                out.inputs[0].label = f"z{short}"
            out.label = name
            outs.append(out)
        row = outs
    return row[0] if len(row) == 1 else row


class PointGraphs:
    """The chosen points' graphs: the pictures (one per shape of graph) and every number to show."""

    def __init__(self, rec: Recording, replayer: Replayer, snapshots: Sequence[Snapshot], *,
                 points: Union[int, Sequence[int], None] = None, budget: int = BUDGET,
                 renderer: Union[Renderer, str, None] = None, point_names: Sequence[str] = ()) -> None:
        self.rec = rec
        self.replayer = replayer
        self.snapshots = snapshots
        self.point_names = point_names
        self.structures: List[Dict[str, Any]] = []
        self.graphs: Dict[int, Dict[str, Any]] = {}
        self.chosen: List[int] = []
        self.note = ""
        if not rec.inputs or not replayer.can_evaluate or replayer.loss is None:
            self.note = ("To draw a point's graph the page needs the model and the loss function: pass "
                         "model= and loss= to replay()." if rec.inputs else "")
            return
        try:
            self.renderer = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
        except RendererNotFound as exc:
            self.note = f"A point's graph needs Graphviz to be drawn: {exc}"
            return
        _, order, inputs = self._build(snapshots[0], 0)
        per_point = 2 * len(self._shown(order, inputs)[0]) * len(snapshots)
        if points is None or isinstance(points, int):
            count = max(1, budget // max(per_point, 1)) if points is None else points
            if points is None and count < len(rec.inputs):
                count = min(count, SELECTION)
            self.chosen = spread(rec.inputs, rec.targets or [], max(1, count))
        else:
            self.chosen = sorted({int(i) for i in points if 0 <= int(i) < len(rec.inputs)})
        self._record()

    def _build(self, snapshot: Snapshot, i: int) -> Tuple[Value, List[Value], Set[Value]]:
        """Point ``i``'s graph at ``snapshot`` after ``backward()``: its root, every node in
        topological order, and the point's inputs."""
        rec, replayer = self.rec, self.replayer
        assert rec.inputs is not None and rec.targets is not None  # checked in __init__
        with replayer.at(snapshot) as (model, loss):
            xs = [Value(v, label=name) for v, name in zip(rec.inputs[i], rec.input_names)]
            out = _labelled_forward(replayer, rec, xs) if replayer.layers() else model(xs)
            root = loss([out], [rec.targets[i]])  # type: ignore[misc]
            root.backward()
        root.label = "loss of this point"
        return root, topological_order(root), set(xs)

    def _shown(self, order: List[Value], inputs: Set[Value]) -> Tuple[List[int], Set[int]]:
        """Where in the order the boxes to show are, and which of them stand for a part made of
        parameters only (drawn as a leaf); the parameters themselves are left out."""
        params = set(self.replayer.parameters)
        depends: Set[Value] = set()
        for v in order:
            if v in inputs or not depends.isdisjoint(v.inputs):
                depends.add(v)
        side: Set[Value] = set()
        for v in depends:
            side.update(p for p in v.inputs if p not in depends and p not in params)
        for v in side:
            if not v.label:
                v.label = "from the weights" if v.op is not None else "constant"
        boxes = [k for k, v in enumerate(order) if v in depends or v in side]
        return boxes, {k for k in boxes if order[k] in side}

    def _record(self) -> None:
        shapes: Dict[str, int] = {}
        numbers: Dict[int, List[str]] = {i: [] for i in self.chosen}
        known: Dict[int, Tuple[List[int], Tuple[str, ...]]] = {}
        for snapshot in self.snapshots:
            for i in self.chosen:
                try:
                    root, order, inputs = self._build(snapshot, i)
                except (ArithmeticError, ValueError):
                    numbers[i].append("")
                    continue
                if i not in known:
                    positions, side = self._shown(order, inputs)
                    kind = _kind(order, positions)
                    known[i] = (positions, kind)
                    source, ids = self._source(root, [order[k] for k in positions], inputs, {order[k] for k in side})
                    if source not in shapes:
                        shapes[source] = len(self.structures)
                        self.structures.append({"source": source, "ids": ids})
                    self.graphs[i] = {"structure": shapes[source]}
                positions, kind = known[i]
                if positions[-1] >= len(order) or _kind(order, positions) != kind:
                    numbers[i].append("")  # the graph took another shape at this snapshot
                    continue
                boxes = [order[k] for k in positions]
                if not all(math.isfinite(v.data) and math.isfinite(v.grad) for v in boxes):
                    numbers[i].append("")
                    continue
                numbers[i].append(joined([x for v in boxes for x in (v.data, v.grad)]))
        for i, graph in self.graphs.items():
            graph["numbers"] = numbers[i]
            graph["title"] = self.point_names[i] if i < len(self.point_names) else f"point {i}"
        self._render()

    def _source(self, root: Value, boxes: List[Value], inputs: Set[Value], side: Set[Value]) -> Tuple[str, List[str]]:
        """The DOT of the point's picture (ids prefixed ``PG_`` until it is numbered) and its boxes' ids."""
        shown = set(boxes)
        pic = picture(root, max_nodes=None, cluster=False,
                      fields=lambda v, n: ([v.label] if v.label else []) + [f"data {PLACEHOLDER}",
                                                                          f"grad {PLACEHOLDER}"])
        number = pic.number
        computed = {f"o{number[v]}" for v in shown if v.op is not None and v not in side}
        keep = {f"v{number[v]}" for v in shown} | computed
        pic.nodes = [node for node in pic.nodes if node.id in keep]
        pic.edges = [e for e in pic.edges if e.head in keep and e.tail in keep]
        by_id = {f"v{number[v]}": v for v in shown}
        for node in pic.nodes:
            v = by_id.get(node.id)
            if v is not None:  # the box's fields one above the other: narrow columns of neurons
                node.attrs["label"] = node.attrs["label"][2:-2]
                node.attrs["fontsize"] = "10"
            if v in inputs:
                node.attrs.update(style="filled", fillcolor=HIGHLIGHT_FILL)
            elif v is root:
                node.attrs.update(style="filled", fillcolor=ROOT_FILL)
        groups = _neuron_groups(boxes, number)
        for node in pic.nodes:
            if node.id in groups:
                node.attrs["group"] = groups[node.id]
        for edge in pic.edges:
            head = by_id.get("v" + edge.head[1:])
            if head is not None and head.op is not None and head.op.name == "linear" and edge.head.startswith("o"):
                edge.attrs.pop("label", None)
                edge.attrs["headport"] = "w"  # a layer's many inputs meet each sum from the left
        pic.graph_attrs.update(nodesep="0.08", ranksep="0.25", concentrate="true")
        pic.id_prefix = "PG_"
        source = pic.source("point")
        columns = "".join(f"\t{{rank=same; {' '.join(ids)}}}\n" for ids in _columns(boxes, inputs, side, number))
        return source[: source.rstrip().rfind("}")] + columns + "}\n", [f"v{number[v]}" for v in boxes]

    def _render(self) -> None:
        for k, shape in enumerate(self.structures):
            source = shape.pop("source").replace('id="PG_', f'id="pg{k}_')
            try:
                svg = self.renderer.run(source, "svg").decode("utf-8")
            except RenderError:  # merging edges (concentrate) trips some versions of dot
                svg = self.renderer.run(source.replace(' concentrate="true"', ""), "svg").decode("utf-8")
            shape["svg"] = re.sub(r"<title>.*?</title>", "", inline_svg(svg), flags=re.DOTALL)
            shape["boxes"] = [f"pg{k}_{i}" for i in shape.pop("ids")]

    def data(self) -> Dict[str, Any]:
        """The JSON the page reads: per structure its box ids; per point its structure and numbers."""
        return {"structures": [{"boxes": s["boxes"]} for s in self.structures],
                "points": {str(i): {"structure": g["structure"], "numbers": g["numbers"], "title": g["title"]}
                           for i, g in self.graphs.items()},
                "note": self.note}

    def svgs(self) -> str:
        """Every structure's picture, hidden until a point of its shape is picked."""
        return "".join(f'<div class="point-graph" id="graph-{k}" hidden>{s["svg"]}</div>'
                       for k, s in enumerate(self.structures))


def _kind(order: List[Value], positions: List[int]) -> Tuple[str, ...]:
    """The ops of the boxes at ``positions``: a graph of another shape gives another tuple."""
    return tuple(op.name if (op := order[k].op) is not None else "" for k in positions)


def _neuron_groups(boxes: List[Value], number: Dict[Value, int]) -> Dict[str, str]:
    """Each neuron's sum, its value, its activation and the activation's value in one group,
    which dot draws in a straight line."""
    shown = set(boxes)
    users: Dict[Value, List[Value]] = {}
    for v in boxes:
        for i in v.inputs:
            if i in shown:
                users.setdefault(i, []).append(v)
    groups: Dict[str, str] = {}
    for v in boxes:
        if v.op is None or v.op.name != "linear":
            continue
        name = f"n{number[v]}"
        groups[f"o{number[v]}"] = groups[f"v{number[v]}"] = name
        after = users.get(v, [])
        if len(after) == 1 and after[0].op is not None and len(after[0].inputs) == 1:
            groups[f"o{number[after[0]]}"] = groups[f"v{number[after[0]]}"] = name
    return groups


def _columns(boxes: List[Value], inputs: Set[Value], side: Set[Value], number: Dict[Value, int]) -> List[List[str]]:
    """The picture's columns: nodes as many steps from the point's inputs share one (a layer's
    sums, then their values, then the activations...), so the graph reads like the network."""
    depth: Dict[Value, int] = {}
    columns: Dict[int, List[str]] = {}
    for v in boxes:  # in topological order
        if v in side or (v.op is None and v not in inputs):
            continue
        if v in inputs:
            depth[v] = 0
        else:
            depth[v] = 2 + max((depth[i] for i in v.inputs if i in depth), default=-2)
            columns.setdefault(depth[v] - 1, []).append(f"o{number[v]}")
        columns.setdefault(depth[v], []).append(f"v{number[v]}")
    return [ids for _, ids in sorted(columns.items()) if len(ids) > 1]

