"""The engine's semantics: graph structure, backward and grad, no_grad, errors, memory, depth."""

from __future__ import annotations

import asyncio
import fractions
import gc
import math
import sys
import threading
import weakref
from fractions import Fraction
from typing import Any, Callable, List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracegrad import DerivativeError, DomainError, Value, define_op, grad, no_grad, tanh, topological_order
from tracegrad.engine import is_grad_enabled, mode_context

import needs

finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


# --- structure


def test_value_holds_a_float_and_starts_with_zero_grad() -> None:
    v = Value(2, label="x")
    assert v.data == 2.0 and type(v.data) is float
    assert v.grad == 0.0 and v.label == "x" and v.op is None and v.inputs == ()
    assert repr(v) == "Value(data=2.0, grad=0.0)"


@pytest.mark.parametrize("data", [True, 3, 2.5, fractions.Fraction(1, 4)])
def test_real_numbers_are_converted_with_float(data: Any) -> None:
    assert Value(data).data == float(data)


def test_numpy_scalars_are_converted() -> None:
    np = needs.numpy()
    assert Value(np.float32(1.5)).data == 1.5
    assert Value(np.int64(7)).data == 7.0
    assert Value(np.float64(0.25)).data == 0.25


def _number_types() -> List[Callable[[float], Any]]:
    np = needs.numpy()
    return [float, np.float64, np.float32, lambda x: np.int64(round(x)), lambda x: round(x),
            lambda x: Fraction(x).limit_denominator(1000), lambda x: np.float16(x)]


@pytest.mark.parametrize("kind", range(7))
def test_gradients_are_always_plain_floats_whatever_number_type_comes_in(kind: int) -> None:
    """Every place a number enters: data, an exponent, a slope, a seed, a custom op's partials."""
    make = _number_types()[kind]
    x = Value(make(1.5))
    y = (x ** make(2.0)) * make(3.0) + (make(2.0) ** x) + x.leaky_relu(make(0.5)) + make(1.0) / x
    y.backward(make(1.0))
    assert type(x.grad) is float and type(y.data) is float
    (g,) = grad(y, [x])
    assert type(g) is float and g == x.grad
    np = needs.numpy()
    scaled = define_op("scaled", lambda v: v * 2.0, [lambda v, out: np.float64(2.0)], ["2"], register=False)
    z = Value(1.0)
    scaled(z).backward()
    assert type(z.grad) is float and z.grad == 2.0
    w = Value(3.0)
    (w ** np.float64(2)).backward()  # the case: .grad was an np.float64
    assert type(w.grad) is float and w.grad == 6.0


@pytest.mark.parametrize("bad", ["3", None, 1 + 2j, [1], {"a": 1}, b"1"])
def test_non_real_data_is_a_type_error_naming_the_type(bad: Any) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_label_must_be_text() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_inputs_are_ordered_and_keep_duplicates() -> None:
    x, y = Value(3.0), Value(4.0)
    assert (x * x).inputs == (x, x)
    assert (x - y).inputs == (x, y)
    assert (y - x).inputs == (y, x)
    sq = x * x
    sq.backward()
    assert x.grad == 6.0  # two edges, 2x


def test_nodes_hash_by_identity() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and len({a, b}) == 2
    assert a == a


def test_ops_record_their_op_and_parameter() -> None:
    x = Value(2.0)
    assert (x**3).op.name == "pow" and (x**3).param == 3
    assert x.leaky_relu(0.2).param == 0.2
    assert (x + 1).op.name == "add" and (x + 1).param is None
    assert (2**x).op.name == "vpow" and (2**x).inputs[1] is x


def test_functions_accept_numbers_and_values() -> None:
    x = Value(0.5)
    assert tanh(x).data == math.tanh(0.5)
    assert tanh(0.5).data == math.tanh(0.5)


# --- micrograd compatibility


def test_micrograd_positional_form_and_private_names() -> None:
    a, b = Value(2.0), Value(3.0)
    c = Value(5.0, (a, b), "+")
    assert c._prev == {a, b} and c._op == "+"
    assert c.inputs == (a, b)
    c.backward()  # micrograd gives such a node no derivative rule: nothing flows
    assert a.grad == 0.0 and c.grad == 1.0
    x = Value(2.0)
    assert (x * x)._prev == {x}
    assert (x**2)._op == "**2" and x.relu()._op == "ReLU" and (x + x)._op == "+" and x._op == ""


