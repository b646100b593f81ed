"""compile on batches: one per-sample program, looped (the eager engine's numbers bit for bit) or
vectorised with NumPy (to 1e-12 of the gradients' scale), and straight-line code when the graph
is not a batch."""

from __future__ import annotations

import gc
import math
import random
import subprocess
import sys
import weakref
from typing import Any, Callable, List, Sequence, Tuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad import MLP, Value, linear
from tracegrad.compile import compile
from tracegrad.engine import DerivativeError, DomainError, define_op
from tracegrad.nn.losses import hinge, l2_penalty, mse

import needs

SPECIAL = [0.0, -0.0, 1e308, -1e308, 1e-300, math.inf, -math.inf, math.nan]
coords = st.one_of(st.floats(-3.0, 3.0), st.sampled_from(SPECIAL))
plain = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


def bits(x: float) -> str:
    return "nan" if math.isnan(x) else x.hex()


def close(a: float, b: float, scale: float) -> bool:
    """Within 1e-12 of the gradients' scale (a cancelling gradient is small against it), or both NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-12 * max(scale, abs(b), 1e-300)


def svm_loss(model: Any, params: List[Value]) -> Callable[..., Value]:
    """micrograd's demo loss: mean hinge over the batch plus 1e-4 L2."""
    def loss(X: Any, y: Any) -> Value:
        scores = [model(x) for x in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
    return loss


def eager(fn: Callable[..., Value], params: Sequence[Value], *args: Any) -> List[float]:
    for p in params:
        p.grad = 0.0
    out = fn(*[_values(a) for a in args])
    out.backward()
    return [out.data] + [p.grad for p in params]


def compiled(f: Any, params: Sequence[Value], *args: Any) -> List[float]:
    for p in params:
        p.grad = 0.0
    out = f(*args)
    return [out] + [p.grad for p in params]


def _values(a: Any) -> Any:
    if isinstance(a, (list, tuple)):
        return [_values(x) for x in a]
    return Value(a)


def agree(got: List[float], want: List[float], exact: bool) -> bool:
    if exact:
        return [bits(0.0 + g) for g in got] == [bits(0.0 + w) for w in want]
    scale = max([abs(w) for w in want if math.isfinite(w)] or [1.0])
    return all(close(a, b, scale) for a, b in zip(got, want))


models = st.sampled_from(["fused", "fine", "linear"])


def make(kind: str, seed: int = 7) -> Tuple[Any, List[Value]]:
    """micrograd's MLP(2, [16, 16, 1]): tracegrad's fused MLP (a node per neuron), fine-grained, or
    fused with ``linear`` and a ReLU node."""
    if kind == "linear":
        inner = MLP(2, [16, 16, 1], rng=seed)
        layers = [[(n.w, n.b) for n in layer.neurons] for layer in inner.layers]

        def model(x: Any) -> Any:
            for i, layer in enumerate(layers):
                x = [linear(ws, x, b) for ws, b in layer]
                x = [a.relu() for a in x] if i < len(layers) - 1 else x
            return x[0]
        return model, inner.parameters()
    mlp = MLP(2, [16, 16, 1], rng=seed, fused=kind == "fused")
    return mlp, mlp.parameters()


@pytest.mark.parametrize("vectorise", [False, True])
@given(models, st.integers(2, 12), st.data())
@example("fused", 3, None)
def test_micrograds_step_on_any_batch(vectorise: bool, kind: str, n: int, data: Any) -> None:
    if vectorise:
        needs.numpy()
    rng = random.Random(n)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    if data is not None:  # rows of special numbers: inf, nan, signed zeros, huge and tiny
        X = [data.draw(st.lists(coords, min_size=2, max_size=2)) for _ in range(n)]
    y = [rng.choice([-1.0, 1.0]) for _ in range(n)]
    model, params = make(kind)
    loss = svm_loss(model, params)
    f = compile(loss, vectorise=vectorise)
    got = compiled(f, params, X, y)
    assert ("NumPy" in f.plan) is vectorise and "straight-line" not in f.plan, f.plan
    assert agree(got, eager(loss, params, X, y), exact=not vectorise), f.source[:2000]


def test_straight_line_code_of_relu_neurons_on_special_rows_is_eager_bit_for_bit() -> None:
    X = [[math.inf, 0.5], [math.nan, 1.0], [0.0, 0.0], [-1e308, 1e308], [0.3, -0.2], [-0.0, 2.0]]
    y = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
    model, params = make("fused")
    loss = svm_loss(model, params)
    f = compile(loss, batch=False)
    assert agree(compiled(f, params, X, y), eager(loss, params, X, y), exact=True)
    assert "straight-line" in f.plan


@pytest.mark.parametrize("vectorise", [False, True])
def test_new_data_and_updated_parameters_are_replayed(vectorise: bool) -> None:
    if vectorise:
        needs.numpy()
    model, params = make("fused")
    loss = svm_loss(model, params)
    f = compile(loss, vectorise=vectorise)
    rng = random.Random(5)
    for _ in range(3):
        X = [[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(30)]
        y = [rng.choice([-1.0, 1.0]) for _ in range(30)]
        for p in params:
            p.data += 0.01
        assert agree(compiled(f, params, X, y), eager(loss, params, X, y), exact=not vectorise)
    assert f.traces == 1


@pytest.mark.parametrize("vectorise", [False, True])
@pytest.mark.parametrize("fused", [False, True])
def test_targets_captured_as_numbers_are_per_sample_constants(vectorise: bool, fused: bool) -> None:
    if vectorise:
        needs.numpy()
    rng = random.Random(3)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(25)]
    Y = [rng.uniform(-1, 1) for _ in range(25)]
    model = MLP(3, [5, 4, 1], activation="tanh", rng=7, fused=fused)
    params = model.parameters()

    def fn(X: Any) -> Value:
        return mse([model(x) for x in X], Y) + l2_penalty(params)

    f = compile(fn, vectorise=vectorise)
    assert agree(compiled(f, params, X), eager(fn, params, X), exact=not vectorise)
    assert "25 samples" in f.plan


def test_a_fused_sum_over_the_batch_and_static_labels() -> None:
    X = [[0.5, -1.0], [1.5, 0.25], [-0.5, 2.0], [0.0, 1.0]]
    y = [1, -1, 1, -1]
    model = MLP(2, [4, 1], rng=3, fused=True)
    params = model.parameters()

    def fn(X: Any, y: Any) -> Value:
        return hinge([model(x) for x in X], y) + l2_penalty(params, 1e-4)

    f = compile(fn, static_argnums=[1], vectorise=False)
    assert agree(compiled(f, params, X, y), eager(lambda X: fn(X, y), params, X), exact=True)
    assert f.plan.startswith("a loop over 4 samples")


@pytest.mark.parametrize("vectorise", [False, True])
def test_the_code_does_not_grow_with_the_batch(vectorise: bool) -> None:
    if vectorise:
        needs.numpy()
    model, params = make("fused")
    loss = svm_loss(model, params)
    sizes = []
    for n in (10, 200):
        f = compile(loss, vectorise=vectorise)
        f([[0.1 * i, -0.2 * i] for i in range(n)], [1.0] * n)
        sizes.append(f.source.replace(f"traced at {n} samples", "").replace(f"full({n}", "full(").count("\n"))
    assert sizes[0] == sizes[1]
    straight = compile(loss, batch=False)
    straight([[0.1, 0.2]] * 10, [1.0] * 10)
    assert "straight-line" in straight.plan and straight.source.count("\n") > 10 * sizes[0] // 100


@pytest.mark.parametrize("why, fn", [
    ("differs", lambda w: lambda xs: sum((x * w if i % 2 else x * w * w) for i, x in enumerate(xs))),
    ("mixes samples", lambda w: lambda xs: sum(x * w for x in xs) + xs[0] * xs[1]),
    ("interleave", lambda w: lambda xs: sum(x * w for x in reversed(xs))),  # the last sample first
    ("parameters alone", lambda w: (lambda w2: lambda xs: sum(x * w2 for x in xs))(w * 2.0)),
])
def test_what_is_not_a_batch_compiles_straight_line(why: str, fn: Callable[[Value], Any]) -> None:
    w = Value(0.5)
    f = compile(fn(w))
    xs = [1.0, 2.0, 3.0]
    got = compiled(f, [w], xs)
    assert "straight-line" in f.plan and why in f.plan, f.plan
    assert agree(got, eager(lambda xs: fn(w)(xs), [w], xs), exact=True)


def test_numpy_arrays_are_batches() -> None:
    np = needs.numpy()
    model, params = make("fused")
    loss = svm_loss(model, params)
    rng = random.Random(2)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(40)]
    y = [rng.choice([-1.0, 1.0]) for _ in range(40)]
    f = compile(loss)
    from_arrays = compiled(f, params, np.array(X), np.array(y))
    assert agree(from_arrays, eager(loss, params, X, y), exact=False)
    assert agree(compiled(f, params, X, y), from_arrays, exact=False)


