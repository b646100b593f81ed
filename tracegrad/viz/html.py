"""The step-through page: one self-contained HTML file that works offline, and inline in notebooks.

It holds one drawing of the graph (:mod:`tracegrad.viz.stage`) and, for every frame, only the
looks of the elements that change (:mod:`tracegrad.viz.timeline`), as the SVG attributes and
texts the page's script sets on that drawing: the page's size and the time to make it grow with
frames + graph. The trace's numbers travel as JSON (:mod:`tracegrad.viz.page_data`), read by a
small script of our own (:mod:`tracegrad.viz.page_script`): Previous / Next / Play, a slider,
← → keys, pan and zoom, practice mode, the node inspector and the nudges. A
Content-Security-Policy forbids every network request. Label text reaches the page only escaped
by Graphviz (in the SVG), by :func:`html.escape`, or as JSON read with ``textContent``, so a label
such as ``</script>`` stays text.
"""

from __future__ import annotations

import html
from typing import Any, List, Optional, Tuple, Union

from ..files import write_atomic
from .looks import CURRENT, FINAL_FILL, PARTIAL_FILL, RECEIVER
from .notebook import NotebookPage
from .page_assets import CSS
from .page_data import page_data, script_json
from .page_script import JS
from .render import Renderer, find_renderer
from .stage import FONT_SIZES, Stage, lay_out, stage
from .steps import Trace
from .timeline import Moment, timeline
from .viewer import READABLE_PX, VIEWER_JS, ZOOM_BUTTONS, page_head, svg_size

NOTEBOOK_COLUMN = 860
"""About how wide a notebook's output column is, in CSS pixels: what an inline page is sized for."""


def _rows(t: Trace) -> str:
    return "\n".join(
        f'<tr data-number="{t.number[v]}"><td>#{t.number[v]}</td>'
        f'<td><button type="button" class="link" data-number="{t.number[v]}">{html.escape(t.name(v))}</button></td>'
        f'<td class="num">{html.escape(t.num(v.data))}</td><td class="num grad">?</td></tr>'
        for v in t.values
    )


def _nudges(t: Trace, data: Any) -> str:
    if not data["nudges"]:
        return ""
    root = html.escape(t.name(t.root))
    rows = "\n".join(
        f'<tr data-number="{row["number"]}"><td>{html.escape(row["name"])}</td>'
        f'<td class="num">{html.escape(row["h"])}</td>'
        f'<td class="num change">{html.escape(row["change"])}</td>'
        f'<td class="num predicted">{html.escape(row["predicted"])}</td></tr>'
        for row in data["nudges"]
    )
    h = html.escape(data["nudges"][0]["h"])
    return f"""<section id="nudge" aria-labelledby="nudge-title">
<h2 id="nudge-title">Nudge each input by h = {h}</h2>
<p class="hint">Raise one input by h and run the forward pass again: {root} changes by about its gradient × h.</p>
<table><thead><tr><th>input</th><th>h</th><th>change of {root}</th><th>grad × h</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</section>"""


def page(t: Trace, drawn: Stage, moments: List[Moment], *, title: str = "", practice: bool = False,
         stage_height: Optional[int] = None) -> str:
    """The HTML text of the step-through page from its drawing and its frames as data.

    Args:
        practice: ask the learner for each backward step's contribution before showing it.
        stage_height: the picture's height in CSS pixels, for a page shown inside a notebook
            (None: a part of the browser window).
    """
    root = t.name(t.root)
    heading = title or (f"Practise backprop of {root}" if practice else f"Backprop of {root}, step by step")
    last = max(len(moments) - 1, 0)
    data = page_data(t, moments, drawn.heads, practice=practice)
    data["readable"] = READABLE_PX
    data["smallestFont"] = min(FONT_SIZES)
    legend = (
        f'<span class="swatch" style="border-color:{CURRENT}"></span>node passing its gradient back'
        f'<span class="swatch" style="border-color:{RECEIVER}"></span>input receiving it'
        f'<span class="swatch" style="background:{PARTIAL_FILL}"></span>gradient still being summed'
        f'<span class="swatch" style="background:{FINAL_FILL}"></span>gradient complete'
        '<span class="swatch" style="border-style:dashed"></span>not computed yet'
    )
    body_class = " ".join(c for c, on in (("embedded", stage_height is not None), ("practice", practice)) if on)
    stage_style = f' style="height:{stage_height}px"' if stage_height is not None else ""
    intro = ("Before each backward step is shown, type its contribution (local derivative × upstream gradient); "
             "the page checks it and keeps your score." if practice else
             "The forward pass in topological order, then every chain-rule step of backward.")
    return page_head(heading, CSS) + f"""<body data-frame="0" class="{body_class}">
<header><h1>{html.escape(heading)}</h1>
<p>{intro} Use ← → or the buttons; drag the picture to pan, the wheel to zoom;
click a node to see its gradient as a sum.</p></header>
<nav id="controls" aria-label="Steps">
<button id="prev" type="button"><span aria-hidden="true">◀ </span>Previous</button>
<button id="play" type="button" aria-pressed="false"><span id="play-icon" aria-hidden="true">▶</span> Play</button>
<button id="next" type="button">Next<span aria-hidden="true"> ▶</span></button>
<input id="slider" type="range" min="0" max="{last}" value="0" aria-label="Step">
<span id="counter">1 / {len(moments)}</span>
{ZOOM_BUTTONS}
</nav>
<main id="stage" class="stage"{stage_style}>
{drawn.svg}
</main>
<div id="layout">
<section id="panel" aria-live="polite" aria-label="Explanation">
<h2 id="title"></h2>
<p id="equation"></p>
<div id="practice" hidden>
<label for="answer">Your answer</label>
<input id="answer" type="text" inputmode="decimal" autocomplete="off" spellcheck="false">
<button id="check" type="button">Check</button>
<label class="hint"><input id="sign-only" type="checkbox"> just its sign (+, - or 0)</label>
</div>
<p id="feedback"></p>
<p id="words"></p>
<table hidden><tbody id="numbers"></tbody></table>
<p id="score"{"" if practice else " hidden"}></p>
</section>
<div id="side">
<section id="inspect" aria-labelledby="inspect-title">
<h2 id="inspect-title">Node inspector</h2>
<div id="inspect-body"><p class="hint">Click a node, or a name below, to see its gradient as the sum
of its chain-rule terms.</p></div>
</section>
<section id="table" aria-labelledby="grads-title">
<h2 id="grads-title">Gradients so far</h2>
<table id="grads"><thead><tr><th>#</th><th>node</th><th>data</th><th>grad</th></tr></thead>
<tbody>
{_rows(t)}
</tbody></table>
</section>
{_nudges(t, data)}
</div>
</div>
<footer id="legend">{legend}</footer>
<script type="application/json" id="trace-data">{script_json(data)}</script>
<script>{VIEWER_JS}{JS}</script>
</body>
</html>
"""


