"""Seeing the graph: pictures of it, backprop through it one chain-rule step at a time, and
training replayed (``replay(history)``, the page behind ``history.save_html``).

>>> from tracegrad import Value
>>> from tracegrad.viz import draw, trace, explain
>>> x, w = Value(2.0, label="x"), Value(-3.0, label="w")
>>> y = (x * w).tanh()
>>> len(trace(y).steps)
3

``draw`` needs the graphviz package; rendering (SVG/PNG, the step-through page) needs the
system Graphviz ``dot`` or ``graphviz-pure`` (``pip install tracegrad[viz]``); ``explain``
needs neither.
"""

from __future__ import annotations

from .dot import DEFAULT_MAX_NODES, GraphTooLarge, draw
from .learning import LearningPage, replay
from .render import RendererNotFound, RenderError, available_renderers, find_renderer, render, save
from .steps import StepRecord, Trace, explain, trace

__all__ = [
    "DEFAULT_MAX_NODES",
    "GraphTooLarge",
    "LearningPage",
    "RenderError",
    "RendererNotFound",
    "StepRecord",
    "Trace",
    "available_renderers",
    "draw",
    "explain",
    "find_renderer",
    "render",
    "replay",
    "save",
    "trace",
]