def test_an_op_without_an_array_form_runs_as_the_loop() -> None:
    needs.numpy()
    cube = define_op("cube_batch", lambda x: x * x * x, [lambda x, out: 3 * x * x], ["3 * x**2"], register=False)
    w = Value(0.7)
    f = compile(lambda xs: sum(cube(w * x) for x in xs))
    want = eager(lambda xs: sum(cube(w * x) for x in xs), [w], [0.5, 1.0, 1.5])
    assert agree(compiled(f, [w], [0.5, 1.0, 1.5]), want, exact=True)
    assert f.plan.startswith("a loop")
    with pytest.raises(TypeError, match="vectorise=True.*cube_batch"):
        compile(lambda xs: sum(cube(w * x) for x in xs), vectorise=True)([0.5, 1.0])


@pytest.mark.parametrize("vectorise", [False, True])
def test_errors_name_the_op_and_the_value_and_leave_gradients_alone(vectorise: bool) -> None:
    if vectorise:
        needs.numpy()
    w = Value(1.0)
    w.grad = 7.0
    f = compile(lambda xs: sum((w * x).log() for x in xs), vectorise=vectorise)
    assert f([1.0, 2.0]) == math.log(2.0)
    with pytest.raises(DomainError, match=r"log: input must be > 0, got -3\.0"):
        f([1.0, -3.0])
    g = compile(lambda xs: sum((w * x).sqrt() for x in xs), vectorise=vectorise)
    with pytest.raises(DerivativeError, match="sqrt"):
        g([1.0, 0.0])
    assert w.grad == 7.0 + 2.0  # from the one call that succeeded: d/dw log(w*x) = 1/w, twice


