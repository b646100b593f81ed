"""Gradient checking: compare the engine's derivatives with numerical ones.

Two numerical oracles, neither of which uses the op table's partials:

* **central differences** ``(f(x + eps) - f(x - eps)) / (2 eps)``: works for any ``f``, accurate
  to about ``1e-8`` relative for smooth functions;
* **the complex step** ``f(x + ih).imag / h`` with ``h = 1e-20``: the recorded graph is evaluated
  again on a complex leaf, replaying each node's ``op.forward`` in topological order. There is no
  subtraction, so it is accurate to ~1e-15. Piecewise ops (relu, abs, step, leaky_relu) branch on
  the real part, so it is exact away from their kinks.

At a kink (an input of a piecewise op on, or within ``eps`` of, the point where its derivative
jumps) neither oracle gives *the* derivative: there the analytic value must lie in the interval
of one-sided derivatives (:mod:`tracegrad.check.kinks`), and the report says so.

>>> from tracegrad.gradcheck import gradcheck, gradgradcheck
>>> gradcheck(lambda x, y: (x * y).tanh(), [0.5, -1.5])
True
>>> gradgradcheck(lambda x: x ** 3, [2.0], method="complex")
True
>>> print(gradcheck_report(lambda x: x.relu() * 2, [0.0]).kinks[0])
out0 / x0: at a kink of relu (x = 0): one-sided derivatives 0 and 2; analytic 0 lies between
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Tuple, Union

from ..engine import Value, grad
from ..engine.errors import DomainError, TracegradError
from ..engine.replay import Replay
from .kinks import KinkNote, OneSided, one_sided
from .replay import COMPLEX_STEP, ComplexStepError, complex_replay, replay

__all__ = [
    "COMPLEX_STEP", "METHODS", "ComplexStepError", "Entry", "GradcheckError", "GradcheckReport",
    "analytic_jacobian", "format_table", "gradcheck", "gradcheck_report", "gradgradcheck",
    "numerical_jacobian", "replay",
]

METHODS = ("central", "complex")

Number = Union[int, float]
Function = Callable[..., Any]


class GradcheckError(TracegradError, AssertionError):
    """The engine's gradients disagree with numerical ones; the message is a table of them.

    Attributes:
        failures: the disagreeing entries, worst first.
        report: the whole :class:`GradcheckReport` (with the notes on kinks).
    """

    def __init__(self, message: str, failures: Sequence[Entry] = (), report: Optional[GradcheckReport] = None) -> None:
        super().__init__(message)
        self.failures = list(failures)
        self.report = report


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


def judge(entry: Entry, at_kink: Optional[OneSided], k: int, atol: float,
          rtol: float) -> Tuple[Entry, Optional[KinkNote], bool]:
    """``entry`` as compared, its kink note and whether it fails. Near a kink (``at_kink``, for
    output ``k``) the analytic value is judged against the interval of one-sided derivatives, and
    the entry shows the nearest of them as its numeric value."""
    if at_kink is None:
        return entry, None, entry.badness(atol, rtol) > 1.0
    note = at_kink.note(k, entry.output, entry.input, entry.analytic, atol, rtol)
    return entry._replace(numeric=note.nearest()), note, not note.ok


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
    leaves = [Value(x) for x in xs]
    recording = complex_replay(_outputs(f, leaves)) if method == "complex" else None
    columns = [_numeric_column(f, xs, names, i, eps, recording, leaves) for i in range(len(xs))]
    return [list(row) for row in zip(*columns)]


def _numeric_column(
    f: Function, xs: List[float], names: List[str], i: int, eps: float, recording: Optional[Replay],
    leaves: List[Value],
) -> List[float]:
    """``∂f_k/∂x_i`` for every output: the complex step on ``recording`` if given, else central
    differences of ``f`` called afresh."""
    if recording is not None:
        return [complex(o).imag / COMPLEX_STEP for o in recording.run({leaves[i]: complex(xs[i], COMPLEX_STEP)})]
    plus, minus = (_perturbed(f, xs, names, i, sign * eps) for sign in (1.0, -1.0))
    return [(p - m) / (2.0 * eps) for p, m in zip(plus, minus)]


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
    return _rows(_outputs(f, leaves), leaves)


def _rows(outs: Sequence[Any], leaves: Sequence[Value]) -> List[List[float]]:
    rows = []
    for out in outs:
        if not isinstance(out, Value):
            rows.append([0.0] * len(leaves))
            continue
        grads = grad(out, list(leaves), allow_unused=True)
        rows.append([0.0 if g is None else _data(g) for g in grads])
    return rows


def _check_method(method: str, eps: float) -> None:
    if method not in METHODS:
        raise ValueError(f"gradcheck: method must be one of {METHODS}, got {method!r}")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"gradcheck: eps must be a positive number, got {eps!r}")


# --- the checks


@dataclass
class GradcheckReport:
    """What a check compared: every entry, the failures worst first, and the notes on kinks.

    ``str(report)`` is the text of :class:`GradcheckError`; ``report.ok`` is True when every
    partial derivative agrees (at a kink: lies in the interval of one-sided derivatives).
    """

    header: str
    entries: List[Entry]
    failures: List[Entry]
    kinks: List[KinkNote] = field(default_factory=list)
    hint: str = ""
    columns: Tuple[str, str] = ("output", "input")

    @property
    def ok(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        lines = [self.header]
        if self.failures:
            lines.append(format_table(self.failures, self.columns))
        lines += [f"  {note}" for note in self.kinks]
        if self.hint and self.failures:
            lines.append(self.hint)
        return "\n".join(lines)


def gradcheck(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    method: str = "central",
    raise_exception: bool = True,
    fast: bool = False,
    seed: int = 0,
) -> bool:
    """Check the engine's first derivatives of ``f`` at ``inputs`` against numerical ones.

    Args:
        f: takes one Value per input and returns a Value or a list of Values.
        inputs: the point, as numbers or Values (only their data is used; their ``.grad`` is
            left alone).
        eps: the central-difference step (the complex step always uses ``h = 1e-20``), and how
            near a kink counts as *at* it.
        atol, rtol: an entry passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        method: ``"central"`` or ``"complex"``.
        raise_exception: raise :class:`GradcheckError` on a mismatch (default), else return False.
        fast: compare each output's derivative along one random direction ``v`` (seeded by
            ``seed``) with ``v · ∇f``: two evaluations of ``f`` instead of two per input. It
            cannot say which partial is wrong, and a wrong partial whose error is small next to
            the whole directional derivative can pass; check with ``fast=False`` to locate one.

    Returns:
        True when every partial derivative agrees; at a kink, when it lies between the
        one-sided derivatives (:func:`gradcheck_report` lists those notes).

    Raises:
        GradcheckError: a table of the disagreeing entries, worst first.

    >>> gradcheck(lambda x: x.sin(), [1.0], method="complex")
    True
    >>> gradcheck(lambda x, y: abs(x) * y, [0.0, 2.0])   # at the kink of abs: no false alarm
    True
    """
    report = gradcheck_report(f, inputs, eps=eps, atol=atol, rtol=rtol, method=method, fast=fast, seed=seed)
    return verdict(report, raise_exception)


def gradcheck_report(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    method: str = "central",
    fast: bool = False,
    seed: int = 0,
) -> GradcheckReport:
    """What :func:`gradcheck` compared, as a :class:`GradcheckReport` (arguments as there)."""
    return _compare(f, inputs, eps, atol, rtol, method, fast, seed, "gradcheck", _output_names)


def gradgradcheck(
    f: Function,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    method: str = "central",
    raise_exception: bool = True,
    fast: bool = False,
    seed: int = 0,
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

    report = _compare(gradients, inputs, eps, atol, rtol, method, fast, seed, "gradgradcheck", output_names)
    return verdict(report, raise_exception)


def verdict(report: GradcheckReport, raise_exception: bool) -> bool:
    if report.ok:
        return True
    if not raise_exception:
        return False
    raise GradcheckError(str(report), report.failures, report)


def _output_names(count: int) -> List[str]:
    return [f"out{k}" for k in range(count)]


def direction(n: int, seed: int) -> List[float]:
    """A random direction for fast mode: each component ±0.5 to ±1, so every input counts."""
    rng = random.Random(seed)
    return [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.0) for _ in range(n)]


def _compare(
    f: Function,
    inputs: Sequence[Any],
    eps: float,
    atol: float,
    rtol: float,
    method: str,
    fast: bool,
    seed: int,
    what: str,
    output_names: Callable[[int], List[str]],
) -> GradcheckReport:
    _check_method(method, eps)
    names, xs = _names(inputs), _as_floats(inputs)
    leaves = [Value(x) for x in xs]
    outs = _outputs(f, leaves)
    analytic = _rows(outs, leaves)
    labels = output_names(len(analytic))
    recording = complex_replay(outs)
    if fast:
        v = direction(len(xs), seed)
        columns, column_names = [v], ["along v"]
        analytic = [[sum(a * d for a, d in zip(row, v))] for row in analytic]
    else:
        columns = [[1.0 if j == i else 0.0 for j in range(len(xs))] for i in range(len(xs))]
        column_names = names
    entries, failures, notes = [], [], []
    for i, (d, input_name) in enumerate(zip(columns, column_names)):
        at_kink = one_sided(recording, leaves, xs, d, eps=eps, method=method)
        if at_kink is not None:
            numeric = [0.0] * len(labels)  # the interval of one-sided derivatives stands for it
        elif fast:
            numeric = _directional(f, xs, d, eps, method, recording, leaves)
        else:
            numeric = _numeric_column(f, xs, names, i, eps, recording if method == "complex" else None, leaves)
        for k, output in enumerate(labels):
            entry, note, failed = judge(Entry(output, input_name, analytic[k][i], numeric[k]), at_kink, k, atol, rtol)
            if note is not None:
                notes.append(note)
            if failed:
                failures.append(entry)
            entries.append(entry)
    failures.sort(key=lambda e: -e.badness(atol, rtol))
    point = ", ".join(f"{name}={x!r}" for name, x in zip(names, xs))
    mode = f"fast, v={[round(c, 3) for c in columns[0]]}, " if fast else ""
    header = (
        f"{what}: {len(failures)} of {len(entries)} {'directional' if fast else 'partial'} derivatives disagree "
        f"at {point} ({mode}method={method!r}, eps={eps:g}, atol={atol:g}, rtol={rtol:g})"
        + (", worst first:" if failures else "")
    )
    hint = "fast mode checks directions only: run with fast=False to see which partial derivatives disagree"
    return GradcheckReport(header, entries, failures, notes, hint if fast else "")


def _directional(
    f: Function, xs: List[float], v: List[float], eps: float, method: str, recording: Replay, leaves: List[Value]
) -> List[float]:
    """Each output's derivative along ``v``: a complex step on the recorded graph, or central
    differences of ``f`` called afresh at ``x ± eps·v``."""
    if method == "complex":
        shifted = {leaf: complex(x, COMPLEX_STEP * d) for leaf, x, d in zip(leaves, xs, v)}
        return [complex(o).imag / COMPLEX_STEP for o in recording.run(shifted)]
    sides = []
    for s in (1.0, -1.0):
        moved = [x + s * eps * d for x, d in zip(xs, v)]
        try:
            sides.append([_data(o) for o in _outputs(f, [Value(x) for x in moved])])
        except DomainError as exc:
            raise DomainError(
                f"gradcheck: f fails at {moved!r} (moved by {s * eps:+g} along v for central differences); "
                f"pick a point further from the edge of the domain or a smaller eps: {exc}"
            ) from exc
    return [(p - m) / (2.0 * eps) for p, m in zip(*sides)]


def format_table(entries: Sequence[Entry], columns: Tuple[str, str] = ("output", "input")) -> str:
    """The entries as an aligned text table: output, input, analytic, numeric, abs and rel error."""
    rows = [(*columns, "analytic", "numeric", "abs err", "rel err")]
    rows += [
        (e.output, e.input, f"{e.analytic:.10g}", f"{e.numeric:.10g}", f"{e.abs_err:.3g}", f"{e.rel_err:.3g}")
        for e in entries
    ]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