def test_micrograd_notebook_graph_walk() -> None:
    """The trace() of micrograd's drawing snippet, written against _prev and _op."""
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    o = (x1 * w1 + 1).tanh()
    nodes, edges = set(), set()

    def build(v: Value) -> None:
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(o)
    assert len(nodes) == 6 and len(edges) == 5
    assert sorted(n._op for n in nodes) == ["", "", "", "*", "+", "tanh"]


def test_micrograd_readme_example_numbers() -> None:
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert (f"{g.data:.4f}", f"{a.grad:.4f}", f"{b.grad:.4f}") == ("24.7041", "138.8338", "645.5773")


def test_micrograd_test_suite_more_ops_against_torch() -> None:
    """micrograd's own 'more ops' check, run with tracegrad's Value against PyTorch."""
    torch = needs.torch()

    def compute(lib: Any, a0: float, b0: float) -> Any:
        a, b = lib(a0), lib(b0)
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        g = g + 10.0 / f
        g.backward()
        return g, a, b

    g, a, b = compute(Value, -4.0, 2.0)
    gt, at, bt = compute(lambda x: torch.tensor([x], dtype=torch.float64, requires_grad=True), -4.0, 2.0)
    assert math.isclose(g.data, gt.item(), rel_tol=1e-12)
    assert math.isclose(a.grad, at.grad.item(), rel_tol=1e-12)
    assert math.isclose(b.grad, bt.grad.item(), rel_tol=1e-12)


@pytest.mark.needs("micrograd")  # skips before hypothesis runs, not inside an example
@given(st.lists(finite, min_size=2, max_size=4), st.data())
def test_same_numbers_as_micrograd_on_its_ops(xs: List[float], data: st.DataObject) -> None:
    """Random expressions over micrograd's ops give micrograd's values and gradients."""
    mg = needs.micrograd()
    ops = data.draw(st.lists(st.tuples(st.sampled_from("+-*r"), st.integers(0, 10), st.integers(0, 10)), max_size=12))

    def run(cls: Any) -> Any:
        leaves = [cls(x) for x in xs]
        nodes = list(leaves)
        for kind, i, j in ops:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            nodes.append(a + b if kind == "+" else a - b if kind == "-" else a * b if kind == "*" else a.relu())
        root = nodes[-1] * 1.5
        root.backward()
        return root.data, [leaf.grad for leaf in leaves]

    ours, theirs = run(Value), run(mg.engine.Value)
    assert math.isclose(ours[0], theirs[0], rel_tol=1e-12, abs_tol=1e-12)
    for g1, g2 in zip(ours[1], theirs[1]):
        assert math.isclose(g1, g2, rel_tol=1e-9, abs_tol=1e-9)


# --- backward semantics


def test_repeated_backward_doubles_leaves_and_keeps_interior() -> None:
    x = Value(3.0)
    xx = x * x
    y = xx * x
    y.backward()
    assert x.grad == 27.0 and xx.grad == 3.0 and y.grad == 1.0
    y.backward()
    assert x.grad == 54.0  # micrograd gives 72 here
    assert xx.grad == 3.0 and y.grad == 1.0


@given(finite, finite)
def test_two_backward_calls_give_exactly_twice_the_leaf_gradients(a: float, b: float) -> None:
    x, w = Value(a), Value(b)
    hidden = (x * w).tanh()
    y = hidden * x + w
    y.backward()
    first = (x.grad, w.grad, hidden.grad)
    y.backward()
    assert (x.grad, w.grad) == (2 * first[0], 2 * first[1])
    assert hidden.grad == first[2]


def test_backward_seed_gradient() -> None:
    x = Value(2.0)
    y = x * 5
    y.backward(0.5)
    assert x.grad == 2.5 and y.grad == 0.5


def test_backward_on_a_leaf_accumulates_the_seed() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_zero_grad_zeroes_the_whole_graph() -> None:
    x, w = Value(1.0), Value(2.0)
    y = (x * w).relu()
    y.backward()
    y.zero_grad()
    assert [n.grad for n in topological_order(y)] == [0.0] * 4


