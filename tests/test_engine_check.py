"""check_engine: a learner's engine checked against tracegrad. Each planted bug in our broken
engines is found with a shrunk example of a few nodes and its cause named; a correct engine
passes under any seed; micrograd 0.1.0's known behaviour comes out as findings, not crashes."""

from __future__ import annotations

import contextlib
import io
import math
import random
from typing import Any, Dict, List

import pytest

from tracegrad.check.compare import CAUSES, Run, close, diagnose
from tracegrad.check.engine_check import CHECKS, EngineCheckError, check_engine
from tracegrad.check.expression import Expression, Node
from tracegrad.check.learner import Engine
from tracegrad.check.shrink import simplify
from tracegrad.engine.ops import OPS
from tracegrad.testing import assert_engine

import learner_engines as engines
import needs

PLANTED = [
    # engine, the cause named, the most op nodes the shrunk random graph may keep (one shows the
    # bug in most seeds; two where it takes a shared node, t0 + t0, or a divisor kept off 0)
    (engines.Equals, "accumulate", 2),
    (engines.DoubleVisit, "double visit", 2),
    (engines.WrongTanh, "derivative", 2),
    (engines.SignSub, "sign", 2),
    (engines.SignDiv, "sign", 2),
]


def _findings(report: Any) -> Dict[str, Any]:
    return {f.check: f for f in report.findings}


def _run_example(code: str) -> List[str]:
    """Run a printed example and return what it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "example", "exec"), {"__name__": "example"})
    return out.getvalue().split()


# --- a correct engine passes


@pytest.fixture(params=[0, "--hypothesis-seed"])
def seed(request: pytest.FixtureRequest) -> int:
    """Seed 0 and the run's --hypothesis-seed (a random one without it): check_engine runs
    hypothesis itself, so it cannot run inside @given."""
    if request.param == "--hypothesis-seed":
        given = request.config.getoption("hypothesis_seed", None)
        return int(given) if given is not None else random.randrange(2**32)
    return int(request.param)


def test_a_correct_engine_has_no_findings_under_any_seed(seed: int) -> None:
    report = check_engine(engines.Good, max_examples=60, seed=seed, say=None)
    assert report.ok and not report.findings, f"seed={seed}\n{report}"
    assert report.graphs == 60
    assert dict(report.results)["random graphs"] == "ok (60 graphs)"
    assert report.found == ["+", "-", "*", "/", "-x", "** (number)", "exp", "tanh", "relu"]


def test_the_report_is_printed_as_it_is_made() -> None:
    lines: List[str] = []
    report = check_engine(engines.Good, ["+", "*", "tanh"], max_examples=20, say=lines.append)
    assert lines[0] == ("check_engine: learner_engines.Good\n  found: + * tanh\n"
                        "  not found: ** (Value) log sqrt sigmoid sin cos abs() leaky_relu(slope) step sign")
    assert [line.split()[0] for line in lines[1:8]] == [name.split()[0] for name in CHECKS]
    assert "No findings" in lines[-1] and str(report).startswith(lines[0])


# --- each planted bug: found, shrunk, its cause named


@pytest.mark.parametrize("engine, cause, most", PLANTED, ids=lambda p: getattr(p, "__name__", str(p)))
def test_each_planted_bug_is_found_shrunk_and_named(engine: Any, cause: str, most: int, seed: int) -> None:
    report = check_engine(engine, max_examples=200, seed=seed, say=None)
    assert not report.ok
    found = _findings(report)["random graphs"]
    assert found.cause == cause, f"seed={seed}\n{found}"
    assert CAUSES[cause] in str(found)
    op_lines = [line for line in found.example.splitlines() if line.startswith(("t", "out ="))]
    assert len(op_lines) <= most, found.example
    printed = _run_example(found.example)  # the example runs and shows the engine's wrong number
    assert f"your engine: {printed[0]}" in found.example or printed[0] in found.example


TRAPS = ("each op alone", "a + a", "a * a", "a diamond", "a 2,000-deep chain", "backward() twice")


def test_the_traps_name_their_causes() -> None:
    equals = _findings(check_engine(engines.Equals, checks=TRAPS, say=None))
    assert {c: equals[c].cause for c in ("a + a", "a * a", "a diamond")} == dict.fromkeys(
        ("a + a", "a * a", "a diamond"), "accumulate")
    assert "x0.grad: your engine has 1.0, tracegrad 2.0" in equals["a + a"].detail
    twice = _findings(check_engine(engines.DoubleVisit, checks=TRAPS, say=None))
    assert twice["a diamond"].cause == "double visit" and "16.0" in twice["a diamond"].example
    assert twice["a 2,000-deep chain"].cause == "recursion" and twice["a 2,000-deep chain"].severity == "limit"
    assert "Python's limit is about 1,000 deep" in twice["a 2,000-deep chain"].title
    tanh = _findings(check_engine(engines.WrongTanh, checks=TRAPS, say=None))
    assert tanh["each op alone"].cause == "derivative" and tanh["each op alone"].title.startswith("tanh: ")
    assert "The local derivative of x.tanh() with respect to x is 1 - out²" in tanh["each op alone"].detail
    sub = _findings(check_engine(engines.SignSub, checks=TRAPS, say=None))
    assert sub["each op alone"].cause == "sign" and "Only the sign is wrong." in sub["each op alone"].detail


class ResetsEverything(engines.Good):
    """Zeroes every gradient, leaves too, at the start of backward(): a convention, not a bug."""

    def backward(self) -> None:
        for node in self._order():
            node.grad = 0.0
        super().backward()


def test_backward_twice_without_adding_up_is_a_note() -> None:
    report = check_engine(ResetsEverything, ["+", "*"], checks=TRAPS, say=None)
    (note,) = report.findings
    assert note.severity == "note" and report.ok
    assert dict(report.results)["backward() twice"] == "starts from zero (a note)"


class BrokenExp(engines.Good):
    """exp's forward is e ** x + 0.5, its backward is fine."""

    def exp(self) -> Any:
        out = super().exp()
        out.data += 0.5
        return out


