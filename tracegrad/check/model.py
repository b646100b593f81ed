"""gradcheck_model: is every parameter's gradient right, for this loss on this batch?

:func:`~tracegrad.check.gradcheck.gradcheck` checks derivatives with respect to a function's
inputs; what a model's author wants to know is whether ``loss.backward()`` fills each
*parameter* with the right number. :func:`gradcheck_model` computes the loss the way ``fit``
does (``loss_fn([model(x) for x in X], y)``), takes the engine's gradient of every parameter
(without touching ``.grad``) and compares each with a numerical one:

* the **complex step** on the recorded graph where every op can replay on complex numbers
  (accurate to rounding), after one check along a random direction that calling the model again
  gives the same derivative: a parameter used through ``.data`` or a Value made again from a
  number is a dependence the graph does not record, which only calling the model again sees;
* **central differences**, calling the model again with each parameter moved by ``±eps``,
  otherwise (and where the graph misses a dependence).

At a kink of a ReLU (a pre-activation on or within ``eps`` of 0) a gradient must lie between the
one-sided derivatives, as in ``gradcheck``. Mismatches are reported by parameter name
(``layers.1.neurons.3.w.0``), worst first.

>>> from tracegrad.nn import MLP
>>> from tracegrad.nn.losses import mse
>>> model = MLP(2, [4, 1], activation="tanh", rng=0)
>>> gradcheck_model(model, mse, ([[0.5, -1.0], [1.5, 2.0]], [1.0, -1.0]))
True
"""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..engine import Value, grad
from ..engine.errors import DomainError
from ..engine.replay import Replay
from .gradcheck import Entry, GradcheckReport, direction, judge, verdict
from .kinks import kink_nodes, one_sided
from .replay import COMPLEX_STEP, ComplexStepError, complex_replay

__all__ = ["gradcheck_model", "gradcheck_model_report"]

METHODS = ("auto", "complex", "central")