def notebook_stage(drawn: Stage) -> int:
    """How tall the picture is in a notebook: its height at the readable zoom, within 160–460 px."""
    width, height = svg_size(drawn.svg) if drawn.svg else (600.0, 300.0)
    scale = max(min(NOTEBOOK_COLUMN / width, 1.0), 0.82)
    return int(min(max(height * scale + 72, 160), 460))  # room for the margins the page keeps around a step


class StepPage(NotebookPage):
    """The step-through page of a trace: a notebook shows it inline; :meth:`save` writes it.

    In a notebook, ``trace(o).page(practice=True)`` as the last line of a cell shows the
    practice page inline.
    """

    def __init__(self, t: Trace, *, practice: bool = False, renderer: Union[Renderer, str, None] = None,
                 title: str = "") -> None:
        self.trace = t
        self.practice = practice
        self.renderer = renderer
        self.title = title

    def parts(self) -> Tuple[Stage, List[Moment]]:
        """The drawing and the frames as data, made once per trace and renderer: one layout, one drawing."""
        key = f"stage:{self.renderer}"
        if key not in self.trace._made:
            chosen = self.renderer if isinstance(self.renderer, Renderer) else find_renderer(self.renderer)
            moments = timeline(self.trace)
            drawn = stage(self.trace, lay_out(self.trace, chosen), moments[0].changes, chosen)
            self.trace._made[key] = (drawn, moments)
        made: Tuple[Stage, List[Moment]] = self.trace._made[key]
        return made

    @property
    def html(self) -> str:
        """The page as one HTML document (for a browser window)."""
        return page(self.trace, *self.parts(), title=self.title, practice=self.practice)

    def save(self, path: Any) -> str:
        """Write the page to ``path`` (atomically); returns the path."""
        return write_atomic(path, self.html)

    def notebook_page(self) -> Tuple[str, int, str]:
        key = f"notebook:{self.renderer}:{self.practice}:{self.title}"
        if key not in self.trace._made:
            drawn, moments = self.parts()
            height = notebook_stage(drawn)
            text = page(self.trace, drawn, moments, title=self.title, practice=self.practice, stage_height=height)
            kind = "Practice" if self.practice else "Step-through"
            heading = f"{kind}: backprop of {self.trace.name(self.trace.root)}"
            self.trace._made[key] = (text, height + 420, heading)
        result: Tuple[str, int, str] = self.trace._made[key]
        return result

    def __repr__(self) -> str:
        kind = "practice page" if self.practice else "step-through page"
        return f"<{kind} of {self.trace.name(self.trace.root)}: {len(self.trace.steps)} backward steps>"


def save_html(t: Trace, path: Any, *, renderer: Union[Renderer, str, None] = None, title: str = "",
              practice: bool = False) -> str:
    """Write the step-through page of trace ``t`` to ``path`` (atomically); returns the path.

    Args:
        practice: practice mode: before each backward step's numbers are shown, the learner types
            the contribution (or its sign); the page checks it within 1% and keeps a score.

    Raises:
        RendererNotFound: no Graphviz renderer to lay out and draw the graph.
    """
    return StepPage(t, practice=practice, renderer=renderer, title=title).save(path)
