"""The training page: one self-contained offline file that replays how a model learned.

A scrubber (a slider named "Snapshot", Play / Pause, ← →) moves through the snapshots that
``fit(..., record=True)`` kept. For one run the page shows the data and the model's view of it,
the loss and accuracy curves with the snapshot marked, the network (weights as coloured edges,
each neuron's output over the input plane) and, for a clicked point, its graph with the forward
values and gradients. For several runs (``replay({"lr 0.01": h1, "lr 0.1": h2})``) it shows
each run's data, curves and numbers side by side under one scrubber.

Everything the page says is computed here in Python from the recording; the page's own small
script only swaps what is shown. Names reach the page only escaped (in HTML and SVG) or inside
JSON read with ``textContent``, and a Content-Security-Policy forbids every network request.

>>> from tracegrad.nn import MLP, SGD, fit
>>> from tracegrad.nn.data import moons
>>> from tracegrad.nn.losses import hinge
>>> model = MLP(2, [4, 1], rng=0, fused=True)
>>> history = fit(model, moons(20, seed=0, signed=True), hinge, SGD(model.parameters(), lr=0.1),
...               epochs=5, progress=False, record=True)
>>> page = replay(history, graph_points=0)
>>> "Snapshot" in page.html
True
"""

from __future__ import annotations

import html
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..files import write_atomic
from ..nn.replay import Replayer
from .learning_assets import CSS, JS
from .learning_curves import Curves, loss_range, readouts
from .learning_graph import PointGraphs
from .learning_network import NetworkView, network_data
from .learning_views import GRID, DataView
from .notebook import NotebookPage
from .page_data import script_json
from .render import Renderer
from .svgplot import NEGATIVE, POSITIVE, esc, hex_colour, joined
from .viewer import page_head

REPLAY_SECONDS = 12.0
"""How long Play takes from the first snapshot to the last (within 60–600 ms a snapshot)."""


class LearningPage(NotebookPage):
    """A training page: ``.html`` is the whole page; a notebook shows it inline.

    Attributes:
        html: the page's HTML text (one self-contained document).
        title: its title.
        height: the height a notebook gives it, in CSS pixels.
    """

    def __init__(self, page: str, title: str, height: int) -> None:
        self.html = page
        self.title = title
        self.height = height

    def save_html(self, path: Any) -> str:
        """Write the page to ``path`` atomically; returns the path."""
        return write_atomic(path, self.html)

    def notebook_page(self) -> Tuple[str, int, str]:
        return self.html, self.height, self.title

    def __repr__(self) -> str:
        return f"<LearningPage {self.title!r}: {len(self.html.encode('utf-8')) / 1e6:.2f} MB>"


def _unique(items: Sequence[str]) -> Tuple[List[str], List[int]]:
    """The distinct items in order and, for each item, its place among them (pages repeat images)."""
    table: Dict[str, int] = {}
    at = []
    for item in items:
        at.append(table.setdefault(item, len(table)))
    return list(table), at


