"""The testing toolkit: values, expressions, mlps, verify_op, and custom ops made with define_op."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Set

import pytest
from hypothesis import find, given, settings

from tracegrad.check.gradcheck import gradcheck, gradgradcheck
from tracegrad.engine import Value, backward_steps, define_op, grad
from tracegrad.engine.errors import DomainError
from tracegrad.engine.expr import ExpressionError
from tracegrad.engine.generic import cos, exp, log, sin
from tracegrad.engine.ops import ANYWHERE, OPS, POSITIVE, Domain
from tracegrad.testing import Expression, OpCheckError, expressions, mlps, values, verify_op

SOFTPLUS = define_op(
    "softplus_t", lambda x: log(1 + exp(x)), [lambda x, out: 1 / (1 + exp(-x))], ["1 / (1 + exp(-x))"],
    symbol="softplus", doc="log(1 + e**x)", register=False,
)
HYPOT = define_op(
    "hypot_t", lambda x, y: (x * x + y * y) ** 0.5,
    [lambda x, y, out: x / out, lambda x, y, out: y / out], ["x / out", "y / out"],
    domain=[Domain(((0.5, 5.0),)), ANYWHERE], register=False,
)
MY_LOG = define_op("my_log_t", log, [lambda x, out: 1 / x], ["1 / x"], domain="x > 0", register=False)


# --- values


@given(values(-2.0, 3.0))
def test_values_are_bounded_finite_and_normal(x: float) -> None:
    assert -2.0 <= x <= 3.0 and math.isfinite(x)
    assert x == 0.0 or abs(x) >= 2.2250738585072014e-308


@given(values(domain=Domain(((-5.0, -0.01), (0.01, 5.0)))))
def test_values_can_come_from_a_domain(x: float) -> None:
    assert 0.01 <= abs(x) <= 5.0


def test_values_refuses_bad_bounds() -> None:
    with pytest.raises(ValueError, match="values: need finite bounds"):
        values(1.0, -1.0)


# --- expressions


def _edges(e: Expression) -> List[Any]:
    return [(node, child) for node in e.nodes() for child in node.children]


@given(expressions(n_inputs=3, max_leaves=10))
def test_every_op_input_lies_in_its_domain(e: Expression) -> None:
    assert len(e.inputs) == 3 and e.names == ["x0", "x1", "x2"]
    for node in e.nodes():
        shift = node.op is not None and node.op.name in ("add", "sub") and node.children[1].op is None
        if node.op is not None and node.op.arity > 0 and not shift:  # a shift moves a value into the next domain
            for child, domain in zip(node.children, node.op.domain):
                assert domain.contains(child.value), (node.op.name, child.value)
        assert math.isfinite(node.value)


@given(expressions(n_inputs=2, ops=["mul", "tanh", "exp"]))
def test_expressions_use_only_the_chosen_ops_and_the_shifts(e: Expression) -> None:
    assert set(e.op_names) <= {"mul", "tanh", "exp", "add", "sub"}


@given(expressions(n_inputs=2))
def test_an_example_is_callable_on_values_floats_and_complex_numbers(e: Expression) -> None:
    on_values = e(*e.leaves())
    on_floats = e(*e.inputs)
    on_complex = e(*[complex(x) for x in e.inputs])
    assert isinstance(on_values, Value)
    assert on_values.data == on_floats == e.output.value
    assert complex(on_complex).real == pytest.approx(on_floats, rel=1e-12, abs=1e-12)


@given(expressions(n_inputs=2))
def test_repr_is_source_that_runs(e: Expression) -> None:
    text = repr(e)
    assert text == e.source and "def f(x0, x1):" in text and "inputs = [" in text
    namespace: Dict[str, Any] = {}
    exec(compile(text, "<example>", "exec"), namespace)  # the toolkit's own generated text
    result = namespace["f"](*[Value(x) for x in namespace["inputs"]])
    assert result.data == e(*e.inputs)


def _kinds_of_sharing(e: Expression) -> Set[str]:
    parents: Dict[int, Set[int]] = {}
    kinds = set()
    for node, child in _edges(e):
        parents.setdefault(id(child), set()).add(id(node))
        if node.children.count(child) > 1:
            kinds.add("a * a")
    for node in e.nodes():
        if len(parents.get(id(node), ())) > 1:
            kinds.add("input used by several ops" if node.index is not None else "node used by several ops")
    return kinds


@pytest.mark.parametrize("kind", ["a * a", "node used by several ops", "input used by several ops"])
def test_shared_subexpressions_appear(kind: str) -> None:
    e = find(expressions(n_inputs=2), lambda e: kind in _kinds_of_sharing(e), settings=settings(max_examples=2000))
    assert kind in _kinds_of_sharing(e)


def test_registered_custom_ops_are_drawn_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPS, MY_LOG.name, MY_LOG)
    small = expressions(n_inputs=1, max_leaves=3)
    e = find(small, lambda e: MY_LOG.name in e.op_names, settings=settings(max_examples=5000))
    assert "OPS['my_log_t'](" in e.source
    assert gradcheck(e, e.inputs, method="complex", atol=1e-8, rtol=1e-7)


@given(expressions(n_inputs=2, ops=[SOFTPLUS, HYPOT, "mul"], max_leaves=6))
def test_custom_ops_in_graphs_pass_first_and_second_order_checks(e: Expression) -> None:
    assert gradcheck(e, e.inputs, method="complex", atol=1e-8, rtol=1e-7)
    assert gradgradcheck(e, e.inputs, method="complex", atol=1e-7, rtol=1e-6)


def test_the_source_of_a_custom_op_goes_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(OPS, SOFTPLUS.name, SOFTPLUS)
    from tracegrad.testing import Node

    x = Node(0.5, index=0)
    e = Expression(Node(float(SOFTPLUS.forward(0.5)), SOFTPLUS, (x,)), [0.5])
    assert e.source.splitlines()[0] == "from tracegrad import OPS"
    assert "    return OPS['softplus_t'](x0)" in e.source


def test_expressions_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        expressions(ops=["nope"])
    with pytest.raises(ValueError, match="n_inputs must be an int >= 1"):
        expressions(n_inputs=0)


# --- custom ops


def test_a_custom_op_works_with_backward_grad_and_create_graph() -> None:
    x = Value(0.3)
    y = SOFTPLUS(x) * x
    y.backward()
    sig = 1 / (1 + math.exp(-0.3))
    assert x.grad == pytest.approx(math.log(1 + math.exp(0.3)) + 0.3 * sig)
    assert x.grad == sum(s.contribution for s in backward_steps(y) if s.input is x)
    (dx,) = grad(SOFTPLUS(x), [x], create_graph=True)
    (d2x,) = grad(dx, [x])
    assert d2x == pytest.approx(sig * (1 - sig))


def test_a_custom_op_shows_its_symbol_and_formula_in_pictures() -> None:
    from tracegrad.viz import draw

    source = draw(SOFTPLUS(Value(0.3, label="x"))).source
    assert "softplus" in source


def test_a_domain_text_is_checked_on_every_call_and_sampled_by_tests() -> None:
    with pytest.raises(DomainError, match=r"my_log_t: x must satisfy x > 0, got -2.0"):
        MY_LOG(-2.0)
    (domain,) = MY_LOG.domain
    assert domain.intervals == ((0.02, 5.0),)
    verify_op(MY_LOG, max_examples=30)


def test_define_op_refuses_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="1 partials need 1 formulas, got 2"):
        define_op("bad", sin, [cos], ["cos(x)", "x"], register=False)
    with pytest.raises(ExpressionError, match="attribute access is not allowed"):
        define_op("bad", sin, [lambda x, out: cos(x)], ["cos(x)"], domain="x.real > 0", register=False)
    with pytest.raises(ValueError, match="holds nowhere in"):
        define_op("bad", sin, [lambda x, out: cos(x)], ["cos(x)"], domain="x > 10", register=False)
    with pytest.raises(ValueError, match="an op named 'sin' exists already"):
        define_op("sin", sin, [lambda x, out: cos(x)], ["cos(x)"])


def test_register_adds_the_op_to_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tracegrad.engine.ops.OPS", dict(OPS))
    import tracegrad.engine.ops as ops

    op = define_op("cube_t", lambda x: x * x * x, [lambda x, out: 3 * x * x], ["3 * x**2"])
    assert ops.OPS["cube_t"] is op and "cube_t" not in OPS


# --- verify_op


@pytest.mark.parametrize("op", [SOFTPLUS, HYPOT, MY_LOG, OPS["log"], OPS["linear"], OPS["leaky_relu"]], ids=str)
def test_correct_ops_verify(op: Any) -> None:
    verify_op(op, max_examples=40)


def test_a_wrong_partial_is_caught_at_the_smallest_input() -> None:
    wrong = define_op("wrong_sin_t", sin, [lambda x, out: -cos(x)], ["-cos(x)"], register=False)
    with pytest.raises(OpCheckError) as info:
        verify_op(wrong)
    assert str(info.value).splitlines()[0] == (
        "wrong_sin_t: ∂out/∂x is wrong at x=0.0: the partial gives -1, central differences give 1"
    )


def test_a_wrong_formula_text_is_caught() -> None:
    wrong = define_op("cos_t", cos, [lambda x, out: -sin(x)], ["sin(x)"], register=False)
    with pytest.raises(OpCheckError, match=r"cos_t: the formula text 'sin\(x\)' for ∂out/∂x gives .* but the partial"):
        verify_op(wrong)


def test_a_formula_naming_an_unknown_variable_is_caught() -> None:
    wrong = define_op("exp_t", exp, [lambda x, out: out], ["result"], register=False)
    with pytest.raises(OpCheckError, match="exp_t: a formula text fails at x=0.0: .*unknown name 'result'"):
        verify_op(wrong)


def test_partials_that_create_graph_cannot_see_through_are_caught() -> None:
    flat = define_op(
        "flat_sin_t", sin,
        [lambda x, out: Value(math.cos(x.data)) if isinstance(x, Value) else math.cos(x)],
        ["cos(x)"], register=False,
    )
    with pytest.raises(OpCheckError, match=r"flat_sin_t: the second derivative ∂²out/∂x∂x .* is wrong at x=1.0"):
        verify_op(flat)
    verify_op(flat, second_order=False, max_examples=20)


def test_partials_that_cannot_take_values_are_explained() -> None:
    floats_only = define_op("fsin_t", sin, [lambda x, out: math.cos(x)], ["cos(x)"], register=False)
    with pytest.raises(OpCheckError, match="fsin_t: its partials cannot be evaluated on Values"):
        verify_op(floats_only)


def test_a_domain_its_check_refuses_is_caught() -> None:
    inconsistent = define_op(
        "log_t2", log, [lambda x, out: 1 / x], ["1 / x"], domain=["x > 1"], register=False
    )
    object.__setattr__(inconsistent, "domain", (POSITIVE,))
    with pytest.raises(OpCheckError, match="log_t2: its domain contains x=1.0, but its check refuses it"):
        verify_op(inconsistent)


REFERENCES = {
    "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "tanh": math.tanh, "sin": math.sin, "cos": math.cos,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)), "relu": lambda x: max(x, 0.0), "abs": abs,
    "leaky_relu": lambda x, slope: x if x > 0 else slope * x, "pow": math.pow, "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y, "div": lambda x, y: x / y, "vpow": math.pow,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_built_in_forwards_agree_with_a_reference(name: str) -> None:
    verify_op(name, max_examples=20, reference=REFERENCES[name])


def test_a_wrong_forward_with_a_matching_derivative_is_caught_only_by_a_reference() -> None:
    # softplus shifted by 0.01: its partial is still right for it, so the derivative checks pass
    shifted = define_op("shifted_softplus_t", lambda x: log(1 + exp(x)) + 0.01, [lambda x, out: 1 / (1 + exp(-x))],
                        ["1 / (1 + exp(-x))"], register=False)
    verify_op(shifted, max_examples=20)
    with pytest.raises(OpCheckError) as info:
        verify_op(shifted, reference=lambda x: math.log1p(math.exp(x)))
    assert str(info.value).splitlines()[0] == (
        "shifted_softplus_t: the forward is wrong at x=0.0: it gives 0.7031471806, the reference gives 0.6931471806")
    with pytest.raises(OpCheckError, match="the reference raised ZeroDivisionError"):
        verify_op(shifted, reference=lambda x: 1 / 0)


# --- mlps


@given(mlps(nin=(1, 3)))
def test_mlps_give_a_model_and_its_inputs(case: Any) -> None:
    model, xs = case
    assert 1 <= len(xs) <= 3

    def f(*inputs: Value) -> Any:
        out = model(list(inputs))
        return out

    assert gradcheck(f, xs, method="complex", atol=1e-9, rtol=1e-7)
