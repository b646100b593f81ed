"""Anomaly mode: the first NaN or inf, forward or backward, with the op and where it was made."""

from __future__ import annotations

import gc
import inspect
import threading
import weakref
from typing import List

import pytest
from hypothesis import given

from tracegrad.check.anomaly import AnomalyError, detect_anomaly
from tracegrad.engine import Value, current_mode, grad, no_grad
from tracegrad.testing import Expression, expressions


def _line_after() -> int:
    """The line number just after the caller's line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1



def test_an_op_that_makes_inf_is_named_with_its_inputs_and_line() -> None:
    a, b = Value(1e200), Value(1e200)
    results = []
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        line = _line_after()
        results.append(a * b)
    message = str(info.value)
    assert message.startswith("mul produced inf from x=1e+200, y=1e+200, at ")
    assert f"test_anomaly.py:{line} in test_an_op_that_makes_inf_is_named" in message
    assert message.endswith(": results.append(a * b)") and not results
    assert info.value.op_name == "mul" and info.value.where is not None


def test_the_first_nan_is_reported_not_a_later_one() -> None:
    with pytest.raises(AnomalyError, match=r"^sub produced nan from x=inf, y=inf") as info, detect_anomaly():
        x = Value(float("inf"))
        y = (x - x).exp().tanh()  # noqa: F841
    assert info.value.node.op is not None and info.value.node.op.name == "sub"


def test_a_gradient_that_overflows_in_backward_is_named() -> None:
    with detect_anomaly():
        a, b = Value(1e300), Value(1e-300)
        line = _line_after()
        c = (a * b) * 1e10
        with pytest.raises(AnomalyError) as info:
            c.backward()
    message = str(info.value)
    assert message.startswith("backward: the gradient flowing through mul(x=1e+300, y=1e-300) into its input y is inf")
    assert "local derivative 1e+300 × upstream 10000000000.0" in message
    assert f"test_anomaly.py:{line} in test_a_gradient_that_overflows_in_backward" in message
    assert message.endswith("the mul node was created at " + message.split("created at ")[1])
    assert message.endswith(": c = (a * b) * 1e10")
    assert b.grad == 0.0  # backward stopped before writing any gradient


def test_a_graph_built_outside_the_mode_says_so() -> None:
    a, b = Value(1e300), Value(1e-300)
    c = (a * b) * 1e10
    with pytest.raises(AnomalyError, match="created outside detect_anomaly"), detect_anomaly():
        c.backward()


def test_off_by_default_and_restored_after() -> None:
    assert current_mode().on_node is None and current_mode().on_step is None
    nan = Value(float("inf")) - Value(float("inf"))  # allowed, as floats allow it
    assert nan.data != nan.data
    with pytest.raises(AnomalyError), detect_anomaly():
        Value(float("inf")) - Value(float("inf"))
    assert current_mode().on_node is None and current_mode().on_step is None


def test_no_grad_inside_anomaly_mode_still_checks() -> None:
    with pytest.raises(AnomalyError, match="an op under no_grad produced inf"), detect_anomaly(), no_grad():
        Value(1e200) * Value(1e200)


def test_anomaly_mode_keeps_no_graph_alive() -> None:
    with detect_anomaly():
        x = Value(2.0)
        y = (x * x).tanh()
        ref = weakref.ref(y)
        del y
        assert ref() is None  # freed by reference counting
    gc.collect()


def test_other_threads_are_not_affected() -> None:
    seen: List[float] = []

    def work() -> None:
        seen.append((Value(float("inf")) - Value(float("inf"))).data)

    with detect_anomaly():
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert len(seen) == 1 and seen[0] != seen[0]


@given(expressions(n_inputs=2))
def test_finite_graphs_get_the_same_gradients_with_the_mode_on(e: Expression) -> None:
    plain = e.leaves()
    e(*plain).backward()
    checked = e.leaves()
    with detect_anomaly():
        e(*checked).backward()
    assert [v.grad for v in checked] == [v.grad for v in plain]


def test_grad_with_create_graph_checks_the_nodes_it_builds() -> None:
    a, b = Value(1e300), Value(1e-300)
    c = (a * b) * 1e10
    with pytest.raises(AnomalyError, match=r"^mul produced inf from x=1e\+300, y=10000000000.0"), detect_anomaly():
        grad(c, [b], create_graph=True)


def test_grad_checks_its_float_gradients_step_by_step() -> None:
    x = Value(1e-300)
    y = x.log() * 1e10  # finite forward; ∂y/∂x = 1e10 / 1e-300 overflows
    with pytest.raises(AnomalyError, match="backward: the gradient flowing through log"), detect_anomaly():
        grad(y, [x])
    assert grad(y, [x]) == [float("inf")]  # without the mode, floats behave as Python's do
