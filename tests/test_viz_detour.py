"""Long edges go along a lane under the picture when dot would lay them out slowly (or not at all)."""

from __future__ import annotations

import re

from tracegrad.engine import Value
from tracegrad.nn import MLP
from tracegrad.viz.detour import BUDGET, _ranks, detours, route
from tracegrad.viz.stage import lay_out
from tracegrad.viz.steps import trace
from tracegrad.viz.timeline import timeline


def power_chain(n: int) -> Value:
    """``x*x*...*x`` with n Values: x feeds every product, from the first rank to the last."""
    x = Value(1.001, label="x")
    v = x
    for _ in range(n - 1):
        v = v * x
    return v


def test_a_usual_picture_keeps_every_edge() -> None:
    model = MLP(2, [4, 4, 1], rng=0)
    t = trace(model([Value(0.5, label="a"), Value(-1.0, label="b")]))
    assert detours(t.values, t.number) == set()
    t = trace(power_chain(30))
    assert detours(t.values, t.number) == set()


def test_a_value_used_all_along_a_chain_sends_its_far_edges_along_the_lane() -> None:
    t = trace(power_chain(300), max_nodes=None)
    away = detours(t.values, t.number)
    x = t.values[0]
    assert away and all(re.fullmatch(r"e\d+_[01]", e) for e in away)
    firsts = {f"e{t.number[v]}_{p}" for v in t.values for p, i in enumerate(v.inputs) if i is x}
    assert away <= firsts  # only x's edges are long
    assert "e2_0" not in away and "e2_1" not in away  # x keeps its edge into the first product
    rank = _ranks(t.values)
    kept = sum(rank[v] - 2 - rank[i] for v in t.values for p, i in enumerate(v.inputs)
               if f"e{t.number[v]}_{p}" not in away and rank[v] - 2 - rank[i] > 0)
    assert kept <= BUDGET


def test_a_lane_edge_runs_from_its_value_down_along_and_up_into_its_op() -> None:
    pos, lp = route((10.0, 50.0, 40.0), (300.0, 80.0, 20.0), -24.0)
    tip, *points = pos.split(" ")
    assert tip == "e,300.00,70.00"  # the arrow ends at the bottom of the op's oval
    assert points[0] == "10.00,30.00" and points[-1] == "300.00,64.00"  # from the box's bottom to the arrow
    assert "10.00,-24.00" in points and "300.00,-24.00" in points  # both corners on the lane
    assert (len(points) - 1) % 3 == 0 and lp == "300.00,-34.00"  # a Bézier; the label under the lane


def test_the_long_chain_is_laid_out_with_every_edge_pinned(renderer) -> None:  # type: ignore[no-untyped-def]
    t = trace(power_chain(300), max_nodes=None)  # Graphviz 2.43's dot runs out of stack on it whole
    layout = lay_out(t, renderer)
    away = detours(t.values, t.number)
    edges = {e.id: e for e in layout.pinned.edges}
    assert all("pos" in e.attrs and "lp" in e.attrs for i, e in edges.items() if i in away)
    bottom = float(layout.pinned.graph_attrs["bb"].split(",")[1])
    assert all(float(edges[i].attrs["lp"].split(",")[1]) > bottom for i in away)
    source = layout.styled(timeline(t)[0].changes).source()
    assert source.count(" -> ") == sum(len(v.inputs) + 1 for v in t.values if v.op is not None)
