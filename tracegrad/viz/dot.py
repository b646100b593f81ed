"""A graph of Values as a ``graphviz.Digraph``: one box per Value, one small node per op.

Colour scheme: a Value is a box ``label | data | grad``; an op is an oval with its symbol; one
edge per operand occurrence (``x * x`` has two), labelled by position where order matters
(``x - y``); parameters of a model (dotted labels like ``layers.0.neurons.3.w.1``) are blue and
grouped in a box per neuron inside a box per layer; nodes passed as ``highlight`` are gold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from ..engine import Value, topological_order
from ..engine.errors import TracegradError
from . import labels
from .columns import column_hints

DEFAULT_MAX_NODES = 500
"""Largest graph :func:`draw` draws unless told otherwise: beyond it a picture stops being readable."""

COMMUTATIVE = frozenset({"add", "mul", "sum", "stop_max"})
PARAMETER_FILL = "#dbe9ff"
HIGHLIGHT_FILL = "#ffd966"
OP_FILL = "#eeeeee"


class GraphTooLarge(TracegradError, ValueError):
    """A graph has more nodes than ``max_nodes``."""


@dataclass
class Node:
    """One DOT node: its id, attributes (values already escaped DOT string content), cluster path."""

    id: str
    attrs: Dict[str, str]
    cluster: Optional[str] = None


@dataclass
class Edge:
    """One DOT edge from ``tail`` to ``head``."""

    id: str
    tail: str
    head: str
    attrs: Dict[str, str] = field(default_factory=dict)


@dataclass
class Picture:
    """Nodes, edges and clusters of a graph, before they become DOT text.

    The step-through frames restyle a copy of this, so every frame has the same nodes.
    """

    values: List[Value]
    number: Dict[Value, int]
    nodes: List[Node]
    edges: List[Edge]
    graph_attrs: Dict[str, str]
    id_prefix: str = ""
    """Put before every element id, so several pictures can share one HTML page."""
    fontsizes: Tuple[int, int, int] = (11, 9, 10)
    """Point sizes of node, edge and box-title text."""
    cluster_attrs: Dict[str, Dict[str, str]] = field(default_factory=dict)
    """More attributes of the module boxes, by their DOT name (``cluster_3``): a pinned layout's ``bb``."""
    hints: List[str] = field(default_factory=list)
    """DOT lines that only guide dot's layout (invisible edges); a pinned picture has none."""

    def copy(self) -> Picture:
        """A copy whose nodes' and edges' attributes can be changed; the Values are shared."""
        return Picture(
            self.values, self.number,
            [Node(n.id, dict(n.attrs), n.cluster) for n in self.nodes],
            [Edge(e.id, e.tail, e.head, dict(e.attrs)) for e in self.edges],
            dict(self.graph_attrs), self.id_prefix, self.fontsizes, self.cluster_attrs, list(self.hints),
        )

    def source_lines(self) -> List[str]:
        """The body of the DOT text: clusters (nested by dotted path), nodes, then edges."""
        lines: List[str] = []
        tree: Dict[Optional[str], List[Node]] = {}
        for node in self.nodes:
            tree.setdefault(node.cluster, []).append(node)
        paths = sorted(p for p in tree if p is not None)
        all_paths = sorted({prefix for p in paths for prefix in _prefixes(p)})
        ids = {p: i for i, p in enumerate(all_paths)}

        def emit(path: Optional[str], indent: str) -> None:
            for node in tree.get(path, []):
                attrs = {"id": self.id_prefix + node.id, **node.attrs}
                lines.append(f"{indent}{node.id} [{attr_text(attrs)}]")
            for child in all_paths:
                if _parent(child) == path:
                    lines.append(f"{indent}subgraph cluster_{ids[child]} {{")
                    name = child.rsplit(".", 2)[-2:] if child.count(".") else [child]
                    style = {"label": labels.plain(".".join(name)), "style": "rounded,dashed", "color": "#7f7f7f",
                             "fontname": "Helvetica", "fontsize": str(self.fontsizes[2]),
                             "id": f"{self.id_prefix}cluster_{ids[child]}",
                             **self.cluster_attrs.get(f"cluster_{ids[child]}", {})}
                    lines.append(f"{indent}\tgraph [{attr_text(style)}]")
                    emit(child, indent + "\t")
                    lines.append(f"{indent}}}")

        emit(None, "\t")
        for edge in self.edges:
            attrs = {"id": self.id_prefix + edge.id, **edge.attrs}
            lines.append(f"\t{edge.tail} -> {edge.head} [{attr_text(attrs)}]")
        return lines + self.hints

    def source(self, name: str = "tracegrad") -> str:
        """The whole DOT text."""
        head = [f"digraph {name} {{", f"\tgraph [{attr_text(self.graph_attrs)}]"]
        node, edge, _ = self.fontsizes
        head.append(f'\tnode [fontname="Helvetica" fontsize="{node}"]')
        head.append(f'\tedge [fontname="Helvetica" fontsize="{edge}" arrowsize="0.6"]')
        return "\n".join(head + self.source_lines() + ["}"]) + "\n"


