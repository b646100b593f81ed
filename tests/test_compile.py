"""compile: the generated code gives the eager engine's numbers, replays new data, refuses nothing silently."""

from __future__ import annotations

import importlib
import math
import random
from fractions import Fraction
from typing import Any, Callable, List, Sequence

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad.compile import compile
from tracegrad.engine import OPS, Value, apply, linear, value_sum
from tracegrad.engine.errors import DerivativeError, DomainError
from tracegrad.nn import MLP
from tracegrad.testing import Expression, expressions, mlps

import needs

coords = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))


def eager_grads(fn: Callable[[], Value], leaves: Sequence[Value]) -> List[float]:
    for leaf in leaves:
        leaf.grad = 0.0
    out = fn()
    out.backward()
    return [out.data] + [leaf.grad for leaf in leaves]


def compiled_grads(compiled: Any, leaves: Sequence[Value], *args: Any) -> List[float]:
    for leaf in leaves:
        leaf.grad = 0.0
    out = compiled(*args)
    return [out] + [leaf.grad for leaf in leaves]


# --- generated expression graphs


@given(expressions(n_inputs=3, max_leaves=10))
def test_compiled_expressions_agree_with_eager(e: Expression) -> None:
    xs = e.leaves()
    f = compile(lambda: e(*xs))
    want = eager_grads(lambda: e(*xs), xs)
    got = compiled_grads(f, xs)
    assert all(close(a, b) for a, b in zip(got, want)), (got, want, f.source)
    assert close(f.forward(), want[0])


@given(expressions(n_inputs=3, max_leaves=10), st.data())
def test_arguments_are_inputs_replayed_not_baked_in(e: Expression, data: st.DataObject) -> None:
    # x0 is an argument; x1, x2 are captured leaves. Replay at a second point of x0 (chosen
    # where the expression is defined: a nearby point in the same domain).
    leaves = e.leaves()[1:]
    f = compile(lambda x0: e(x0, *leaves))
    assert close(f(e.inputs[0]), e(e.inputs[0], *e.inputs[1:]))
    x0 = e.inputs[0] + data.draw(st.floats(-1e-3, 1e-3), label="shift")
    try:
        want = eager_grads(lambda: e(Value(x0), *leaves), leaves)
    except (DomainError, ArithmeticError):
        return
    got = compiled_grads(f, leaves, x0)
    assert f.traces == 1
    assert all(close(a, b) for a, b in zip(got, want)), (got, want, f.source)


@given(st.lists(coords, min_size=3, max_size=3), st.lists(coords, min_size=3, max_size=3))
@example([0.5, -1.0, 2.0], [0.0, 0.0, 0.0])
def test_gradients_agree_with_central_differences(point: List[float], shift: List[float]) -> None:
    # an oracle independent of the engine: differences of the compiled forward itself
    ws = [Value(w) for w in point]
    f = compile(lambda x: ((ws[0] * x).tanh() * ws[1] + (ws[2] * ws[2]).sigmoid() * x).exp())
    x = 0.3
    f(x)
    h = 1e-6
    for i, w in enumerate(ws):
        base = w.data
        w.data = base + h
        up = f.forward(x)
        w.data = base - h
        down = f.forward(x)
        w.data = base
        numeric = (up - down) / (2 * h)
        assert math.isclose(w.grad, numeric, rel_tol=1e-5, abs_tol=1e-6), (i, w.grad, numeric)
    del shift


# --- models: fine-grained and fused, against eager and PyTorch


models = st.sampled_from([[1], [2], [3, 1], [2, 2]]).flatmap(lambda nouts: mlps(nin=(1, 3), nouts=nouts))


