"""Each op on its own: its value and its derivative against the calculus, written out here
independently of the op table, against central differences, and against PyTorch float64."""

from __future__ import annotations

import decimal
import math
from typing import Callable, Dict, List, Tuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tracegrad import OPS, Value, grad
from tracegrad.engine.ops import VARIADIC

import needs

F = Callable[..., float]


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _away_from_zero(hi: float = 5.0) -> st.SearchStrategy[float]:
    return st.one_of(_floats(-hi, -0.01), _floats(0.01, hi))


ANY = _floats(-5.0, 5.0)
POS = _floats(0.05, 20.0)
NONZERO = st.one_of(_floats(-5.0, -0.5), _floats(0.5, 5.0))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# name: (build from Values, the value by calculus, its partials by calculus, input strategies)
CASES: Dict[str, Tuple[F, F, Callable[..., Tuple[float, ...]], Tuple[st.SearchStrategy[float], ...]]] = {
    "add": (lambda x, y: x + y, lambda x, y: x + y, lambda x, y: (1.0, 1.0), (ANY, ANY)),
    "sub": (lambda x, y: x - y, lambda x, y: x - y, lambda x, y: (1.0, -1.0), (ANY, ANY)),
    "mul": (lambda x, y: x * y, lambda x, y: x * y, lambda x, y: (y, x), (ANY, ANY)),
    "div": (lambda x, y: x / y, lambda x, y: x / y, lambda x, y: (1 / y, -x / y**2), (ANY, NONZERO)),
    "neg": (lambda x: -x, lambda x: -x, lambda x: (-1.0,), (ANY,)),
    "pow3": (lambda x: x**3, lambda x: x**3, lambda x: (3 * x**2,), (ANY,)),
    "pow_half": (lambda x: x**0.5, math.sqrt, lambda x: (0.5 / math.sqrt(x),), (POS,)),
    "pow_neg": (lambda x: x**-2, lambda x: x**-2, lambda x: (-2 * x**-3,), (NONZERO,)),
    "vpow": (lambda x, y: x**y, lambda x, y: x**y, lambda x, y: (y * x ** (y - 1), x**y * math.log(x)),
             (POS, _floats(-3.0, 3.0))),
    "rpow": (lambda x: 2**x, lambda x: 2**x, lambda x: (2**x * math.log(2),), (ANY,)),
    "exp": (lambda x: x.exp(), math.exp, lambda x: (math.exp(x),), (ANY,)),
    "log": (lambda x: x.log(), math.log, lambda x: (1 / x,), (POS,)),
    "sqrt": (lambda x: x.sqrt(), math.sqrt, lambda x: (1 / (2 * math.sqrt(x)),), (POS,)),
    "tanh": (lambda x: x.tanh(), math.tanh, lambda x: (1 / math.cosh(x) ** 2,), (ANY,)),
    "sigmoid": (lambda x: x.sigmoid(), _sigmoid, lambda x: (_sigmoid(x) * _sigmoid(-x),), (_floats(-30, 30),)),
    "relu": (lambda x: x.relu(), lambda x: max(0.0, x), lambda x: (1.0 if x > 0 else 0.0,), (_away_from_zero(),)),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda x: x if x > 0 else 0.1 * x,
                   lambda x: (1.0 if x > 0 else 0.1,), (_away_from_zero(),)),
    "sin": (lambda x: x.sin(), math.sin, lambda x: (math.cos(x),), (ANY,)),
    "cos": (lambda x: x.cos(), math.cos, lambda x: (-math.sin(x),), (ANY,)),
    "abs": (lambda x: abs(x), abs, lambda x: (1.0 if x > 0 else -1.0,), (_away_from_zero(),)),
    "step": (lambda x: x.step(), lambda x: 1.0 if x > 0 else 0.0, lambda x: (0.0,), (_away_from_zero(),)),
    "sign": (lambda x: x.sign(), lambda x: math.copysign(1.0, x), lambda x: (0.0,), (_away_from_zero(),)),
}

