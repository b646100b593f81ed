"""Anomaly mode: stop at the first op that makes a NaN or an infinity, and say where.

Inside ``with detect_anomaly():`` every new node is noted with the file and line of *your* code
that made it, and checked: the first op whose output is NaN or ±inf raises
:class:`AnomalyError` naming the op, its input values and that line. ``backward()`` is checked
the same way, step by step: the first gradient that becomes NaN or ±inf raises, naming the op it
flowed through and where that node was made.

It works through the engine's mode hooks (:class:`tracegrad.engine.modes.mode_context`); when it is
off, the engine does nothing extra (it reads one context variable per node, as always).

>>> from tracegrad import Value
>>> with detect_anomaly():  # doctest: +ELLIPSIS
...     big = Value(1e200) * Value(1e200)
Traceback (most recent call last):
...
tracegrad.check.anomaly.AnomalyError: mul produced inf from x=1e+200, y=1e+200, at ...: big = ...
"""

from __future__ import annotations

import linecache
import math
import os
import sys
import weakref
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from ..engine import Step, Value, mode_context
from ..engine.errors import TracegradError
from ..engine.ops import describe_args

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # all of tracegrad


class AnomalyError(TracegradError, FloatingPointError):
    """An op produced NaN or inf (in the forward pass or in backward).

    Attributes:
        node: the node whose value, or whose gradient step, is not finite.
        op_name: the name of the op that made it.
        where: ``file:line in function: code`` of the user's code that created the node, or None
            if it was created outside ``detect_anomaly()``.
    """

    def __init__(self, message: str, node: Value, where: Optional[str]) -> None:
        super().__init__(message)
        self.node = node
        self.op_name = node.op.name if node.op is not None else None
        self.where = where


def _caller() -> str:
    """``file:line in function: code`` of the innermost frame outside tracegrad."""
    frame: Any = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - tracegrad never runs by itself
        return "<unknown>"
    filename, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, line).strip()
    text = f"{filename}:{line} in {frame.f_code.co_name}"
    return f"{text}: {code}" if code else text


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(x)
    except TypeError:  # a Value, under create_graph
        return math.isfinite(x.data)


def _inputs_text(node: Value) -> str:
    op = node.op
    if op is None:
        return ""
    args = [v.data for v in node.inputs]
    if node.param is not None:
        args.append(node.param)
    return describe_args(op, args)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first NaN or inf an op makes, forward or backward.

    Records where each computed Value was created (a weak reference: it does not keep graphs
    alive). Leaves made with ``Value(...)`` are not ops, so they are not recorded or checked.
    ``backward()`` and ``grad()`` are checked step by step (and under ``create_graph=True``
    the gradient nodes they build are checked as they are made).

    >>> from tracegrad import Value
    >>> with detect_anomaly():
    ...     y = (Value(2.0) * 3).tanh()    # finite: nothing happens
    """
    origins: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()

    def on_node(node: Value) -> None:
        where = _caller()
        origins[node] = where
        if not math.isfinite(node.data):
            name = node.op.name if node.op is not None else "an op under no_grad"
            made = _inputs_text(node)
            source = f" from {made}" if made else ""
            raise AnomalyError(f"{name} produced {node.data}{source}, at {where}", node, where)

    def on_step(step: Step) -> None:
        if _finite(step.contribution) and _finite(step.total):
            return
        node = step.node
        op = node.op
        name = op.name if op is not None else "?"
        input_name = op.input_names[step.position] if op is not None and op.arity > 0 else f"x{step.position}"
        where = origins.get(node)
        made = f"created at {where}" if where else "created outside detect_anomaly()"
        bad = step.contribution if not _finite(step.contribution) else step.total
        raise AnomalyError(
            f"backward: the gradient flowing through {name}({_inputs_text(node)}) into its input "
            f"{input_name} is {_plain(bad)} (local derivative {_plain(step.local)} × upstream "
            f"{_plain(step.upstream)}, running total {_plain(step.total)}); the {name} node was {made}",
            node,
            where,
        )

    with mode_context(on_node=on_node, on_step=on_step):
        yield


def _plain(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x