@given(models, st.integers(1, 4), st.data())
def test_compiled_models_agree_with_eager(model_xs: Any, batch: int, data: st.DataObject) -> None:
    model, xs = model_xs
    X = [xs] + [data.draw(st.lists(coords, min_size=len(xs), max_size=len(xs))) for _ in range(batch - 1)]

    def loss(X: Sequence[Sequence[Any]]) -> Value:
        outs = [model(row) for row in X]
        return value_sum([o if isinstance(o, Value) else value_sum(o) for o in outs]) * 0.5

    params = model.parameters()
    want = eager_grads(lambda: loss([[Value(a) for a in row] for row in X]), params)
    got = compiled_grads(compile(loss), params, X)
    assert all(close(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("columns", [False, True])
def test_both_fused_backward_strategies_agree_with_eager(columns: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # the module by name: tracegrad.compile is also the function's name at the top level
    monkeypatch.setattr(importlib.import_module("tracegrad.compile.codegen"), "_COLUMNS", columns)
    rng = random.Random(3)
    model = MLP(3, [5, 4, 1], rng=7, fused=True)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    y = [rng.choice([-1.0, 1.0]) for _ in range(6)]

    def loss(X: Any, y: Any) -> Value:
        losses = [(1 + -yi * model(x)).relu() for x, yi in zip(X, y)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())

    params = model.parameters()
    f = compile(loss, batch=False)  # the straight-line code, whose fused backward this is about
    want = eager_grads(lambda: loss([[Value(a) for a in row] for row in X], [Value(v) for v in y]), params)
    assert all(close(a, b) for a, b in zip(compiled_grads(f, params, X, y), want))
    assert ("_dot_columns" in f.source) is columns


def test_a_training_loop_matches_eager_step_for_step() -> None:
    torch = needs.torch()
    rng = random.Random(5)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    y = [1.0 if a * b > 0 else -1.0 for a, b in X]
    models = [MLP(2, [8, 8, 1], rng=11, fused=fused) for fused in (False, True)]
    eager = MLP(2, [8, 8, 1], rng=11)
    reference = eager.to_torch().double()

    def loss_of(model: MLP) -> Callable[..., Value]:
        def loss(X: Any, y: Any) -> Value:
            losses = [(1 + -yi * model(x)).relu() for x, yi in zip(X, y)]
            return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())
        return loss

    steps = [compile(loss_of(m)) for m in models]
    for k in range(5):
        lr = 1.0 - 0.9 * k / 5
        out = loss_of(eager)([[Value(a) for a in row] for row in X], y)
        eager.zero_grad()
        out.backward()
        for model, step in zip(models, steps):
            model.zero_grad()
            assert close(step(X, y), out.data)
            for p, q in zip(model.parameters(), eager.parameters()):
                assert close(p.grad, q.grad)
                p.data -= lr * p.grad
        scores = reference(torch.tensor(X, dtype=torch.float64)).reshape(-1)
        t_loss = torch.relu(1 - torch.tensor(y, dtype=torch.float64) * scores).mean()
        t_loss = t_loss + 1e-4 * sum((p * p).sum() for p in reference.parameters())
        assert math.isclose(t_loss.item(), out.data, rel_tol=1e-12)
        for q in eager.parameters():
            q.data -= lr * q.grad
        with torch.no_grad():
            reference.load_state_dict(eager.to_torch().double().state_dict())


# --- shapes, semantics, errors


def test_a_new_shape_is_traced_anew_and_an_old_one_replayed() -> None:
    w = Value(2.0)
    f = compile(lambda xs: sum(w * x for x in xs))
    assert f([1.0, 2.0]) == 6.0 and f.traces == 1
    assert f([1.0, 2.0, 3.0]) == 12.0 and f.traces == 2
    assert f((1.0, 2.0, 3.0)) == 12.0 and f.traces == 3  # a tuple is another shape
    assert f([4.0, 5.0]) == 18.0 and f.traces == 3
    assert w.grad == 3.0 + 6.0 + 6.0 + 9.0


def test_leaves_accumulate_across_calls_as_backward_does() -> None:
    x = Value(3.0)
    f = compile(lambda: x * x * x)
    f()
    f()
    assert x.grad == 54.0
    assert f.leaves == (x,)


def test_parameters_are_read_afresh_at_every_call() -> None:
    w = Value(1.0)
    f = compile(lambda x: w * x)
    assert f(2.0) == 2.0
    w.data = 5.0
    assert f(2.0) == 10.0


def test_the_source_is_readable_python() -> None:
    w = Value(0.5)
    f = compile(lambda x: (w * x).tanh())
    assert f.source == ""
    f(1.0)
    assert "def forward_backward(X, P):" in f.source
    assert "_tanh(" in f.source and "def forward(X, P):" in f.source


def test_numbers_of_any_type_eager_takes_are_arguments() -> None:
    np = needs.numpy()
    w = Value(2.0)
    f = compile(lambda a, b: w * a + b)
    assert f(3, 1.5) == 7.5
    for a, b in ((True, Fraction(1, 2)), (np.float64(1.0), np.float32(0.5)), (np.int64(1), np.bool_(False))):
        assert f(a, b) == (w * Value(a) + Value(b)).data
    assert f.traces == 1  # every number is an input of the one program


def test_a_value_as_an_argument_is_a_clear_error_not_a_silent_constant() -> None:
    w = Value(2.0)
    f = compile(lambda a: w * a)
    x = Value(1.5)
    with pytest.raises(TypeError, match=r"compile: an argument is a Value .*pass numbers \(its \.data\)"):
        f(x)
    with pytest.raises(TypeError, match="an argument is a Value"):
        f([1.0, [x]])
    assert x.grad == 0.0 and w.grad == 0.0


@pytest.mark.parametrize("bad", ["3", None, {"a": 1}, 1 + 2j])
def test_arguments_that_are_not_numbers_are_refused(bad: Any) -> None:
    f = compile(lambda x: Value(1.0) * 2.0)
    with pytest.raises(TypeError, match="compile: arguments must be numbers"):
        f(bad)


def test_a_function_returning_no_value_is_refused() -> None:
    with pytest.raises(TypeError, match="compile: the function must return a Value, got float"):
        compile(lambda x: 2.0)(1.0)
    with pytest.raises(TypeError, match="compile: expected a function"):
        compile(3)  # type: ignore[arg-type]


def test_nodes_without_a_rule_are_refused() -> None:
    a = Value(1.0)
    with pytest.raises(TypeError, match="no forward rule"):
        compile(lambda: Value(2.0, (a,), "f") * 2.0)()


def test_domain_errors_name_the_op_and_value() -> None:
    f = compile(lambda x: x.log())
    assert f(1.0) == 0.0
    with pytest.raises(DomainError, match=r"log: input must be > 0, got -1\.0"):
        f(-1.0)
    with pytest.raises(DomainError, match="division by zero"):
        compile(lambda x, y: x / y)(1.0, 0.0)


def test_undefined_derivatives_raise_and_leave_gradients_alone() -> None:
    w = Value(0.0)
    w.grad = 7.0
    f = compile(lambda x: (w * x).sqrt())
    with pytest.raises(DerivativeError, match="sqrt"):
        f(1.0)
    assert w.grad == 7.0


def test_inf_and_nan_give_the_eager_numbers() -> None:
    # a dead ReLU (zero upstream) must still give inf * 0 = nan, as the eager engine does
    w, b = Value(-1.0), Value(-1e300)
    f = compile(lambda x: linear([w], [x], b).relu() + w)
    got = f(float("inf"))
    want_w = Value(-1.0)
    out = linear([want_w], [Value(float("inf"))], Value(-1e300)).relu() + want_w
    out.backward()
    assert close(got, out.data) and close(w.grad, want_w.grad)
    assert math.isnan(w.grad)


def test_an_inf_made_inside_the_graph_reaches_the_gradients_as_in_eager() -> None:
    # x * x overflows to inf inside the graph; the ReLU after it is dead, so the fused node's
    # upstream is 0, and its step must still be taken: inf * 0.0 is NaN in the eager engine
    def fn(x: Value, w: Value, b: Value) -> Value:
        return linear([w], [x * x], b).relu() + w

    w, b = Value(-1.0), Value(0.0)
    got = compile(lambda x: fn(x, w, b))(1e200)
    want_w, want_b = Value(-1.0), Value(0.0)
    want = fn(Value(1e200), want_w, want_b)
    want.backward()
    assert close(got, want.data) and close(w.grad, want_w.grad) and close(b.grad, want_b.grad)
    assert math.isnan(w.grad)


@pytest.mark.parametrize("bad", [float("nan"), float("inf") - float("inf")])
def test_log_of_nan_is_nan_as_in_eager(bad: float) -> None:
    assert math.isnan(Value(bad).log().data)
    f = compile(lambda x: (x * 2.0).log())
    assert f(0.5) == 0.0  # traced here; the nan below is replayed
    assert math.isnan(f(bad))
    with pytest.raises(DomainError, match=r"log: input must be > 0, got -1.0"):
        f(-0.5)


def test_a_custom_op_is_called_through_its_table_entry() -> None:
    from tracegrad.engine import apply
    from tracegrad.engine.ops import Op

    cube = Op("cube", "³", 1, lambda x: x * x * x, lambda x, out: (3 * x * x,), ("3 * x**2",))
    w = Value(2.0)
    f = compile(lambda x: apply(cube, w) * x)
    assert f(1.5) == 12.0 and w.grad == 18.0


def test_static_arguments_are_passed_as_they_are_and_retrace_when_they_change() -> None:
    w = Value(2.0)
    seen: List[Any] = []

    @compile(static_argnums=[1])
    def f(x: Value, labels: Any) -> Value:
        seen.append(labels)
        return sum(w * x * t for t in labels)

    assert f(1.5, [1.0, -1.0, 2.0]) == 6.0 and seen == [[1.0, -1.0, 2.0]]
    assert f(0.5, [1.0, -1.0, 2.0]) == 2.0 and f.traces == 1  # replayed with new data
    assert f(0.5, [1.0, 1.0, 2.0]) == 4.0 and f.traces == 2  # another static value: traced anew
    assert w.grad == 1.5 * 2.0 + 0.5 * 2.0 + 0.5 * 4.0
    with pytest.raises(TypeError, match="static argument must be hashable"):
        f(1.0, [{"a": 1}])


def test_the_losses_module_compiles_with_static_labels() -> None:
    from tracegrad.nn.losses import hinge, l2_penalty

    model = MLP(2, [4, 1], rng=3, fused=True)
    X = [[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0]]
    y = [1, -1, 1]

    def loss(X: Any, y: Any) -> Value:
        return hinge([model(x) for x in X], y) + l2_penalty(model.parameters(), 1e-4)

    params = model.parameters()
    want = eager_grads(lambda: loss([[Value(a) for a in row] for row in X], y), params)
    got = compiled_grads(compile(loss, static_argnums=[1]), params, X, y)
    assert all(close(a, b) for a, b in zip(got, want))


# --- constants, replay errors and arguments at the edges


def _exponents() -> List[Any]:
    np = needs.numpy()
    return [np.float64(2.0), np.float32(2.0), np.int64(2), Fraction(1, 2), 2, 0.5, float("inf"), float("-inf"),
            float("nan"), -0.0, np.float64("nan"), Fraction(-3, 2)]


@pytest.mark.parametrize("index", range(12))
def test_any_exponent_is_written_into_the_code_as_a_number(index: int) -> None:
    exponent = _exponents()[index]
    w_eager, w_compiled = Value(1.5), Value(1.5)
    eager = w_eager ** exponent
    eager.backward()
    f = compile(lambda: w_compiled ** exponent)
    got = f()
    def same(a: float, b: float) -> bool:
        return (math.isnan(a) and math.isnan(b)) or a == b

    assert same(got, eager.data) and same(w_compiled.grad, w_eager.grad), f.source
    assert type(w_compiled.grad) is float
    assert same(f(), eager.data)  # replayed, not traced again
    assert f.traces == 1


@pytest.mark.parametrize("slope", [float("inf"), float("-inf"), float("nan"), Fraction(1, 10), 0.0])
def test_any_leaky_relu_slope_is_written_into_the_code(slope: Any) -> None:
    for x in (-2.0, 3.0):
        a, b = Value(x), Value(x)
        eager = a.leaky_relu(slope)
        eager.backward()
        f = compile(lambda b=b: b.leaky_relu(slope) * 1.0)
        got = f()
        assert (math.isnan(got) and math.isnan(eager.data)) or got == eager.data
        assert (math.isnan(b.grad) and math.isnan(a.grad)) or b.grad == a.grad


SPECIAL = [float("inf"), float("-inf"), float("nan"), 0.0, -0.0, 1e308, -1e308, 709.0, 710.0, -1.0, 2.0, 5e-324]


def _eager(op: Any, args: List[float], p: Any) -> Any:
    """The eager engine's answer: (output, gradients), or the type of error it raises."""
    leaves = [Value(a) for a in args]
    try:
        out = apply(op, *leaves, param=p)
        out.backward()
    except DomainError as exc:
        return type(exc)
    return [out.data, *(v.grad for v in leaves)]


def _compiled(op: Any, args: List[float], p: Any) -> Any:
    """The same from compiled code, traced at ordinary numbers and replayed at ``args``."""
    leaves = [Value(1.0) for _ in args]
    h = compile(lambda: apply(op, *leaves, param=p))
    try:
        h()
    except DomainError:  # 1.0 is outside the domain (pow of a negative exponent is not)
        for v in leaves:
            v.data = 0.5
        h()
    for v, a in zip(leaves, args):
        v.data, v.grad = a, 0.0
    try:
        out = h()
    except DomainError as exc:
        return type(exc)
    assert h.traces == 1
    return [out, *(v.grad for v in leaves)]


SPECIAL = [float("inf"), float("-inf"), float("nan"), 0.0, -0.0, 1e308, -1e308, 709.0, 710.0, -1.0, 2.0, 5e-324]


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity in (1, 2) and op.forward is not None))
def test_replay_raises_exactly_where_eager_raises(name: str) -> None:
    """Every op at the special values, forward and backward: compiled code raises (the eager
    engine's error) exactly where eager raises, and gives eager's numbers everywhere else."""
    op = OPS[name]
    for p in [None] if op.param is None else [0.5, 2, -1.5, float("inf"), float("nan")]:
        for x in SPECIAL:
            for y in SPECIAL if op.arity == 2 else [None]:
                args = [x] if y is None else [x, y]
                want, got = _eager(op, args, p), _compiled(op, args, p)
                if isinstance(want, type) or isinstance(got, type):
                    assert got is want, (name, args, p, got, want)
                else:
                    for a, b in zip(got, want):
                        assert (math.isnan(a) and math.isnan(b)) or a == b, (name, args, p, got, want)