def test_the_program_keeps_no_traced_node_alive() -> None:
    model, params = make("fused")
    traced: List[Any] = []

    def loss(X: Any, y: Any) -> Value:
        out = svm_loss(model, params)(X, y)
        traced.append(weakref.ref(out))
        return out

    for vectorise in (False, True) if needs.has_numpy() else (False,):
        f = compile(loss, vectorise=vectorise)
        f([[0.1, 0.2], [0.3, -0.4], [1.0, 0.5]], [1.0, -1.0, 1.0])
        gc.collect()
        assert traced[-1]() is None


def test_prepare_writes_the_program_without_running_it() -> None:
    w = Value(2.0)
    f = compile(lambda xs: sum(w * x for x in xs), vectorise=False)
    assert f.prepare([1.0, 2.0, 3.0]).startswith("a loop over 3 samples") and w.grad == 0.0
    assert f([1.0, 2.0, 3.0]) == 12.0 and f.traces == 1 and w.grad == 6.0


def test_leaves_accumulate_across_calls_as_backward_does() -> None:
    w = Value(2.0)
    f = compile(lambda xs: sum(w * x * x for x in xs), vectorise=False)
    f([1.0, 2.0])
    f([1.0, 2.0])
    assert w.grad == 2 * (1.0 + 4.0) and w in f.leaves


def test_without_numpy_a_batch_runs_as_the_loop() -> None:
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from tracegrad import Value, compile\n"
        "w = Value(0.5)\n"
        "f = compile(lambda xs: sum((w * x).tanh() for x in xs))\n"
        "f([1.0, 2.0, 3.0])\n"
        "print(f.plan)\n"
        "try:\n"
        "    compile(lambda xs: sum(w * x for x in xs), vectorise=True)([1.0, 2.0])\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    plan, error = done.stdout.strip().splitlines()
    assert plan.startswith("a loop over 3 samples") and "pip install 'tracegrad[fast]'" in error


ARRAY_OPS: List[Tuple[str, Callable[[Value, Value], Value]]] = [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("neg", lambda a, b: -a), ("pow 2", lambda a, b: a ** 2),
    ("pow -1.5", lambda a, b: a ** -1.5), ("pow 0.5", lambda a, b: a ** 0.5), ("exp", lambda a, b: a.exp()),
    ("log", lambda a, b: a.log()), ("sqrt", lambda a, b: a.sqrt()), ("tanh", lambda a, b: a.tanh()),
    ("sigmoid", lambda a, b: a.sigmoid()), ("relu", lambda a, b: a.relu()),
    ("leaky_relu", lambda a, b: a.leaky_relu(0.1)), ("sin", lambda a, b: a.sin()), ("cos", lambda a, b: a.cos()),
    ("abs", lambda a, b: abs(a)), ("step", lambda a, b: a.step()), ("sign", lambda a, b: a.sign()),
]


@pytest.mark.parametrize("name", [name for name, _ in ARRAY_OPS])
def test_every_ops_array_form_is_the_eager_engines_on_special_numbers(name: str) -> None:
    """Each op's array form, forward and backward, against the eager engine on a row that holds
    inf, NaN, signed zeros, huge or tiny numbers: the same numbers (NaN where eager has NaN), and
    an error of the same type where eager raises one."""
    needs.numpy()
    op = dict(ARRAY_OPS)[name]
    w, v = Value(1.0), Value(1.0)  # w * x is x itself, bit for bit

    def fn(X: Any) -> Value:
        return Value.sum(op(w * row[0], v * row[1]) for row in X)

    f = compile(fn, vectorise=True)

    # one row repeated: the batch's sums then cancel nothing, so their order (NumPy's is not the
    # eager engine's) moves the result by an ulp at most, and each row's numbers are compared
    @given(st.lists(coords, min_size=2, max_size=2), st.integers(2, 4))
    def check(row: List[float], n: int) -> None:
        X = [row] * n
        try:
            want = eager(fn, [w, v], X)
        except (ArithmeticError, ValueError) as exc:
            with pytest.raises(type(exc)):
                compiled(f, [w, v], X)
            return
        got = compiled(f, [w, v], X)
        assert "NumPy" in f.plan, f.plan
        assert agree(got, want, exact=False), (X, got, want)

    check()