def attr_text(attrs: Mapping[str, str]) -> str:
    """``a="1" b="x"`` from attribute values that are already escaped DOT string content."""
    return " ".join(f'{key}="{value}"' for key, value in attrs.items())


def _prefixes(path: str) -> List[str]:
    parts = path.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts)) if parts[i].isdigit()]


def _parent(path: str) -> Optional[str]:
    prefixes = _prefixes(path)
    return prefixes[-2] if len(prefixes) > 1 else None


_INDEXED = re.compile(r"^[A-Za-z_]\w*(\.\w+)*$")


def module_path(name: str) -> Optional[str]:
    """The module a dotted parameter name belongs to: ``layers.0.neurons.3.w.1`` -> ``layers.0.neurons.3``.

    Names without a numbered module (``w``, ``bias``) belong to none.
    """
    if "." not in name or not _INDEXED.match(name):
        return None
    parts = name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    parts = parts[:-1]  # the parameter's own name
    while parts and not parts[-1].isdigit():
        parts.pop()
    return ".".join(parts) or None


def _common(paths: List[str]) -> Optional[str]:
    """The deepest module containing every path, or None."""
    prefix_lists = [_prefixes(p) for p in paths]
    common: Optional[str] = None
    for level in zip(*prefix_lists):
        if all(p == level[0] for p in level):
            common = level[0]
        else:
            break
    return common


def clusters(values: List[Value], names: Mapping[Value, str]) -> Dict[Value, Optional[str]]:
    """Which module box each Value is drawn in, from its parameters' dotted names.

    A parameter goes in its module; a node computed directly from parameters goes in their
    deepest common module (``w * x`` in the neuron of ``w``); a node computed only from nodes of
    one module stays in it (the neuron's sum and activation). Everything else is outside.
    """
    where: Dict[Value, Optional[str]] = {}
    for v in values:
        if v.op is None:
            where[v] = module_path(names.get(v, v.label))
            continue
        inputs = v.inputs
        params = [where[i] for i in inputs if i.op is None and where.get(i)]
        if params:
            where[v] = _common([p for p in params if p])
            continue
        inner = [where.get(i) for i in inputs]
        if inner and all(i.op is not None for i in inputs) and inner[0] and all(p == inner[0] for p in inner):
            where[v] = inner[0]
        else:
            where[v] = None
    return where


def lift_outputs(values: List[Value], where: Dict[Value, Optional[str]]) -> Dict[Value, Optional[str]]:
    """``where`` with each module's output (a computed node used outside its module, or the
    root) drawn outside every box, between its module and the next: then a model's layers stand
    side by side as columns instead of a staircase (dot never lets two boxes share a rank)."""
    users: Dict[Value, List[Value]] = {}
    for v in values:
        for i in v.inputs:
            users.setdefault(i, []).append(v)
    lifted = dict(where)
    for v in values:
        box = where.get(v)
        if box and v.op is not None and (not users.get(v) or any(where.get(u) != box for u in users[v])):
            lifted[v] = None
    return lifted


def short_name(name: str, box: Optional[str]) -> str:
    """A name as its module's box shows it: the box's title says the rest (``w.1`` in ``neurons.3``)."""
    return name[len(box) + 1 :] if box and name.startswith(box + ".") else name


