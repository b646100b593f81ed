"""Gradient checking: compare the engine's derivatives with numerical ones.

Two numerical oracles, neither of which uses the op table's partials:

* **central differences** ``(f(x + eps) - f(x - eps)) / (2 eps)``: works for any ``f``, accurate
  to about ``1e-8`` relative for smooth functions;
* **the complex step** ``f(x + ih).imag / h`` with ``h = 1e-20``: the recorded graph is evaluated
  again on a complex leaf, replaying each node's ``op.forward`` in topological order. There is no
  subtraction, so it is accurate to ~1e-15. Piecewise ops (relu, abs, step, leaky_relu) branch on
  the real part, so it is exact away from their kinks.

>>> from tracegrad.gradcheck import gradcheck, gradgradcheck
>>> gradcheck(lambda x, y: (x * y).tanh(), [0.5, -1.5])
True
>>> gradgradcheck(lambda x: x ** 3, [2.0], method="complex")
True
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Sequence, Union

from ..engine import Value, grad, topological_order
from ..engine.errors import DomainError, TracegradError

COMPLEX_STEP = 1e-20
"""The complex step ``h``: small enough that ``h**2`` vanishes next to any float."""

METHODS = ("central", "complex")

Number = Union[int, float]
Function = Callable[..., Any]


class GradcheckError(TracegradError, AssertionError):
    """The engine's gradients disagree with numerical ones; the message is a table of them.

    Attributes:
        failures: the disagreeing entries, worst first.
    """

    def __init__(self, message: str, failures: Sequence[Entry] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


class ComplexStepError(TracegradError, TypeError):
    """The complex step cannot replay a graph: an op's forward does not take complex numbers."""