# numbers on either side of a binary operator
MIXED: Dict[str, Tuple[F, F, F]] = {
    "x + 2": (lambda x: x + 2, lambda x: x + 2, lambda x: 1.0),
    "2 + x": (lambda x: 2 + x, lambda x: 2 + x, lambda x: 1.0),
    "x - 2": (lambda x: x - 2, lambda x: x - 2, lambda x: 1.0),
    "2 - x": (lambda x: 2 - x, lambda x: 2 - x, lambda x: -1.0),
    "x * 2": (lambda x: x * 2, lambda x: x * 2, lambda x: 2.0),
    "2 * x": (lambda x: 2 * x, lambda x: 2 * x, lambda x: 2.0),
    "x / 2": (lambda x: x / 2, lambda x: x / 2, lambda x: 0.5),
    "2 / x": (lambda x: 2 / x, lambda x: 2 / x, lambda x: -2 / x**2),
    "2 ** x": (lambda x: 2**x, lambda x: 2**x, lambda x: 2**x * math.log(2)),
}


def _close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def _run(build: F, xs: List[float]) -> Tuple[float, List[float]]:
    leaves = [Value(x) for x in xs]
    out = build(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def test_every_builtin_op_has_a_case() -> None:
    covered = {"pow3": "pow", "pow_half": "pow", "pow_neg": "pow", "rpow": "vpow"}
    names = {covered.get(name, name) for name in CASES}
    fixed = {name for name, op in OPS.items() if op.arity != VARIADIC}
    assert fixed <= names


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_derivative_match_calculus(name: str) -> None:
    build, value, partials, strategies = CASES[name]

    @given(st.tuples(*strategies))
    def check(xs: Tuple[float, ...]) -> None:
        data, grads = _run(build, list(xs))
        assert _close(data, value(*xs)), (xs, data, value(*xs))
        for got, want in zip(grads, partials(*xs)):
            assert _close(got, want), (xs, got, want)

    check()


@pytest.mark.parametrize("name", sorted(CASES))
def test_derivative_matches_central_differences(name: str) -> None:
    build, _, _, strategies = CASES[name]

    @given(st.tuples(*strategies))
    def check(xs: Tuple[float, ...]) -> None:
        _, grads = _run(build, list(xs))
        for i, got in enumerate(grads):
            h = 1e-6 * max(1.0, abs(xs[i]))
            up, down = list(xs), list(xs)
            up[i] += h
            down[i] -= h
            numeric = (build(*map(Value, up)).data - build(*map(Value, down)).data) / (2 * h)
            assert math.isclose(got, numeric, rel_tol=1e-4, abs_tol=1e-5), (xs, i, got, numeric)

    check()


@pytest.mark.parametrize("name", sorted(MIXED))
@given(x=NONZERO)
def test_numbers_on_either_side(name: str, x: float) -> None:
    build, value, derivative = MIXED[name]
    data, (g,) = _run(build, [x])
    assert _close(data, value(x)) and _close(g, derivative(x))


@pytest.mark.needs("torch")  # skips before hypothesis runs, not inside an example
@pytest.mark.parametrize("name", sorted(set(CASES) - {"step"}))  # torch has no differentiable step
def test_derivative_matches_pytorch(name: str) -> None:
    torch = needs.torch()
    build, _, _, strategies = CASES[name]
    torch_fns = {
        "exp": torch.exp, "log": torch.log, "sqrt": torch.sqrt, "tanh": torch.tanh,
        "sigmoid": torch.sigmoid, "relu": torch.relu, "sin": torch.sin, "cos": torch.cos,
        "abs": torch.abs, "sign": torch.sign,
        "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1),
    }

    @given(st.tuples(*strategies))
    def check(xs: Tuple[float, ...]) -> None:
        data, grads = _run(build, list(xs))
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        out = torch_fns[name](*ts) if name in torch_fns else build(*ts)
        out.backward()
        assert _close(data, out.item(), 1e-12, 1e-12)
        for got, t in zip(grads, ts):
            want = 0.0 if t.grad is None else t.grad.item()
            assert _close(got, want, 1e-10, 1e-12), (xs, got, want)

    check()


@pytest.mark.parametrize(
    "build, want",
    [
        (lambda x: x.relu(), 0.0),
        (lambda x: abs(x), 0.0),
        (lambda x: x.step(), 0.0),
        (lambda x: x.sign(), 0.0),
        (lambda x: x.leaky_relu(0.2), 0.2),
        (lambda x: x.leaky_relu(), 0.01),
    ],
    ids=["relu", "abs", "step", "sign", "leaky_relu", "leaky_relu_default"],
)
def test_documented_derivatives_at_kinks(build: F, want: float) -> None:
    x = Value(0.0)
    y = build(x)
    y.backward()
    assert x.grad == want
    assert y.data == 0.0


def test_step_is_heaviside_with_zero_at_zero() -> None:
    assert [Value(v).step().data for v in (-1.0, 0.0, 1e-300, 3.0)] == [0.0, 0.0, 1.0, 1.0]


@given(x=_floats(-800.0, 800.0))
@example(x=-800.0)
@example(x=800.0)
def test_sigmoid_never_overflows(x: float) -> None:
    s = Value(x).sigmoid()
    assert 0.0 <= s.data <= 1.0
    s.backward()


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivative_matches_differences_of_first(name: str) -> None:
    build, _, partials, strategies = CASES[name]

    @given(st.tuples(*strategies))
    def check(xs: Tuple[float, ...]) -> None:
        leaves = [Value(x) for x in xs]
        firsts = grad(build(*leaves), leaves, create_graph=True)
        for i, first in enumerate(firsts):
            seconds = grad(first, leaves, allow_unused=True) if isinstance(first, Value) else [None] * len(xs)
            for j, got in enumerate(seconds):
                h = 1e-6 * max(1.0, abs(xs[j]))
                up, down = list(xs), list(xs)
                up[j] += h
                down[j] -= h
                numeric = (partials(*up)[i] - partials(*down)[i]) / (2 * h)
                assert math.isclose(got or 0.0, numeric, rel_tol=1e-4, abs_tol=1e-4), (xs, i, j, got, numeric)

    check()


# --- the edges of the float range: partials stay finite and accurate wherever the true value is

WIDE = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False, allow_subnormal=False)
WIDE_POSITIVE = st.floats(1e-300, 1e300, allow_nan=False, allow_infinity=False, allow_subnormal=False)
_D = decimal.Context(prec=60, Emax=10**6, Emin=-(10**6))