def input_name(node: Value, position: int) -> str:
    """The name of ``node``'s input at ``position`` where order matters (``x``/``y`` of ``x - y``), else ''."""
    op = node.op
    if op is None or op.name in COMMUTATIVE or len(node.inputs) < 2:
        return ""
    if op.name == "linear":
        n = (len(node.inputs) - 1) // 2
        return f"w{position}" if position < n else (f"x{position - n}" if position < 2 * n else "b")
    if position < len(op.input_names):
        return op.input_names[position]
    return str(position)


def op_text(node: Value, precision: int = 4) -> str:
    """The op node's text: its symbol, with the parameter (``**3``, ``leaky_relu 0.01``)."""
    op = node.op
    if op is None:
        return ""
    param = node.param
    if param is None:
        return op.symbol
    joiner = "" if op.symbol == "**" else " "
    return f"{op.symbol}{joiner}{labels.number(param, precision)}"


def collect(root: Value, max_nodes: Optional[int] = DEFAULT_MAX_NODES) -> Tuple[List[Value], Dict[Value, int]]:
    """The Values of ``root``'s graph in topological order and their numbers (1, 2, ...).

    Raises:
        GraphTooLarge: more than ``max_nodes`` Values.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw: root must be a Value, got {type(root).__name__} {root!r}")
    values = topological_order(root)
    if max_nodes is not None and len(values) > max_nodes:
        raise GraphTooLarge(
            f"draw: the graph has {len(values)} values, more than max_nodes={max_nodes}; "
            "pass max_nodes=None (or a larger number) to draw it anyway, "
            "or draw a part of it by passing an intermediate Value as the root"
        )
    return values, {v: i + 1 for i, v in enumerate(values)}


def _names(model: Any) -> Dict[Value, str]:
    if model is None:
        return {}
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"draw: model must have named_parameters(), got {type(model).__name__}")
    return {value: str(name) for name, value in model.named_parameters()}


def picture(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    precision: int = 4,
    max_nodes: Optional[int] = DEFAULT_MAX_NODES,
    highlight: Union[Value, Iterable[Value], None] = None,
    model: Any = None,
    cluster: bool = True,
    fields: Optional[Callable[[Value, int], List[str]]] = None,
    stacked: bool = False,
) -> Picture:
    """The :class:`Picture` that :func:`draw` turns into a Digraph (``fields`` overrides a box's texts,
    ``stacked`` puts them one above the other)."""
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    values, number = collect(root, max_nodes)
    names = _names(model)
    where = lift_outputs(values, clusters(values, names)) if cluster else {}
    marked = {id(v) for v in ([highlight] if isinstance(highlight, Value) else list(highlight or ()))}
    nodes: List[Node] = []
    edges: List[Edge] = []
    for v in values:
        n = number[v]
        tip = ""
        if fields is not None:
            texts = fields(v, n)
        else:
            name = short_name(names.get(v, v.label), where.get(v))
            texts = [labels.shown(name)] if name else []
            tip = labels.tooltip(name)  # the full label, where the box shows it clipped
            if show_data:
                texts.append(f"data {labels.number(v.data, precision)}")
            if show_grad:
                texts.append(f"grad {labels.number(v.grad, precision)}")
        attrs = {"shape": "record",
                 "label": labels.record(*(labels.record_field(t) for t in texts or [" "]), stacked=stacked)}
        if tip:
            attrs["tooltip"] = tip
        if id(v) in marked:
            attrs.update(style="filled", fillcolor=HIGHLIGHT_FILL)
        elif v.op is None and where.get(v):
            attrs.update(style="filled", fillcolor=PARAMETER_FILL)
        nodes.append(Node(f"v{n}", attrs, where.get(v)))
        if v.op is None:
            continue
        op_attrs = {"shape": "oval", "label": labels.plain(op_text(v, precision)), "style": "filled",
                    "fillcolor": OP_FILL, "margin": "0.02,0.02", "height": "0.3"}
        nodes.append(Node(f"o{n}", op_attrs, where.get(v)))
        for position, inp in enumerate(v.inputs):
            name = input_name(v, position)
            attrs = {"label": labels.plain(name)} if name else {}
            edges.append(Edge(f"e{n}_{position}", f"v{number[inp]}", f"o{n}", attrs))
        edges.append(Edge(f"r{n}", f"o{n}", f"v{n}"))
    hints = column_hints(nodes, edges, f"v{number[root]}") if cluster else []
    return Picture(values, number, nodes, edges, {"rankdir": rankdir}, hints=hints)


_GRAPH_CLASSES: Dict[Any, Any] = {}


def graph_class() -> Any:
    """``graphviz.Digraph`` that renders with whichever Graphviz is present, system dot or graphviz-pure.

    Its ``pipe()`` (which Jupyter uses to show it) goes through :func:`tracegrad.viz.render.render`.
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw: the graphviz package is needed to draw; `pip install tracegrad[viz]` "
            "(or `pip install graphviz`)"
        ) from None

    if graphviz.Digraph in _GRAPH_CLASSES:
        return _GRAPH_CLASSES[graphviz.Digraph]

    from .notebook import NotebookPage

    class Graph(NotebookPage, graphviz.Digraph):  # type: ignore[misc]
        """A graph of Values: a notebook shows it as a picture that pans and zooms (scaled to the
        column's width, never cut off), ``.source`` is its DOT, ``.pipe()`` renders it."""

        def notebook_page(self) -> Tuple[str, int, str]:
            from .viewer import inline_svg, viewer_page

            svg = inline_svg(self.pipe(format="svg").decode("utf-8"))
            page, height = viewer_page(svg, "graph of the computation")
            return page, height, "graph of the computation"

        def pipe(self, format: Optional[str] = None, renderer: Optional[str] = None, formatter: Optional[str] = None,
                 neato_no_op: Any = None, quiet: bool = False, *, engine: Optional[str] = None,
                 encoding: Optional[str] = None) -> Any:
            if renderer or formatter or neato_no_op:  # Graphviz's own plugins: let the package run dot
                return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
            from .render import render

            data = render(self.source, format or self.format, engine=engine or self.engine)
            return data.decode(encoding) if encoding else data

    _GRAPH_CLASSES[graphviz.Digraph] = Graph
    return Graph


