"""draw(): DOT sources asserted as text (no Graphviz binary needed)."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.engine import Value
from tracegrad.nn import MLP
from tracegrad.viz import labels
from tracegrad.viz.dot import GraphTooLarge, clusters, draw, module_path, topological_order

EDGE = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\]$", re.MULTILINE)
NODE = re.compile(r"^\s*(\w+) \[(.*)\]$", re.MULTILINE)


def edges(source: str) -> list:
    return EDGE.findall(source)


def nodes(source: str) -> list:
    return [(name, attrs) for name, attrs in NODE.findall(source) if name not in ("graph", "node", "edge")]


def test_one_edge_per_operand_occurrence() -> None:
    x = Value(3.0, label="x")
    src = draw(x * x).source
    into_mul = [e for e in edges(src) if e[0] == "v1" and e[1] == "o2"]
    assert len(into_mul) == 2
    assert len(nodes(src)) == 3  # x, the * op, the product


def test_counts_match_the_graph() -> None:
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    out = ((a * b + a).tanh() - b / a) ** 2
    values = topological_order(out)
    computed = [v for v in values if v.op is not None]
    src = draw(out).source
    assert len(nodes(src)) == len(values) + len(computed)
    assert len(edges(src)) == sum(len(v.inputs) for v in computed) + len(computed)


def test_boxes_show_label_data_and_grad() -> None:
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.backward()
    src = draw(y, precision=3).source
    assert "{ x | data 2 | grad " in src
    assert "| grad " not in draw(y, show_grad=False).source
    assert "data " not in draw(y, show_data=False).source and "{ x | grad" in draw(y, show_data=False).source


def test_positions_label_edges_only_where_order_matters() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    sub = draw(a - b).source
    assert {attrs for _, _, attrs in edges(sub) if "label" in attrs} == {'id="e3_0" label="x"', 'id="e3_1" label="y"'}
    assert not [attrs for _, _, attrs in edges(draw(a + b).source) if "label" in attrs]
    assert len([1 for _, _, attrs in edges(draw(a ** b).source) if "label" in attrs]) == 2


def test_op_nodes_show_symbols_and_parameters() -> None:
    x = Value(2.0)
    src = draw((x ** 3).leaky_relu(0.1)).source
    assert 'label="**3"' in src and 'label="leaky_relu 0.1"' in src


def test_highlight_fills_the_node() -> None:
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    src = draw(x * y, highlight=y).source
    (attrs,) = [a for n, a in nodes(src) if n == "v2"]
    assert "#ffd966" in attrs


def test_too_large_says_how_big_and_what_to_do() -> None:
    v = Value(0.0)
    for _ in range(30):
        v = v + 1.0
    with pytest.raises(GraphTooLarge, match=r"61 values, more than max_nodes=10.*max_nodes=None.*part"):
        draw(v, max_nodes=10)
    assert draw(v, max_nodes=None).source


def test_not_a_value() -> None:
    with pytest.raises(TypeError, match="draw: root must be a Value"):
        draw(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        draw(Value(1.0), rankdir="XY")


def test_graphviz_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install tracegrad\[viz\]"):
        draw(Value(1.0))


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("layers.0.neurons.3.w.1", "layers.0.neurons.3"),
        ("layers.0.neurons.3.b", "layers.0.neurons.3"),
        ("layers.2.w", "layers.2"),
        ("w", None),
        ("bias.0", None),
        ("x y.1.z", None),
    ],
)
def test_module_path(name: str, path: str) -> None:
    assert module_path(name) == path


def test_hand_labelled_parameters_are_clustered() -> None:
    w0 = Value(0.5, label="layers.0.neurons.0.w.0")
    b0 = Value(0.1, label="layers.0.neurons.0.b")
    w1 = Value(-0.5, label="layers.0.neurons.1.w.0")
    x = Value(2.0, label="x")
    h0 = (w0 * x + b0).tanh()
    h1 = (w1 * x).tanh()
    out = h0 + h1
    where = clusters(topological_order(out), {})
    assert where[h0] == "layers.0.neurons.0" and where[h1] == "layers.0.neurons.1"
    assert where[x] is None and where[out] is None
    src = draw(out).source
    assert src.count("subgraph cluster_") == 3  # the layer, and a neuron box for each neuron
    assert 'label="layers.0"' in src and 'label="neurons.1"' in src
    assert "{ w.0 | data 0.5" in src  # the box's title says the rest of the name


def test_mlp_reads_as_layers_and_neurons() -> None:
    model = MLP(2, [4, 4, 1], rng=0)
    out = model([1.0, -2.0])
    src = draw(out, model=model).source
    assert src.count("subgraph cluster_") == 3 + 4 + 4 + 1
    for name, _ in model.named_parameters():
        assert name.rsplit(".neurons.", 1)[0].startswith("layers.")
    with pytest.raises(TypeError, match="named_parameters"):
        draw(out, model=object())


HOSTILE = ['"', "{}", "<b>", "&amp;", "a\nb", "</script><script>alert(1)</script>", "\\N", "|x|", "\x00\x1b", "\\"]


def unescape_dot(content: str) -> str:
    """What Graphviz reads from quoted DOT string content made by labels.record_field."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), content)


@given(st.text(max_size=40))
@example("".join(HOSTILE))
@example("\\")
@example('"\\')
def test_record_fields_escape_any_text(text: str) -> None:
    content = labels.record_field(text)
    assert "\n" not in content and "\r" not in content
    assert not re.search(r'(?<!\\)(\\\\)*"', content)  # every quote is escaped
    assert not re.search(r"(?<!\\)(\\\\)*[{}|<>]", content)  # no record structure
    cleaned = labels._clean(text)
    assert unescape_dot(content) == cleaned


@given(st.text(max_size=40))
@example("".join(HOSTILE))
def test_plain_labels_escape_any_text(text: str) -> None:
    content = labels.plain(text)
    assert "\n" not in content
    assert not re.search(r'(?<!\\)(\\\\)*"', content)
    assert unescape_dot(content) == labels._clean(text)


@given(st.text(max_size=30))
@example("".join(HOSTILE))
def test_a_hostile_label_stays_inside_its_box(text: str) -> None:
    x = Value(1.0, label=text)
    src = draw(x * 2.0).source
    assert len(nodes(src)) == 4 and len(edges(src)) == 3
    (attrs,) = [a for n, a in nodes(src) if n == "v1"]
    field = labels.record_field(labels.shown(text)) if text else ""
    assert f'label="{{ {field + " | " if text else ""}data 1 | grad 0 }}"' in attrs


@pytest.mark.parametrize(("x", "text"), [(0.5, "0.5"), (-6.0, "-6"), (1.23456789, "1.235"), (float("nan"), "nan"),
                                         (float("-inf"), "-inf"), (0.0, "0"), (1e-7, "1e-07")])
def test_numbers(x: float, text: str) -> None:
    assert labels.number(x) == text