class _Run:
    """One recorded run, with everything its part of the page shows."""

    def __init__(self, name: str, history: Any, index: int, *, detailed: bool, grid: int, model: Any, loss: Any,
                 graph_points: Union[int, Sequence[int], None], renderer: Union[Renderer, str, None],
                 shared: Optional[Tuple[float, float, bool]]) -> None:
        rec = getattr(history, "recording", None)
        if rec is None:
            raise ValueError(f"replay: run {name!r} has no recording; train with fit(..., record=True)")
        if not rec.snapshots:
            raise ValueError(f"replay: run {name!r} recorded no snapshot (it took no step)")
        self.name, self.history, self.rec, self.index = name, history, rec, index
        self.replayer = Replayer(rec, model=model, loss=loss)
        self.view = DataView(rec, self.replayer, grid)
        snapshots = rec.snapshots
        self.network = (NetworkView(rec, grid, heat=self.view.kind == "plane")
                        if detailed and rec.model is not None else None)
        outputs = [self.view.evaluate(s) for s in snapshots] if self.view.kind == "scores" else None
        if outputs is not None:
            self.view.prepare_scores(outputs)
        frames, sprites = [], []
        for k, s in enumerate(snapshots):
            out = outputs[k] if outputs is not None else self.view.evaluate(s)
            frames.append(self.view.frame(out))
            if self.network is not None:
                sprites.append(self.network.sprite(out))
        self.names = [self.view.point_name(i) for i in range(len(self.view.points))]
        self.graphs = (PointGraphs(rec, self.replayer, snapshots, points=graph_points, renderer=renderer,
                                   point_names=self.names)
                       if detailed and graph_points != 0 else None)
        self.curves = Curves(history, rec, shared)
        images, image_at = _unique([f["image"] for f in frames])
        self.data: Dict[str, Any] = {
            "name": name,
            "readouts": readouts(history, rec, snapshots),
            "marks": self.curves.marks(snapshots),
            "frames": {"images": images, "imageAt": image_at, "lines": [f["line"] for f in frames],
                       "wrong": [f["wrong"] for f in frames], "moves": [f["moves"] for f in frames],
                       "moveAttr": "cx" if self.view.classifier else "cy"},
            "network": None, "graph": self.graphs.data() if self.graphs is not None else None,
        }
        if self.network is not None:
            heat, heat_at = _unique(sprites)
            self.data["network"] = {**network_data(self.network, snapshots),
                                    "w": [joined(s.parameters) for s in snapshots],
                                    "g": [joined(s.gradients) for s in snapshots],
                                    "heat": [h for h in heat if h], "heatAt": heat_at if any(heat) else []}

    def progress(self) -> List[float]:
        """Each snapshot's place in training, in epochs done (steps of different batch sizes line up)."""
        return [(s.step + 1) / self.rec.steps_per_epoch for s in self.rec.snapshots]

    def card(self, compare: bool) -> str:
        """The run's section: its numbers, its data panel, its curves."""
        r = self.index
        heading = f"<h2>{esc(self.name)}</h2>" if compare else ""
        accuracy = "" if self.rec.task != "classification" else (
            f'<span><span class="what">accuracy</span><span class="figure" id="accuracy-{r}"></span></span>')
        epoch = ""
        if self.rec.steps_per_epoch > 1:
            epoch = (f'<span id="epoch-box-{r}" hidden><span class="what">epoch mean loss</span>'
                     f'<span class="figure" id="epoch-loss-{r}"></span></span>')
        loss_what = "loss" if self.rec.steps_per_epoch == 1 else "loss on this batch"
        if self.rec.steps_per_epoch > 1:
            accuracy = accuracy.replace(">accuracy<", ">accuracy on this batch<")
        graph_note = ""
        if not compare and self.graphs is not None and self.graphs.chosen:
            which = "a point" if len(self.graphs.chosen) == len(self.view.points) else "a ringed point"
            graph_note = f'<span class="hint">Click {which} to see its graph below.</span>'
        return (f'<section class="run" data-run="{r}" aria-label="{esc(self.name)}">{heading}'
                f'<div class="readout"><span class="status" id="status-{r}"></span>'
                f'<span><span class="what">{loss_what}</span><span class="figure" id="loss-{r}"></span></span>'
                f'{epoch}{accuracy}</div><p class="note" id="note-{r}"></p>'
                f'<div class="figures"><figure><figcaption>{esc(self.view.caption())}</figcaption>'
                f'{self.view.svg(r, self.graphs.chosen if self.graphs else [], self.names)}'
                f'<div class="legend">{self.view.legend()}{graph_note}</div></figure>'
                f'<figure><figcaption>The loss{" and accuracy" if self.rec.task == "classification" else ""} '
                f'during training; the orange marker is this snapshot</figcaption>{self.curves.svg(r)}</figure>'
                f'</div></section>')


def _model_name(rec: Any) -> str:
    shape = rec.model
    if shape is None:
        return "the model"
    sizes = [layer["size"] for layer in shape["layers"]]
    if shape["kind"] == "Neuron":
        return f"a {shape['layers'][0]['activation']} neuron"
    if shape["kind"] == "Layer":
        return f"Layer({shape['inputs']}, {sizes[0]})"
    return f"MLP({shape['inputs']}, {sizes})"


def _timeline(runs: List[_Run]) -> Tuple[List[List[int]], List[str]]:
    """For each scrubber position, each run's snapshot, and what the position says."""
    if len(runs) == 1:
        rec = runs[0].rec
        total = rec.epochs * rec.steps_per_epoch
        return ([[k] for k in range(len(rec.snapshots))],
                [f"snapshot {k + 1} of {len(rec.snapshots)} (step {s.step + 1} of {total})"
                 for k, s in enumerate(rec.snapshots)])
    places = sorted({p for run in runs for p in run.progress()})
    timeline, where = [], []
    for place in places:
        row = []
        for run in runs:
            done = [k for k, p in enumerate(run.progress()) if p <= place + 1e-12]
            row.append(done[-1] if done else 0)
        timeline.append(row)
        where.append(f"epoch {place:.4g}")
    return timeline, [f"{w} (snapshot {k + 1} of {len(places)})" for k, w in enumerate(where)]


def replay(runs: Union[Any, Mapping[str, Any]], *, title: Optional[str] = None, grid: int = GRID,
           graph_points: Union[int, Sequence[int], None] = None, model: Any = None, loss: Any = None,
           renderer: Union[Renderer, str, None] = None) -> LearningPage:
    """The page that replays training: ``replay(history)``, or runs side by side from a dict.

    Args:
        runs: a History recorded with ``fit(..., record=True)``, or ``{name: history}`` to compare
            runs (learning rates, batch sizes) under one scrubber.
        title: the page's title.
        grid: cells per side of the grid a 2-D model's view is computed on.
        graph_points: which points' graphs the page holds: None for as many as keep it light
            (spread over the data), a number, or a list of point indices; 0 for none.
        model, loss: the model and loss function, for a loaded recording whose model is not an
            MLP, Layer or Neuron, or whose loss is not one of :mod:`tracegrad.nn.losses`.
        renderer: the Graphviz renderer for the point graphs (found by default).

    Raises:
        ValueError: a run without a recording.
    """
    named = dict(runs) if isinstance(runs, Mapping) else {"": runs}
    if not named:
        raise ValueError("replay: no runs to show")
    compare = len(named) > 1 or isinstance(runs, Mapping)
    shared = loss_range(list(named.values())) if compare else None
    made = [_Run(name, h, i, detailed=not compare, grid=grid, model=model, loss=loss, graph_points=graph_points,
                 renderer=renderer, shared=shared) for i, (name, h) in enumerate(named.items())]
    first = made[0].rec
    heading = title or (f"Watch {_model_name(first)} learn" if not compare else "Learning, side by side")
    return LearningPage(_page(made, heading, compare), heading, _height(made, compare))