def digraph(pic: Picture) -> Any:
    """A ``graphviz.Digraph`` holding the picture's DOT (imported here: drawing is an extra)."""
    graph = graph_class()(name="tracegrad", graph_attr=dict(pic.graph_attrs),
                          node_attr={"fontname": "Helvetica", "fontsize": "11"},
                          edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6"})
    graph.body.extend(line + "\n" for line in pic.source_lines())
    return graph


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    precision: int = 4,
    max_nodes: Optional[int] = DEFAULT_MAX_NODES,
    highlight: Union[Value, Iterable[Value], None] = None,
    model: Any = None,
    cluster: bool = True,
) -> Any:
    """Draw the graph that computed ``root`` as a ``graphviz.Digraph``.

    Jupyter shows the result inline; ``.source`` is the DOT text; ``.render()`` or
    :func:`tracegrad.viz.save` writes SVG/PNG.

    >>> x = Value(3.0, label="x")
    >>> g = draw(x * x)          # two edges from x into the * node
    >>> "->" in g.source
    True

    Args:
        root: the Value whose graph to draw.
        rankdir: ``"LR"`` (inputs on the left) or ``"TB"`` (inputs on top), ``"RL"``, ``"BT"``.
        show_data, show_grad: whether boxes show ``data`` and ``grad``.
        precision: significant digits of the numbers shown.
        max_nodes: refuse graphs with more Values than this (None: no limit).
        highlight: a Value or Values to fill gold.
        model: a module with ``named_parameters()``: its parameters are named and grouped by
            those names (by default the Values' own dotted labels are used).
        cluster: group parameters and the nodes computed from them in a box per module.

    Raises:
        GraphTooLarge: more Values than ``max_nodes``; says how to draw it anyway or a part.
        ImportError: the graphviz package is missing (``pip install tracegrad[viz]``).
    """
    pic = picture(root, rankdir=rankdir, show_data=show_data, show_grad=show_grad, precision=precision,
                  max_nodes=max_nodes, highlight=highlight, model=model, cluster=cluster)
    return digraph(pic)