def gradcheck_model(
    model: Any,
    loss_fn: Callable[[List[Any], Any], Any],
    batch: Tuple[Sequence[Any], Any],
    *,
    method: str = "auto",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check the gradient of every parameter of ``model`` for ``loss_fn`` on ``batch``.

    Args:
        model: a :class:`~tracegrad.nn.Module` (``named_parameters()``, callable on one input).
        loss_fn: ``loss_fn(outputs, targets) -> Value``, as :func:`~tracegrad.nn.train.fit` takes.
        batch: ``(inputs, targets)``; the model is called on each input.
        method: ``"auto"`` (the complex step where the graph allows it, else central
            differences), ``"complex"`` or ``"central"``.
        eps, atol, rtol: as for :func:`~tracegrad.check.gradcheck.gradcheck`.
        fast: compare one random direction over all parameters (``v · ∇loss``) instead of
            each parameter: one replay instead of one per parameter; it says *that* some
            gradient is wrong, not which.
        raise_exception: raise :class:`~tracegrad.check.gradcheck.GradcheckError` (a table by
            parameter name, worst first) on a mismatch, else return False.

    Returns:
        True when every parameter's gradient agrees. The parameters' data and ``.grad`` are
        left as they were.
    """
    report = gradcheck_model_report(model, loss_fn, batch, method=method, eps=eps, atol=atol, rtol=rtol,
                                    fast=fast, seed=seed)
    return verdict(report, raise_exception)


def gradcheck_model_report(
    model: Any,
    loss_fn: Callable[[List[Any], Any], Any],
    batch: Tuple[Sequence[Any], Any],
    *,
    method: str = "auto",
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    seed: int = 0,
) -> GradcheckReport:
    """What :func:`gradcheck_model` compared, as a report (arguments as there)."""
    if method not in METHODS:
        raise ValueError(f"gradcheck_model: method must be one of {METHODS}, got {method!r}")
    named = list(model.named_parameters())
    if not named:
        raise ValueError("gradcheck_model: the model has no parameters to check")
    names, params = [n for n, _ in named], [p for _, p in named]
    inputs, targets = _split(batch)

    def loss_at(point: Optional[Sequence[float]] = None) -> Any:
        saved = [p.data for p in params]
        try:
            if point is not None:
                for p, x in zip(params, point):
                    p.data = x
            loss = loss_fn([model(x) for x in inputs], targets)
        finally:
            for p, x in zip(params, saved):
                p.data = x
        if not isinstance(loss, Value):
            raise TypeError(f"gradcheck_model: loss_fn must return a Value, got {type(loss).__name__} {loss!r}")
        return loss

    loss = loss_at()
    analytic = [0.0 if g is None else float(g.data if isinstance(g, Value) else g)
                for g in grad(loss, params, allow_unused=True)]
    point = [p.data for p in params]
    recording = complex_replay([loss])
    oracle = _Oracle(recording, params, point, loss_at, eps)
    hint = oracle.choose(method, seed, atol, rtol)
    columns = [direction(len(params), seed)] if fast else [
        [1.0 if j == i else 0.0 for j in range(len(params))] for i in range(len(params))]
    labels = ["along v"] if fast else names
    entries, failures, notes = [], [], []
    for d, label in zip(columns, labels):
        numeric, at_kink = oracle.derivative(d)
        entry, note, failed = judge(Entry("loss", label, sum(g * c for g, c in zip(analytic, d)), numeric),
                                    at_kink, 0, atol, rtol)
        if note is not None:
            notes.append(note)
        if failed:
            failures.append(entry)
        entries.append(entry)
    failures.sort(key=lambda e: -e.badness(atol, rtol))
    what = "directional derivatives" if fast else "parameter gradients"
    header = (f"gradcheck_model: {len(failures)} of {len(entries)} {what}"
              f" disagree for a loss of {loss.data:.6g} on {len(inputs)} example{'s' if len(inputs) != 1 else ''} "
              f"({oracle.name}, eps={eps:g}, atol={atol:g}, rtol={rtol:g})" + (", worst first:" if failures else ""))
    if fast:
        hint = " ".join(filter(None, [hint, "fast mode checks one direction: run with fast=False to see which "
                                            "parameters disagree"]))
    return GradcheckReport(header, entries, failures, notes, hint, columns=("of", "parameter"))


def _split(batch: Any) -> Tuple[List[Any], Any]:
    try:
        inputs, targets = batch
    except (TypeError, ValueError) as exc:
        raise TypeError(f"gradcheck_model: batch must be (inputs, targets), got {type(batch).__name__}") from exc
    return list(inputs), targets


class _Oracle:
    """The numerical derivative of the loss along a direction over the parameters."""

    def __init__(self, recording: Replay, params: List[Value], point: List[float],
                 loss_at: Callable[..., Any], eps: float) -> None:
        self.recording, self.params, self.point, self.loss_at, self.eps = recording, params, point, loss_at, eps
        self.complex = False
        self.kinks = kink_nodes(recording)
        self.name = "central differences"

    def choose(self, method: str, seed: int, atol: float, rtol: float) -> str:
        """Pick the complex step or central differences; a sentence for the report if it matters."""
        if method == "central":
            return ""
        try:
            self.recording.run({self.params[0]: complex(self.point[0], COMPLEX_STEP)})
        except ComplexStepError as exc:
            if method == "complex":
                raise
            return f"Central differences: the complex step cannot replay this graph ({exc})."
        self.complex, self.name = True, "complex step"
        if method == "complex":
            return ""
        for k in range(3):  # a direction that crosses no kink, to compare with calling the model again
            v = direction(len(self.params), seed + 1 + k)
            if self.kinks and one_sided(self.recording, self.params, self.point, v, eps=self.eps, method="central"):
                continue
            replayed, called = self._complex(v)[0], self._central(v)
            if abs(replayed - called) > atol + rtol * abs(called):
                self.complex, self.name = False, "central differences"
                return (f"Central differences: along a random direction, calling the model again gives {called:.6g} "
                        f"but the recorded graph gives {replayed:.6g}, so the loss depends on the parameters through "
                        "something the graph does not record (a use of .data, or a Value made again from a number).")
            return ""
        return ""

    def derivative(self, d: List[float]) -> Tuple[float, Any]:
        """The loss's derivative along ``d``, or the interval of one-sided ones at a kink."""
        value, near = self._complex(d) if self.complex else (self._central(d), bool(self.kinks))
        if near:
            try:
                at_kink = one_sided(self.recording, self.params, self.point, d, eps=self.eps,
                                    method="complex" if self.complex else "central")
            except ComplexStepError:  # a graph that cannot be replayed: no kink is looked for
                at_kink = None
            if at_kink is not None:
                return math.nan, at_kink
        return value, None

    def _complex(self, d: List[float]) -> Tuple[float, bool]:
        """The complex step along ``d``, and whether a kink node's input might be within eps of
        its kink (its replayed input ``u + i·h·u'`` tells: ``|u - at| <= eps·|u'|``)."""
        arguments = dict.fromkeys(self.kinks)
        shifted = {p: complex(x, COMPLEX_STEP * c) for p, x, c in zip(self.params, self.point, d)}
        (out,) = self.recording.run(shifted, arguments=arguments)
        near = False
        for node, u in arguments.items():
            if u is None or node.op is None:
                continue
            u = complex(u)
            slope = abs(u.imag / COMPLEX_STEP)
            near = near or any(abs(u.real - at) <= 2 * self.eps * slope or u.real == at for at, _, _ in node.op.kinks)
        return complex(out).imag / COMPLEX_STEP, near

    def _central(self, d: List[float]) -> float:
        """Central differences along ``d``, calling the model again at ``θ ± eps·d``."""
        sides = []
        for s in (1.0, -1.0):
            moved = [x + s * self.eps * c for x, c in zip(self.point, d)]
            try:
                sides.append(float(self.loss_at(moved).data))
            except DomainError as exc:
                raise DomainError(f"gradcheck_model: the loss fails with the parameters moved by {s * self.eps:+g}; "
                                  f"use a smaller eps: {exc}") from exc
        return (sides[0] - sides[1]) / (2.0 * self.eps)