def _true_partials(name: str, x: float, y: float) -> Tuple[decimal.Decimal, ...]:
    """The exact partials at the float inputs, in 60-digit decimal arithmetic (no op table)."""
    dx, dy = _D.create_decimal(x), _D.create_decimal(y)
    if name == "div":
        return (_D.divide(1, dy), _D.minus(_D.divide(dx, _D.multiply(dy, dy))))
    if name == "mul":
        return (dy, dx)
    if name == "pow":  # y is the exponent, a parameter
        return (_D.multiply(dy, _D.power(dx, _D.subtract(dy, 1))),)
    if name == "vpow":
        return (_D.multiply(dy, _D.power(dx, _D.subtract(dy, 1))), _D.multiply(_D.power(dx, dy), _D.ln(dx)))
    if name == "exp":
        return (_D.exp(dx),)
    if name == "log":
        return (_D.divide(1, dx),)
    if name == "sqrt":
        return (_D.divide(_D.create_decimal(0.5), _D.sqrt(dx)),)
    raise AssertionError(name)


EDGE_CASES = {
    # name: (build, inputs) — inputs across the whole float range, where the op is defined
    "div": (lambda x, y: x / y, (WIDE, WIDE.filter(lambda y: y != 0))),
    "mul": (lambda x, y: x * y, (WIDE, WIDE)),
    "pow": (lambda x, n: x ** n, (WIDE_POSITIVE, _floats(-3.0, 3.0))),
    "vpow": (lambda x, y: x ** y, (WIDE_POSITIVE, _floats(-3.0, 3.0))),
    "exp": (lambda x, _: x.exp(), (_floats(-700.0, 700.0), st.just(0.0))),
    "log": (lambda x, _: x.log(), (WIDE_POSITIVE, st.just(0.0))),
    "sqrt": (lambda x, _: x.sqrt(), (WIDE_POSITIVE, st.just(0.0))),
}
NORMAL = decimal.Decimal("2.2250738585072014e-308")
LARGEST = decimal.Decimal("1.7976931348623157e308")


def _representable(d: decimal.Decimal) -> bool:
    return d == 0 or NORMAL <= abs(d) <= LARGEST


def _inputs(name: str, x: float, y: float) -> List[Value]:
    return [Value(x)] if name in ("exp", "log", "sqrt", "pow") else [Value(x), Value(y)]


