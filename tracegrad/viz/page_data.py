"""What the step-through page's script reads, all computed here from the trace: per frame its
texts, the step's numbers, the gradients known and the SVG of what changed; the questions of
practice mode; each node's gradient as a chain-rule sum; and the nudges.

The page never computes a number itself: it shows these, and compares a learner's answer with them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Optional, Union

from .frames import Frame
from .nudge import nudges
from .steps import StepRecord, Trace
from .viewer import inline_svg

_GROUP = re.compile(r'<g id="f\d+_(\w+)" class="(?:node|edge)">(.*?)</g>', re.DOTALL)
_OUTER = re.compile(r'id="[^"]*" class="graph"')  # dot numbers the graph of each page
_FRAME_ID = re.compile(r'id="f\d+_')  # the module boxes' ids carry their frame's number
_SVG_TAG = re.compile(r"<svg\b[^>]*>")
_BACKGROUND = re.compile(r'<polygon fill="white" stroke="transparent" points="[^"]*"/>')
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"')
_CLUSTER = re.compile(r'<g id="[^"]*" class="cluster">.*?</g>', re.DOTALL)

TOLERANCE = 0.01
"""A practice answer is right when within 1% of the contribution (or 1e-9 of it, near 0)."""


def groups(svg: str) -> Dict[str, str]:
    """The SVG markup inside each node's and edge's group of a frame, by element id (``v3``, ``e5_0``)."""
    return {gid: re.sub(r"<!--.*?-->", "", inner, flags=re.DOTALL).strip() for gid, inner in _GROUP.findall(svg)}


def deltas(made: List[Frame]) -> List[Dict[str, str]]:
    """For each frame, the groups that differ from the frame before (the first frame: none).

    Raises:
        RuntimeError: the frames differ outside their node and edge groups (they would not share a layout).
    """
    outside = {_outside(f.svg) for f in made}
    if len(outside) > 1:
        raise RuntimeError("save_html: the frames do not share one layout; please report this with your graph")
    result: List[Dict[str, str]] = []
    before: Dict[str, str] = {}
    for frame in made:
        now = groups(frame.svg)
        result.append({gid: inner for gid, inner in now.items() if before and before.get(gid) != inner})
        before = now
    return result


def _outside(svg: str) -> str:
    """A frame without its node and edge groups: the same in every frame of one layout (the module
    boxes, which the renderer may write in any order, sorted)."""
    text = _OUTER.sub('class="graph"', _GROUP.sub("", re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)))
    text = _BACKGROUND.sub("", _SVG_TAG.sub("<svg>", text, count=1), count=1)  # a label may widen a frame
    boxes = sorted(_FRAME_ID.sub('id="', box) for box in _CLUSTER.findall(text))
    return _CLUSTER.sub("", text) + "".join(boxes)


def base_svg(made: List[Frame]) -> str:
    """The first frame, inline, with element ids the script addresses (``g_v3``), and a view box
    that holds every frame (an edge's label can reach past the boxes)."""
    svg = re.sub(r'<g id="f\d+_(\w+)" class="(node|edge)">', r'<g id="g_\1" class="\2">', inline_svg(made[0].svg))
    boxes = [[float(x) for x in m.groups()] for m in (_VIEWBOX.search(f.svg) for f in made) if m]
    if boxes:
        x, y = boxes[0][:2]
        width, height = max(b[2] for b in boxes), max(b[3] for b in boxes)
        svg = _VIEWBOX.sub(f'viewBox="{x:g} {y:g} {width:g} {height:g}"', svg, count=1)
    return svg


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
    for v in t.values:
        head = f"{r}/{t.d(v)}"
        if v is t.root:
            result[str(t.number[v])] = {"name": t.name(v), "head": head, "seed": t.seed_text(), "terms": [],
                                        "total": t.num(t.gradient), "frame": first_step - 1}
            continue
        terms = []
        for s in t.steps:
            if s.input is v:
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


def page_data(t: Trace, made: List[Frame], interval_ms: int = 900, practice: bool = False) -> Dict[str, Any]:
    """What the page's script reads (see the module's docstring)."""
    out: List[Dict[str, Any]] = []
    changes = deltas(made) if all(f.svg for f in made) else [{} for _ in made]
    first_step = len(t.values) + 1
    for frame, delta in zip(made, changes):
        step = frame.step
        focus = [t.number[t.root]] if frame.kind == "seed" else []
        if frame.kind == "forward":
            focus = [frame.index + 1]
        step_data: Optional[Dict[str, Any]] = None
        if step is not None:
            focus = [step.node_number, step.input_number]
            numbers = {"local": step.local, "upstream": step.upstream, "contribution": step.contribution,
                       "total": step.total}
            step_data = {k: exact(v) for k, v in numbers.items()}
            step_data["shown"] = {k: t.num(v) for k, v in numbers.items()}
            step_data["formula"] = step.formula
            if practice:
                step_data["question"] = question(t, step)
        out.append({
            "title": frame.title, "kind": frame.kind, "text": frame.text, "words": frame.words, "step": step_data,
            "grads": {str(n): exact(g) for n, g in frame.grads.items()},
            "shownGrads": {str(n): t.num(g) for n, g in frame.grads.items()},
            "focus": [str(n) for n in focus],
            "delta": {f"g_{gid}": inner for gid, inner in delta.items()},
        })
    r = t.d(t.root)
    captions = {"local": "local derivative", "upstream": f"upstream {r}/∂node", "contribution": "contribution",
                "total": "running total"}
    return {"frames": out, "captions": captions, "interval": interval_ms, "start": 0, "practice": practice,
            "tolerance": TOLERANCE, "inspect": inspector(t, first_step), "nudges": nudge_rows(t),
            "root": t.name(t.root)}
