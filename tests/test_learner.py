"""A learner's engine by duck typing: which ops it has, graphs built in it, printed as Python."""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import pytest

from tracegrad.check.compare import names_of
from tracegrad.check.expression import Expression, Node
from tracegrad.check.learner import Engine, EngineShapeError, _text, data_of
from tracegrad.engine.ops import OPS

import learner_engines as engines


def _op(name: str, *children: Node, param: Any = None) -> Node:
    op = OPS[name]
    args = [c.value for c in children] + ([] if param is None else [param])
    return Node(float(op.forward(*args)), op, children, param)


class Minimal:
    """Only + with Values on both sides, no numbers, no other op."""

    def __init__(self, data: float) -> None:
        self.data, self.grad = data, 0.0
        self._inputs: tuple = ()

    def __add__(self, other: Any) -> Any:
        if not isinstance(other, Minimal):
            raise TypeError("Values only")
        out = Minimal(self.data + other.data)
        out._inputs = (self, other)
        return out

    def backward(self) -> None:
        self.grad = 1.0
        for x in self._inputs:
            x.grad += 1.0


def test_the_ops_are_found_by_trying_them() -> None:
    engine = Engine(engines.Good)
    assert list(engine.forms) == ["add", "sub", "mul", "div", "neg", "pow", "exp", "tanh", "relu"]
    assert "raised" in engine.missing["log"] and "vpow" in engine.missing
    assert engine.left == engine.right == {"add", "sub", "mul", "div"}
    minimal = Engine(Minimal)
    assert list(minimal.forms) == ["add"] and minimal.left == minimal.right == set()


def test_ops_can_be_chosen_by_name_or_operator() -> None:
    assert list(Engine(engines.Good, ["+", "*", "tanh", "**"]).forms) == ["add", "mul", "pow", "tanh"]
    with pytest.raises(EngineShapeError, match="has no log"):
        Engine(engines.Good, ["log"])
    with pytest.raises(ValueError, match="unknown op 'cosh'"):
        Engine(engines.Good, ["cosh"])
    with pytest.raises(ValueError, match="at least one op"):
        Engine(engines.Good, [])


class NoBackward:
    def __init__(self, data: float) -> None:
        self.data, self.grad = data, 0.0


class NoNumber:
    def __init__(self) -> None:
        pass


class Doubled(engines.Good):
    def __init__(self, data: float, *args: Any) -> None:
        super().__init__(2 * data, *args)


@pytest.mark.parametrize("cls, message", [
    (NoBackward, r"NoBackward\(1.5\) has no .backward"),
    (NoNumber, r"NoNumber\(1.5\) raised TypeError"),
    (Doubled, r"Doubled\(1.5\).data is 3.0, not 1.5"),
])
def test_a_class_that_is_no_engine_is_refused_with_a_reason(cls: Any, message: str) -> None:
    with pytest.raises(EngineShapeError, match=message):
        Engine(cls)


def test_constants_go_in_as_numbers_or_as_values_the_engine_can_take() -> None:
    x0 = Node(0.5, index=0)
    expr = Expression(_op("add", _op("add", x0, Node(2.0)), _op("sub", x0, Node(1.25))), [0.5])
    good, minimal = Engine(engines.Good), Engine(Minimal, ["+"])
    names = names_of(expr)
    assert list(good.lines(expr, names).values()) == [
        "x0 = Good(0.5)", "t0 = x0 + 2.0", "t1 = x0 - 1.25", "out = t0 + t1"]
    # no '-' and no numbers: x - 1.25 is written x + (-1.25), and each number as a Value
    assert list(minimal.lines(expr, names).values()) == [
        "x0 = Minimal(0.5)", "t0 = x0 + Minimal(2.0)", "t1 = x0 + Minimal(-1.25)", "out = t0 + t1"]
    built = minimal.build(expr)
    assert data_of(built[id(expr.output)].data) == expr.output.value


def test_a_negative_number_is_bracketed_where_python_would_read_it_wrongly() -> None:
    assert _text(-1.5, "Value", right=False) == "(-1.5)"  # (-1.5) ** x, not -(1.5 ** x)
    assert _text(-1.5, "Value", right=True) == "-1.5"  # x * -1.5
    assert _text("t0", "Value", right=False) == "t0"
    assert _text(engines.Good(2.0), "Good", right=True) == "Good(2.0)"


def test_the_printed_source_runs_and_prints_the_gradients() -> None:
    x0, x1 = Node(0.5, index=0), Node(-1.25, index=1)
    expr = Expression(_op("tanh", _op("mul", x0, x1)), [0.5, -1.25])
    engine = Engine(engines.Good)
    code = engine.source(expr, names_of(expr), {"x0": "a note"})
    assert code.splitlines()[0] == "from learner_engines import Good"
    assert code.splitlines()[-2:] == ["print(x0.grad)  # a note", "print(x1.grad)"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "source", "exec"), {})
    local = 1 - math.tanh(0.5 * -1.25) ** 2
    assert [float(v) for v in out.getvalue().split()] == pytest.approx([-1.25 * local, 0.5 * local], rel=1e-12)


def test_numbers_the_engine_holds_are_read_as_floats() -> None:
    assert data_of(3) == 3.0 and data_of("x") != data_of("x") and data_of(None) != data_of(None)