class Entry(NamedTuple):
    """One compared partial derivative ∂output/∂input."""

    output: str
    input: str
    analytic: float
    numeric: float

    @property
    def abs_err(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_err(self) -> float:
        err = self.abs_err
        if err == 0 or self.analytic == self.numeric:
            return 0.0
        return err / abs(self.numeric) if self.numeric != 0 else math.inf

    def badness(self, atol: float, rtol: float) -> float:
        """Error over tolerance: above 1 fails; NaN and infinite mismatches count as worst."""
        if self.analytic == self.numeric:
            return 0.0
        err = self.abs_err
        if math.isnan(err) or math.isinf(err):
            return math.inf
        return err / (atol + rtol * abs(self.numeric))


# --- evaluating a recorded graph again


def replay(outputs: Sequence[Value], leaves: Mapping[Value, Any]) -> List[Any]:
    """Evaluate the graph below ``outputs`` again with some leaves given new values.

    Each node's ``op.forward`` runs on its inputs' new values, in topological order; leaves not in
    ``leaves`` keep their data. With complex leaf values this is the complex step's forward pass.

    Raises:
        ComplexStepError: an op's forward does not accept the values (e.g. it calls ``math.sin``
            on a complex number), naming the op.
        DomainError: an op's forward fails on the new values.
    """
    values: Dict[Value, Any] = dict(leaves)
    for out in outputs:
        for node in topological_order(out):
            if node in values:
                continue
            op = node.op
            if op is None:
                values[node] = node.data
                continue
            args = [values[v] for v in node.inputs]
            if node.param is not None:
                args.append(node.param)
            values[node] = _replay_node(op, args)
    return [values[out] for out in outputs]


def _replay_node(op: Any, args: List[Any]) -> Any:
    if op.forward is None:
        raise ComplexStepError(f"{op.name}: the node has no forward rule to replay; use method='central'")
    try:
        result = op.forward(*args)
    except TypeError as exc:
        raise ComplexStepError(
            f"{op.name}: its forward cannot take complex numbers ({exc}); write it with "
            "tracegrad.ops.exp/log/sin/... or cmath so the complex step can replay it, "
            "or use method='central'"
        ) from exc
    except (ArithmeticError, ValueError) as exc:
        raise DomainError(f"{op.name}: forward failed on {args!r}: {exc}") from exc
    if not isinstance(result, (int, float, complex)):
        raise ComplexStepError(f"{op.name}: forward returned {type(result).__name__} {result!r}, not a number")
    return result


# --- calling f


def _as_floats(inputs: Sequence[Any]) -> List[float]:
    if isinstance(inputs, (Value, int, float)):
        inputs = [inputs]
    floats = [x.data if isinstance(x, Value) else Value(x).data for x in inputs]
    if not floats:
        raise ValueError("gradcheck: inputs must not be empty")
    return floats


def _names(inputs: Sequence[Any]) -> List[str]:
    if isinstance(inputs, (Value, int, float)):
        inputs = [inputs]
    return [x.label if isinstance(x, Value) and x.label else f"x{i}" for i, x in enumerate(inputs)]


def _outputs(f: Function, leaves: Sequence[Any]) -> List[Any]:
    """``f(*leaves)`` as a list of Values or numbers."""
    result = f(*leaves)
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    for item in items:
        if not isinstance(item, (Value, int, float)) or isinstance(item, bool):
            raise TypeError(f"gradcheck: f must return a Value or a list of Values, got {type(item).__name__} {item!r}")
    return items


def _data(item: Any) -> float:
    return float(item.data if isinstance(item, Value) else item)


def numerical_jacobian(
    f: Function, inputs: Sequence[Any], *, eps: float = 1e-6, method: str = "central"
) -> List[List[float]]:
    """``J[k][i] = ∂f_k/∂x_i`` by central differences or the complex step (see the module doc).

    >>> numerical_jacobian(lambda x: x * x, [3.0], method="complex")
    [[6.0]]
    """
    _check_method(method, eps)
    xs = _as_floats(inputs)
    names = _names(inputs)
    if method == "complex":
        leaves = [Value(x) for x in xs]
        outs = _outputs(f, leaves)
        graph = [o for o in outs if isinstance(o, Value)]
        columns = []
        for leaf in leaves:
            replayed = dict(zip(graph, replay(graph, {leaf: complex(leaf.data, COMPLEX_STEP)})))
            columns.append([complex(replayed[o]).imag / COMPLEX_STEP if isinstance(o, Value) else 0.0 for o in outs])
    else:
        columns = []
        for i in range(len(xs)):
            plus, minus = (_perturbed(f, xs, names, i, sign * eps) for sign in (1.0, -1.0))
            columns.append([(p - m) / (2.0 * eps) for p, m in zip(plus, minus)])
    return [list(row) for row in zip(*columns)]


def _perturbed(f: Function, xs: List[float], names: List[str], i: int, delta: float) -> List[float]:
    moved = list(xs)
    moved[i] += delta
    try:
        return [_data(o) for o in _outputs(f, [Value(x) for x in moved])]
    except DomainError as exc:
        raise DomainError(
            f"gradcheck: f fails at {names[i]} = {moved[i]!r} (moved by {delta:+g} for central "
            f"differences); pick a point further from the edge of the domain or a smaller eps: {exc}"
        ) from exc


def analytic_jacobian(f: Function, inputs: Sequence[Any]) -> List[List[float]]:
    """``J[k][i] = ∂f_k/∂x_i`` from the engine (:func:`tracegrad.engine.grad`)."""
    leaves = [Value(x) for x in _as_floats(inputs)]
    rows = []
    for out in _outputs(f, leaves):
        if not isinstance(out, Value):
            rows.append([0.0] * len(leaves))
            continue
        grads = grad(out, leaves, allow_unused=True)
        rows.append([0.0 if g is None else _data(g) for g in grads])
    return rows


def _check_method(method: str, eps: float) -> None:
    if method not in METHODS:
        raise ValueError(f"gradcheck: method must be one of {METHODS}, got {method!r}")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"gradcheck: eps must be a positive number, got {eps!r}")