def test_topological_order_puts_inputs_first_and_root_last() -> None:
    x = Value(1.0)
    a = x * 2
    b = x + a
    c = a * b
    order = topological_order(c)
    assert order[-1] is c and len(order) == len(set(order)) == 5  # x, 2, a, b, c
    where = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for inp in node.inputs:
            assert where[id(inp)] < where[id(node)]


# --- grad()


def test_grad_leaves_dot_grad_untouched() -> None:
    x, y = Value(2.0), Value(-1.0)
    x.grad = 7.0
    out = x * y + x
    gx, gy = grad(out, [x, y])
    assert (gx, gy) == (0.0, 2.0)
    assert x.grad == 7.0 and y.grad == 0.0 and out.grad == 0.0


def test_grad_of_an_interior_node_and_of_several_outputs() -> None:
    x = Value(2.0)
    h = x * 3
    y = h * h
    assert grad(y, [h, x]) == [12.0, 36.0]
    assert grad([y, h], [x]) == [39.0]


def test_grad_unused_input() -> None:
    x, unused = Value(1.0), Value(2.0, label="u")
    with pytest.raises(ValueError, match="input 1 \\('u'\\) was not used"):
        grad(x * 2, [x, unused])
    assert grad(x * 2, [x, unused], allow_unused=True) == [2.0, None]


def test_grad_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="grad: inputs must be Values"):
        grad(Value(1.0), [1.0])  # type: ignore[list-item]


@given(st.floats(-3, 3, allow_nan=False))
def test_second_derivative_of_cube_is_6x(a: float) -> None:
    x = Value(a)
    (dx,) = grad(x**3, [x], create_graph=True)
    assert isinstance(dx, Value) and math.isclose(dx.data, 3 * a * a, rel_tol=1e-12, abs_tol=1e-12)
    (dxx,) = grad(dx, [x], create_graph=True)
    assert math.isclose(dxx.data, 6 * a, rel_tol=1e-12, abs_tol=1e-12)
    (dxxx,) = grad(dxx, [x])
    assert math.isclose(dxxx, 6.0, rel_tol=1e-12)


def test_hessian_of_a_small_function() -> None:
    """f = x²y + sin(xy): the Hessian from grad of grad, against the calculus."""
    a, b = 0.7, -1.3
    x, y = Value(a), Value(b)
    f = x * x * y + (x * y).sin()
    gx, gy = grad(f, [x, y], create_graph=True)
    hessian = [grad(g, [x, y]) for g in (gx, gy)]
    s, c = math.sin(a * b), math.cos(a * b)
    want = [[2 * b - b * b * s, 2 * a + c - a * b * s], [2 * a + c - a * b * s, -a * a * s]]
    for row, want_row in zip(hessian, want):
        for got, w in zip(row, want_row):
            assert math.isclose(got, w, rel_tol=1e-12, abs_tol=1e-12)


def test_newtons_method_finds_a_minimum() -> None:
    x = Value(2.0)
    for _ in range(20):
        f = x**4 - 3 * x**2 + x
        (g,) = grad(f, [x], create_graph=True)
        (h,) = grad(g, [x])
        x = Value(x.data - g.data / h)
    assert math.isclose(4 * x.data**3 - 6 * x.data + 1, 0.0, abs_tol=1e-12)


# --- no_grad and detach


def test_no_grad_makes_leaves() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x + 1
        assert not is_grad_enabled()
    assert y.data == 5.0 and y.op is None and y.inputs == ()
    assert is_grad_enabled()
    z = x * x
    assert z.inputs == (x, x)


def test_no_grad_as_decorator_with_and_without_parentheses() -> None:
    @no_grad()
    def f(v: Value) -> Value:
        return v * 2

    @no_grad
    def g(v: Value) -> Value:
        return v * 3

    x = Value(1.0)
    assert f(x).op is None and g(x).op is None and f.__name__ == "f"
    assert (x * 2).op is not None


def test_no_grad_nests_and_restores_on_error() -> None:
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_grad_enabled()