def test_a_nan_static_argument_is_traced_once_and_signed_zeros_are_told_apart() -> None:
    w = Value(1.0)
    f = compile(lambda x, k: w * x / k, static_argnums=[1])
    for _ in range(100):
        assert math.isnan(f(1.0, float("nan")))
    assert f.traces == 1
    zero = compile(lambda x, k: w * x + k, static_argnums=[1])
    assert zero(1.0, 0.0) == 1.0 and zero(1.0, -0.0) == 1.0
    assert zero.traces == 2  # 0.0 and -0.0 are different constants (1/0.0 and 1/-0.0 differ)
    sign = compile(lambda x, k: w * x * math.copysign(1.0, k), static_argnums=[1])
    assert sign(1.0, 0.0) == 1.0 and sign(1.0, -0.0) == -1.0


def test_negative_static_argnums_count_from_the_end_and_bad_ones_are_refused() -> None:
    w = Value(2.0)
    f = compile(lambda x, k: w * x * k, static_argnums=[-1])
    assert f.static_argnums == frozenset({1})
    assert f(3.0, 2) == 12.0 and f(3.0, 3) == 18.0 and f.traces == 2
    with pytest.raises(ValueError, match="static_argnums=2, but fn takes 2 positional argument"):
        compile(lambda x, k: w * x, static_argnums=[2])
    with pytest.raises(ValueError, match="static_argnums=-3, but fn takes 2"):
        compile(lambda x, k: w * x, static_argnums=[-3])
    with pytest.raises(ValueError, match="counts from the end of fn's parameters, but fn takes any number"):
        compile(lambda *xs: w * xs[0], static_argnums=[-1])
    with pytest.raises(TypeError, match="static_argnums must be ints"):
        compile(lambda x: w * x, static_argnums=["0"])  # type: ignore[list-item]