class RaisingTanh(engines.Good):
    def tanh(self) -> Any:
        out = super().tanh()

        def _backward() -> None:
            raise ZeroDivisionError("planted")
        out._backward = _backward
        return out


def test_a_wrong_forward_and_an_exception_are_findings_too() -> None:
    exp = _findings(check_engine(BrokenExp, max_examples=50, say=None))["random graphs"]
    assert exp.cause == "forward" and "Check the forward of x.exp()" in exp.detail
    tanh = _findings(check_engine(RaisingTanh, max_examples=50, say=None))["random graphs"]
    assert tanh.cause == "error" and "ZeroDivisionError: planted" in tanh.detail


def test_tracegrads_own_value_passes_with_every_op() -> None:
    from tracegrad import Value

    report = check_engine(Value, max_examples=100, say=None)
    assert report.ok and not report.findings and report.missing == [], str(report)


# --- micrograd 0.1.0


def test_micrograd_0_1_0_gives_two_findings_and_no_crash() -> None:
    micrograd = needs.micrograd()
    report = check_engine(micrograd.engine.Value, say=None)
    assert report.found == ["+", "-", "*", "/", "-x", "** (number)", "relu"]
    found = _findings(report)
    assert sorted(found) == ["a 2,000-deep chain", "backward() twice"]
    assert found["a 2,000-deep chain"].cause == "recursion"
    assert found["backward() twice"].cause == "not reset" and "72.0" in found["backward() twice"].title
    assert dict(report.results)["random graphs"] == "ok (200 graphs)"
    assert assert_engine(micrograd.engine.Value, allow=["a 2,000-deep chain", "backward() twice"], max_examples=50)


# --- assert_engine


def test_assert_engine_fails_with_the_report_and_honours_allow() -> None:
    with pytest.raises(EngineCheckError, match="'=' instead of '\\+='") as caught:
        assert_engine(engines.Equals, max_examples=20)
    assert caught.value.report.findings and str(caught.value).startswith("check_engine: learner_engines.Equals")
    allowed = ["a diamond", "a 2,000-deep chain", "random graphs"]
    assert assert_engine(engines.DoubleVisit, ["+", "*"], allow=allowed, max_examples=20).found == ["+", "*"]
    with pytest.raises(ValueError, match="unknown check 'chain' in allow"):
        assert_engine(engines.Good, allow=["chain"])
    with pytest.raises(TypeError, match="a list of check names"):
        assert_engine(engines.Good, allow="random graphs")
    only = check_engine(engines.Equals, checks=["a + a"], say=None)
    assert [name for name, _ in only.results] == ["a + a"] and len(only.findings) == 1


# --- diagnosis and shrinking, directly


def _op(name: str, *children: Node) -> Node:
    op = OPS[name]
    return Node(float(op.forward(*[c.value for c in children])), op, children)


def test_the_first_differing_node_and_the_contributions_are_named() -> None:
    x0 = Node(1.5, index=0)
    t = _op("tanh", x0)
    run = Run(Engine(engines.Equals), Expression(_op("add", _op("mul", t, x0), t), [1.5]))
    detail, cause = diagnose(run)
    assert cause == "accumulate" and run.mismatch is not None
    assert run.names[id(run.mismatch.node)] == "t0"
    assert detail.startswith("The first gradient that differs, from out down,")


def test_simplify_keeps_removing_nodes_while_the_graph_fails() -> None:
    x0 = Node(0.5, index=0)
    t = _op("neg", x0)
    big = Expression(_op("exp", _op("add", _op("add", t, t), _op("tanh", x0))), [0.5])
    engine = Engine(engines.DoubleVisit)
    assert Run(engine, big).mismatch is not None
    small = simplify(big, lambda e: Run(engine, e).mismatch is not None)
    assert len(small.nodes()) == 3 and Run(engine, small).mismatch is not None  # x0, t = -x0, t + t
    assert simplify(big, lambda e: False) is big


def test_close_allows_rounding_only() -> None:
    assert close(1.0, 1.0 + 1e-12) and close(0.0, 1e-10) and close(math.nan, math.nan)
    assert not close(1.0, 1.001) and not close(math.nan, 1.0) and not close(0.0, 1e-8)