def test_no_grad_is_per_thread() -> None:
    barrier = threading.Barrier(2)
    seen = {}

    def worker(name: str, disable: bool) -> None:
        x = Value(1.0)
        if disable:
            with no_grad():
                barrier.wait()
                seen[name] = (x * 2).op is None
                barrier.wait()
        else:
            barrier.wait()
            seen[name] = (x * 2).op is None
            barrier.wait()

    threads = [threading.Thread(target=worker, args=("off", True)), threading.Thread(target=worker, args=("on", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"off": True, "on": False}


def test_no_grad_is_per_asyncio_task() -> None:
    async def inside() -> bool:
        with no_grad():
            await asyncio.sleep(0.01)
            return (Value(1.0) * 2).op is None

    async def outside() -> bool:
        await asyncio.sleep(0.005)
        return (Value(1.0) * 2).op is None

    async def main() -> List[bool]:
        return list(await asyncio.gather(inside(), outside()))

    assert asyncio.run(main()) == [True, False]


def test_detach_is_a_leaf_with_the_same_data() -> None:
    x = Value(3.0)
    y = (x * 2).detach()
    z = y * x
    z.backward()
    assert y.op is None and y.data == 6.0 and x.grad == 6.0


# --- errors


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Value(-2.0).log(), "log: input must be > 0, got -2.0"),
        (lambda: Value(0.0).log(), "log: input must be > 0, got 0.0"),
        (lambda: Value(-1.0).sqrt(), "sqrt: input must be >= 0, got -1.0"),
        (lambda: Value(1.0) / 0, "div: division by zero, got x=1.0, y=0.0"),
        (lambda: 1 / Value(0.0), "div: division by zero, got x=1.0, y=0.0"),
        (lambda: Value(0.0) ** -1, "pow: 0 cannot be raised to a negative power, got x=0.0, n=-1"),
        (lambda: Value(-8.0) ** (1 / 3), "pow: a negative base needs an integer exponent, got x=-8.0"),
        (lambda: Value(10.0) ** 400, "pow: result overflows a float, got x=10.0, n=400"),
        (lambda: Value(-2.0) ** Value(2.0), "vpow: base must be > 0"),
        (lambda: Value(1000.0).exp(), "exp: input too large, exp overflows a float (max ~709.78), got 1000.0"),
    ],
    ids=["log-neg", "log-zero", "sqrt", "div", "rdiv", "pow-zero", "pow-neg", "pow-overflow", "vpow", "exp"],
)
def test_domain_errors_name_the_op_and_value_and_build_nothing(build: Any, message: str) -> None:
    made: List[Value] = []
    with mode_context(on_node=made.append), pytest.raises(DomainError) as info:
        build()
    assert message in str(info.value)
    assert made == []


def test_derivative_undefined_in_backward_names_the_op_and_restores_leaves() -> None:
    x, w = Value(0.0), Value(2.0)
    w.grad = 1.0
    y = (x * w).sqrt() + w
    with pytest.raises(DerivativeError, match="sqrt: local derivative undefined at 0.0"):
        y.backward()
    assert w.grad == 1.0 and x.grad == 0.0
    with pytest.raises(DerivativeError, match="sqrt"):
        grad(y, [x])


def test_unsupported_operand_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Value(1.0) + "a"  # type: ignore[operator]
    with pytest.raises(TypeError):
        [1] * Value(1.0)  # type: ignore[operator]


def test_nan_and_inf_flow_as_python_floats_allow() -> None:
    x = Value(float("nan"))
    y = x * 2 + 1
    y.backward()
    assert math.isnan(y.data) and x.grad == 2.0
    z = Value(float("inf")) * 2
    assert z.data == float("inf")


# --- memory and depth


def test_graph_is_freed_without_the_cycle_collector() -> None:
    gc.disable()
    try:
        x = Value(1.5)
        y = x
        for _ in range(100):
            y = (y * x).tanh() + 1
        y.backward()
        probe = weakref.ref(y.inputs[0])
        root = weakref.ref(y)
        del y
        assert probe() is None and root() is None
        assert x.grad != 0.0
    finally:
        gc.enable()


def test_values_have_no_instance_dict() -> None:
    with pytest.raises(AttributeError):
        Value(1.0).extra = 1  # type: ignore[attr-defined]


def _long_chain_backward(n: int) -> None:
    assert sys.getrecursionlimit() <= 10_000
    step = Value(1.0)
    x = y = Value(0.0)
    for _ in range(n):
        y = y + step
    y.backward()
    assert y.data == float(n) and step.grad == float(n) and x.grad == 1.0


def test_million_op_chain_under_the_default_recursion_limit() -> None:
    _long_chain_backward(1_000_000)


@pytest.mark.slow
def test_ten_million_op_chain() -> None:
    _long_chain_backward(10_000_000)