def _out(name: str, values: List[Value], y: float) -> Value:
    build = EDGE_CASES[name][0]
    return build(values[0], y if name == "pow" else (values[1] if len(values) > 1 else None))


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_partials_stay_finite_and_accurate_wherever_the_true_value_is(name: str) -> None:
    """backward(), grad(create_graph=True) and compiled code alike, against exact arithmetic."""
    from tracegrad import compile

    @given(*EDGE_CASES[name][1])
    @example(1e308, 1e155)  # div: y*y overflowed, and ∂/∂y came out 0.0 instead of -0.01
    @example(1e-200, 1e-200)  # div: y*y underflowed to 0, and backward raised instead of -1e200
    @example(1e-305, 1e-161)  # div: y*y was subnormal, and ∂/∂y was 1.2% off
    @example(1e-300, -0.03125)  # pow, vpow: x**(y - 1) overflowed where y * x**(y - 1) is about -7e306
    def check(x: float, y: float) -> None:
        if (name == "div" and y == 0) or (name in ("log", "sqrt", "pow", "vpow") and x <= 0):
            return  # the examples above are for div; outside the domain there is no partial
        try:
            out = _out(name, _inputs(name, x, y), y)
        except OverflowError:
            return  # the result itself is not a float
        truth = _true_partials(name, x, y)
        if not math.isfinite(out.data) or not all(_representable(t) for t in truth):
            return
        values = _inputs(name, x, y)
        eager = _out(name, values, y)
        eager.backward()
        second = _inputs(name, x, y)
        with_graph = [g.data for g in grad(_out(name, second, y), second, create_graph=True)]
        leaves = _inputs(name, x, y)
        compile(lambda: _out(name, leaves, y))()
        for way, got in (("backward", [v.grad for v in values]), ("create_graph", with_graph),
                         ("compiled", [v.grad for v in leaves])):
            for g, t in zip(got, truth):
                assert math.isfinite(g) and math.isclose(g, float(t), rel_tol=1e-12, abs_tol=0.0), (way, x, y, g, t)

    check()


# --- NaN goes through every op as IEEE arithmetic would


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.arity == 1 and op.param is None))
def test_nan_goes_through_every_one_input_op(name: str) -> None:
    x = Value(float("nan"))
    out = getattr(x, name)() if name != "neg" else -x
    assert math.isnan(out.data), f"{name}(nan) = {out.data}"
    out.backward()
    if name not in ("step", "sign", "neg"):  # step' and sign' are 0 everywhere, neg' is -1
        assert math.isnan(x.grad), f"{name}'(nan) = {x.grad}"


def test_relu_of_nan_is_nan_not_a_hidden_zero() -> None:
    from tracegrad import compile

    x = Value(float("nan"))
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and math.isnan(x.grad)
    assert math.isnan(x.leaky_relu(0.1).data) and math.isnan(abs(x).data)
    w = Value(float("nan"))
    f = compile(lambda: w.relu() * 2.0)
    assert math.isnan(f()) and math.isnan(w.grad)


@pytest.mark.parametrize(("build", "inputs"), [
    (lambda x, y: x ** y, (2.0, float("nan"))), (lambda x, y: x ** y, (float("nan"), 2.0)),
    (lambda x, y: x / y, (float("nan"), 2.0)), (lambda x, y: (x * y).log(), (float("nan"), 1.0)),
    (lambda x, y: (x + y).sqrt(), (float("nan"), 1.0)), (lambda x, y: x ** 0.5 * y, (float("nan"), 1.0)),
    (lambda x, y: (-2.0 + x) ** float("nan") * y, (0.0, 1.0)),
])
def test_nan_inputs_give_nan_not_a_domain_error(build: F, inputs: Tuple[float, float]) -> None:
    assert math.isnan(build(*map(Value, inputs)).data)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 5e-324, -5e-324, 1e300, -1e300, 709.0, -745.0,
           math.inf, -math.inf, math.nan]
FINITE_PARTIALS = sorted(name for name, op in OPS.items() if op.finite_partials)


@pytest.mark.parametrize("name", FINITE_PARTIALS)
def test_ops_flagged_finite_partials_have_them_wherever_the_output_is_finite(name: str) -> None:
    # what lets backward() skip a node whose upstream gradient is 0: local * 0.0 is then 0.0
    op = OPS[name]
    width = 2 if op.arity == VARIADIC else op.arity

    @given(st.lists(st.one_of(st.sampled_from(SPECIAL), st.floats()), min_size=width, max_size=width),
           st.sampled_from([0.0, 0.01, 0.3]))
    def check(xs: List[float], slope: float) -> None:
        args = ([*xs, 1.5] if name == "linear" else xs) + ([slope] if op.param else [])
        try:
            out = op.forward(*args)
        except (ArithmeticError, ValueError):
            return  # refused by forward: no node is made
        if (op.check is not None and op.check(*args)) or not math.isfinite(out):
            return
        partials = op.grads(*args, out)
        assert all(math.isfinite(p) for p in partials), (args, out, partials)

    check()