# --- the checks


def gradcheck(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    method: str = "central",
    raise_exception: bool = True,
) -> bool:
    """Check the engine's first derivatives of ``f`` at ``inputs`` against numerical ones.

    Args:
        f: takes one Value per input and returns a Value or a list of Values.
        inputs: the point, as numbers or Values (only their data is used; their ``.grad`` is
            left alone).
        eps: the central-difference step (the complex step always uses ``h = 1e-20``).
        atol, rtol: an entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        method: ``"central"`` or ``"complex"``.
        raise_exception: raise :class:`GradcheckError` on a mismatch (default), else return False.

    Returns:
        True when every partial derivative agrees.

    Raises:
        GradcheckError: a table of the disagreeing entries, worst first.

    >>> gradcheck(lambda x: x.sin(), [1.0], method="complex")
    True
    """
    return _compare(f, inputs, eps, atol, rtol, method, raise_exception, "gradcheck", _output_names)


def gradgradcheck(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    method: str = "central",
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: the gradients of ``f`` made with ``grad(..., create_graph=True)``
    are differentiated by the engine and compared with numerical derivatives of those gradients.

    Arguments as for :func:`gradcheck`.

    >>> gradgradcheck(lambda x, y: x * y.exp(), [1.0, 0.5])
    True
    """
    n = len(_as_floats(inputs))
    names = _names(inputs)

    def gradients(*leaves: Value) -> List[Any]:
        firsts: List[Any] = []
        for out in _outputs(f, leaves):
            if not isinstance(out, Value):
                firsts.extend([0.0] * n)
                continue
            grads = grad(out, list(leaves), create_graph=True, allow_unused=True)
            firsts.extend(0.0 if g is None else g for g in grads)
        return firsts

    def output_names(count: int) -> List[str]:
        return [f"d(out{k // n})/d{names[k % n]}" for k in range(count)]

    return _compare(gradients, inputs, eps, atol, rtol, method, raise_exception, "gradgradcheck", output_names)


def _output_names(count: int) -> List[str]:
    return [f"out{k}" for k in range(count)]


def _compare(
    f: Function,
    inputs: Sequence[Any],
    eps: float,
    atol: float,
    rtol: float,
    method: str,
    raise_exception: bool,
    what: str,
    output_names: Callable[[int], List[str]],
) -> bool:
    _check_method(method, eps)
    names = _names(inputs)
    analytic = analytic_jacobian(f, inputs)
    numeric = numerical_jacobian(f, inputs, eps=eps, method=method)
    outs = output_names(len(analytic))
    entries = [
        Entry(outs[k], names[i], a, n)
        for k, (arow, nrow) in enumerate(zip(analytic, numeric))
        for i, (a, n) in enumerate(zip(arow, nrow))
    ]
    failures = sorted((e for e in entries if e.badness(atol, rtol) > 1.0), key=lambda e: -e.badness(atol, rtol))
    if not failures:
        return True
    if not raise_exception:
        return False
    point = ", ".join(f"{name}={x!r}" for name, x in zip(names, _as_floats(inputs)))
    header = (
        f"{what}: {len(failures)} of {len(entries)} partial derivatives disagree at {point} "
        f"(method={method!r}, eps={eps:g}, atol={atol:g}, rtol={rtol:g}), worst first:"
    )
    raise GradcheckError(header + "\n" + format_table(failures), failures)


def format_table(entries: Sequence[Entry]) -> str:
    """The entries as an aligned text table: output, input, analytic, numeric, abs and rel error."""
    rows = [("output", "input", "analytic", "numeric", "abs err", "rel err")]
    rows += [
        (e.output, e.input, f"{e.analytic:.10g}", f"{e.numeric:.10g}", f"{e.abs_err:.3g}", f"{e.rel_err:.3g}")
        for e in entries
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)

