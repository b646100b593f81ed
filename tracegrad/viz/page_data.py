"""What the step-through page's script reads, all computed here from the trace: per frame its
texts, the step's numbers, the gradients that change and the looks of the picture's elements that
change (as the SVG attributes to set); the questions of practice mode; each node's gradient as a
chain-rule sum; and the nudges.

The page never computes a number itself: it shows these, and compares a learner's answer with them.
Each frame carries only what changes, so the data grows with frames + graph.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..engine import Value
from .looks import Look, svg_paint
from .nudge import nudges
from .steps import StepRecord, Trace
from .timeline import Moment

TOLERANCE = 0.01
"""A practice answer is right when within 1% of the contribution (or 1e-9 of it, near 0)."""


def script_json(data: Any) -> str:
    """JSON that can sit inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def exact(x: float) -> Union[float, str]:
    """A float as JSON can hold it (``"inf"``, ``"nan"`` as text)."""
    return x if math.isfinite(x) else str(x)


def _sign(x: float) -> int:
    return 0 if x == 0 or math.isnan(x) else (1 if x > 0 else -1)


def question(t: Trace, step: StepRecord) -> Dict[str, Any]:
    """Practice mode's question for a step: its equation up to the contribution, which the learner gives."""
    r, n, x = t.d(t.root), t.d(step.node), t.d(step.input)
    local = t.names.formula_term(step.node, step.position).inside(60)
    head = f"{r}/{x} += {local} × {r}/{r}" if step.node is t.root else f"{r}/{x} += {n}/{x} × {r}/{n}"
    return {
        "text": f"{head} = {local} × {t.num(step.upstream)} = ?",
        "answer": exact(step.contribution), "shown": t.num(step.contribution), "sign": _sign(step.contribution),
        "edge": f"g_e{step.node_number}_{step.position}", "edgeText": f"? × {t.num(step.upstream)} = ?",
        "node": f"g_v{step.input_number}", "number": str(step.input_number),
    }


def inspector(t: Trace, first_step: int) -> Dict[str, Any]:
    """Each node's gradient as the whole chain-rule sum over the nodes that use it, term by term.

    ``first_step`` is the frame index of backward step 1, so the page knows which terms a frame has reached.
    """
    result: Dict[str, Any] = {}
    r = t.d(t.root)
    uses: Dict[Value, List[StepRecord]] = {}
    for s in t.steps:
        uses.setdefault(s.input, []).append(s)
    for v in t.values:
        head = f"{r}/{t.d(v)}"
        if v is t.root:
            result[str(t.number[v])] = {"name": t.name(v), "head": head, "seed": t.seed_text(), "terms": [],
                                        "total": t.num(t.gradient), "frame": first_step - 1}
            continue
        terms = []
        for s in uses.get(v, []):
            n = t.d(s.node)
            chain = f"{t.names.formula_term(s.node, s.position).inside(60)} × {r}/{r}" if s.node is t.root \
                else f"{n}/{t.d(v)} × {r}/{n}"
            terms.append({"frame": first_step + s.index - 1, "step": s.index, "chain": chain,
                          "numbers": f"{t.num(s.local)} × {t.num(s.upstream)}", "value": t.num(s.contribution),
                          "user": t.name(s.node)})
        result[str(t.number[v])] = {"name": t.name(v), "head": head, "terms": terms,
                                    "total": t.num(t.grad_of(v)), "exact": exact(t.grad_of(v))}
    return result


def nudge_rows(t: Trace) -> List[Dict[str, Any]]:
    """For each leaf: the output's change when the leaf is raised by h, beside grad × h."""
    grads = {v: t.grad_of(v) for v in t.values}
    rows = []
    for row in nudges(t.values, grads, t.gradient):
        rows.append({
            "number": str(t.number[row.leaf]), "name": t.name(row.leaf), "h": t.num(row.h),
            "change": "undefined" if row.change is None else t.num(row.change),
            "changeExact": None if row.change is None else exact(row.change),
            "predicted": t.num(row.predicted), "predictedExact": exact(row.predicted),
            "grad": t.num(grads[row.leaf]),
        })
    return rows


class _Paints:
    """Each distinct look's SVG attributes once, by number: a frame refers to them."""

    def __init__(self) -> None:
        self.table: List[Dict[str, Dict[str, Optional[str]]]] = []
        self.index: Dict[Tuple[str, Tuple[Tuple[str, str], ...]], int] = {}

    def entry(self, look: Look) -> List[Any]:
        """``[look number, *texts]``: what the script sets on one element."""
        key = (look.kind, look.attrs)
        if key not in self.index:
            self.index[key] = len(self.table)
            self.table.append(svg_paint(look))
        return [self.index[key], *look.texts]


def page_data(t: Trace, moments: List[Moment], heads: Optional[Mapping[str, str]] = None, interval_ms: int = 900,
              practice: bool = False) -> Dict[str, Any]:
    """What the page's script reads (see the module's docstring); ``heads`` are the arrowheads the
    renderer draws elsewhere under the current step's pen (:class:`~tracegrad.viz.stage.Stage`)."""
    out: List[Dict[str, Any]] = []
    paints = _Paints()
    first_step = len(t.values) + 1
    for moment in moments:
        step = moment.step
        step_data: Optional[Dict[str, Any]] = None
        if step is not None:
            numbers = {"local": step.local, "upstream": step.upstream, "contribution": step.contribution,
                       "total": step.total}
            step_data = {k: exact(v) for k, v in numbers.items()}
            step_data["shown"] = {k: t.num(v) for k, v in numbers.items()}
            step_data["formula"] = step.formula
            if practice:
                step_data["question"] = question(t, step)
        out.append({
            "title": moment.title, "kind": moment.kind, "text": moment.text, "words": moment.words, "step": step_data,
            "grads": {str(n): exact(g) for n, g in moment.grads.items()},
            "shownGrads": {str(n): t.num(g) for n, g in moment.grads.items()},
            "focus": [str(n) for n in moment.focus],
            # the way the gradient travels: from the node to its op, then along the step's edge
            "edges": [] if step is None else [f"g_r{step.node_number}", f"g_e{step.node_number}_{step.position}"],
            "paint": {f"g_{element}": paints.entry(look) for element, look in moment.changes.items()},
        })
    r = t.d(t.root)
    captions = {"local": "local derivative", "upstream": f"upstream {r}/∂node", "contribution": "contribution",
                "total": "running total"}
    return {"frames": out, "looks": paints.table, "heads": {f"g_{e}": p for e, p in (heads or {}).items()},
            "captions": captions, "interval": interval_ms, "start": 0, "practice": practice,
            "tolerance": TOLERANCE, "inspect": inspector(t, first_step), "nudges": nudge_rows(t),
            "root": t.name(t.root)}