def _subtitle(runs: List[_Run], compare: bool) -> str:
    rec = runs[0].rec
    points = f" on {len(rec.inputs)} points" if rec.inputs else ""
    if compare:
        return (f"{len(runs)} training runs{points}, one scrubber: each run shows the snapshot it had reached "
                f"after the same number of epochs.")
    batch = "the whole data set each step" if rec.steps_per_epoch == 1 else f"batches of {rec.batch_size}"
    every = "every step" if rec.every == 1 else f"every {rec.every} steps"
    return (f"{rec.epochs} epochs{points}, {batch}; {len(rec.snapshots)} snapshots, kept {every}. "
            "Each snapshot shows the weights a step used, with the loss and gradients they gave.")


def _page(runs: List[_Run], heading: str, compare: bool) -> str:
    timeline, where = _timeline(runs)
    positions = len(timeline)
    interval = int(min(600, max(60, REPLAY_SECONDS * 1000 / max(positions, 1))))
    data = {"runs": [run.data for run in runs], "timeline": timeline, "where": where, "start": positions - 1,
            "interval": interval, "positive": hex_colour(POSITIVE), "negative": hex_colour(NEGATIVE),
            "graphHint": "The page holds the graphs of the ringed points only; click one of them."}
    cards = "".join(run.card(compare) for run in runs)
    extra = "" if compare else _network_panel(runs[0]) + _graph_panel(runs[0])
    last = positions - 1
    return page_head(heading, CSS) + f"""<body data-position="{last}">
<header><h1>{html.escape(heading)}</h1><p>{esc(_subtitle(runs, compare))}</p></header>
<nav id="controls" aria-label="Replay">
<button id="play" type="button" aria-label="Play">▶ Play</button>
<button id="prev" type="button" aria-label="Previous snapshot">◀</button>
<button id="next" type="button" aria-label="Next snapshot">▶</button>
<input id="slider" type="range" min="0" max="{last}" value="{last}" aria-label="Snapshot">
<span id="where" aria-live="off"></span>
</nav>
<main class="runs {'compare' if compare else 'single'}">{cards}</main>
{extra}
<footer>Made by tracegrad from the recording of training: every number here was computed by the engine.
Use ← → (Home, End) to move, space to play.</footer>
<script type="application/json" id="learning-data">{script_json(data)}</script>
<script>{JS}</script>
</body>
</html>
"""


def _network_panel(run: _Run) -> str:
    if run.network is None:
        return ""
    return (f'<section class="panel" id="network-panel" aria-label="The network"><h2>The network</h2>'
            f'{run.network.svg()}<p id="weight-info" aria-live="polite"></p>'
            f'<div class="legend">{run.network.legend()}</div></section>')


def _graph_panel(run: _Run) -> str:
    graphs = run.graphs
    if graphs is None:
        return ""
    if not graphs.structures:
        note = graphs.note or "No point's graph could be drawn."
        return (f'<section class="panel" id="graph-panel" aria-label="One point\'s graph"><h2>One point\'s graph</h2>'
                f'<p class="note">{esc(note)}</p></section>')
    return (f'<section class="panel" id="graph-panel" aria-label="One point\'s graph">'
            f'<div id="graph-head"><h2>One point\'s graph</h2><span id="graph-title">Click a point above (one with '
            f'a graph) to see how it flows through the network.</span><span id="graph-when" class="status"></span>'
            f'<button id="fit" type="button">Fit to width</button></div>'
            f'<p class="legend">The loss of this one point, built by the engine at the snapshot\'s weights: each '
            f'box shows a value (data) and the gradient of the point\'s loss with respect to it (grad), as '
            f'backward() computed them. The point\'s inputs are gold; h is a hidden neuron\'s output and z the sum '
            f'Σw·x+b before its activation. The weights are left out here: the network above shows them.</p>'
            f'<div id="graph-stage" hidden>{graphs.svgs()}</div></section>')


def _height(runs: List[_Run], compare: bool) -> int:
    if compare:
        rows = math.ceil(len(runs) / 3)
        return 160 + rows * 900
    network = int(runs[0].network.height) + 140 if runs[0].network is not None else 0
    return 620 + network + (700 if runs[0].graphs is not None else 0)
