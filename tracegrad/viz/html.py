"""The step-through page: one self-contained HTML file that works offline.

It holds the first frame as inline SVG and, for every later frame, the SVG of just the nodes and
edges that changed (the frames share one layout, so nothing else differs): a page stays small
even for a few hundred steps. The trace's numbers travel as JSON, read by a small script of our
own (Prev / Next / Play, a slider, ← → keys). A Content-Security-Policy forbids every network request.
Label text reaches the page only escaped by Graphviz (in the SVG) or as JSON read with
``textContent`` (in the panel), so a label such as ``</script>`` stays text.
"""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any, Dict, List, Optional, Union

from ..files import write_atomic
from .frames import CURRENT, FINAL_FILL, PARTIAL_FILL, RECEIVER, Frame, frames
from .page_assets import CSS, JS
from .render import Renderer
from .steps import Trace

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def inline_svg(svg: str) -> str:
    """An SVG document without its XML prolog, doctype and comments, ready to sit inside HTML."""
    body = _PROLOG.sub("", svg, count=1)
    return re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL).strip()


_GROUP = re.compile(r'<g id="f\d+_(\w+)" class="(?:node|edge)">(.*?)</g>', re.DOTALL)


_OUTER = re.compile(r'id="[^"]*" class="graph"')  # dot numbers the graph of each page


def groups(svg: str) -> Dict[str, str]:
    """The SVG markup inside each node's and edge's group of a frame, by element id (``v3``, ``e5_0``)."""
    return {gid: re.sub(r"<!--.*?-->", "", inner, flags=re.DOTALL).strip() for gid, inner in _GROUP.findall(svg)}


def deltas(made: List[Frame]) -> List[Dict[str, str]]:
    """For each frame, the groups that differ from the frame before (the first frame: none).

    Raises:
        RuntimeError: the frames differ outside their node and edge groups (they would not share a layout).
    """
    outside = {_OUTER.sub('class="graph"', _GROUP.sub("", re.sub(r"<!--.*?-->", "", f.svg, flags=re.DOTALL)))
               for f in made}
    if len(outside) > 1:
        raise RuntimeError("save_html: the frames do not share one layout; please report this with your graph")
    result: List[Dict[str, str]] = []
    before: Dict[str, str] = {}
    for frame in made:
        now = groups(frame.svg)
        result.append({gid: inner for gid, inner in now.items() if before and before.get(gid) != inner})
        before = now
    return result


def base_svg(frame: Frame) -> str:
    """The first frame, inline, with element ids the script addresses (``g_v3``)."""
    return re.sub(r'<g id="f\d+_(\w+)" class="(node|edge)">', r'<g id="g_\1" class="\2">', inline_svg(frame.svg))


def script_json(data: Any) -> str:
    """JSON that can sit inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _exact(x: float) -> Union[float, str]:
    return x if math.isfinite(x) else str(x)


def page_data(t: Trace, made: List[Frame], interval_ms: int = 900) -> Dict[str, Any]:
    """What the page's script reads: per frame its texts, the step's numbers, the gradients known,
    and the SVG of the nodes and edges that changed."""
    out: List[Dict[str, Any]] = []
    changes = deltas(made) if all(f.svg for f in made) else [{} for _ in made]
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
            step_data = {k: _exact(v) for k, v in numbers.items()}
            step_data["shown"] = {k: t.num(v) for k, v in numbers.items()}
            step_data["formula"] = step.formula
        out.append({
            "title": frame.title, "kind": frame.kind, "text": frame.text, "words": frame.words, "step": step_data,
            "grads": {str(n): _exact(g) for n, g in frame.grads.items()},
            "shownGrads": {str(n): t.num(g) for n, g in frame.grads.items()},
            "focus": "," + ",".join(str(n) for n in focus) + ",",
            "delta": {f"g_{gid}": inner for gid, inner in delta.items()},
        })
    r = t.name(t.root)
    captions = {"local": "local derivative", "upstream": f"upstream ∂{r}/∂node", "contribution": "contribution",
                "total": "running total"}
    return {"frames": out, "captions": captions, "interval": interval_ms, "start": 0}


def page(t: Trace, made: List[Frame], *, title: str = "") -> str:
    """The HTML text of the step-through page for frames already rendered."""
    heading = title or f"Backprop of {t.name(t.root)}, step by step"
    stage = base_svg(made[0]) if made else ""
    rows = "\n".join(
        f'<tr data-number="{t.number[v]}"><td>#{t.number[v]}</td><td>{html.escape(t.name(v))}</td>'
        f'<td class="num">{html.escape(t.num(v.data))}</td><td class="num grad">?</td></tr>'
        for v in t.values
    )
    last = max(len(made) - 1, 0)
    legend = (
        f'<span class="swatch" style="border-color:{CURRENT}"></span>node passing its gradient back'
        f'<span class="swatch" style="border-color:{RECEIVER}"></span>input receiving it'
        f'<span class="swatch" style="background:{PARTIAL_FILL}"></span>gradient still being summed'
        f'<span class="swatch" style="background:{FINAL_FILL}"></span>gradient complete'
        '<span class="swatch" style="border-style:dashed"></span>not computed yet'
    )
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(heading)}</title>
<style>{CSS}</style>
</head>
<body data-frame="0">
<header><h1>{html.escape(heading)}</h1>
<p>The forward pass in topological order, then every chain-rule step of backward. Use ← → or the buttons.</p></header>
<nav id="controls" aria-label="steps">
<button id="prev" type="button" aria-label="previous step">◀ Prev</button>
<button id="play" type="button">▶ Play</button>
<button id="next" type="button" aria-label="next step">Next ▶</button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="step">
<span id="counter">1 / {len(made)}</span>
<button id="fit" type="button">Fit to width</button>
</nav>
<main id="stage">
{stage}
</main>
<div id="layout">
<section id="panel" aria-live="polite">
<h2 id="title"></h2>
<p id="equation"></p>
<p id="words"></p>
<table hidden><tbody id="numbers"></tbody></table>
</section>
<section id="table">
<h2>Gradients so far</h2>
<table id="grads"><thead><tr><th>#</th><th>node</th><th>data</th><th>grad</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</section>
</div>
<footer id="legend">{legend}</footer>
<script type="application/json" id="trace-data">{script_json(page_data(t, made))}</script>
<script>{JS}</script>
</body>
</html>
"""


def save_html(t: Trace, path: Any, *, renderer: Union[Renderer, str, None] = None, title: str = "") -> str:
    """Write the step-through page of trace ``t`` to ``path`` (atomically); returns the path.

    Raises:
        RendererNotFound: no Graphviz renderer to draw the frames.
    """
    made = frames(t, renderer=renderer)
    return write_atomic(path, page(t, made, title=title))
