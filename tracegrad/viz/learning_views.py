"""The training page's picture of the data and of the model's view of it, snapshot by snapshot.

Three kinds, by the number of inputs: two inputs (``plane``: the points over the regions where
the model predicts each class, with the boundary between them; for regression, its output as
colour), one input (``line``: the points and the fitted curve), more (``scores``: each point
placed by the model's score, so the learner sees points cross the decision threshold). The
model is run in Python at save time on a grid (:class:`~tracegrad.nn.replay.Replayer`); the
page gets small images and SVG paths, and never computes anything itself.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..nn.record import Recording, Snapshot
from ..nn.replay import Replayer
from ..nn.train import predicted_class
from .png import data_uri, png
from .svgplot import (
    Scale,
    axes,
    class_colour,
    contour,
    diverging,
    esc,
    hex_colour,
    padded,
    polyline,
)

GRID = 28
"""Cells per side of the grid a 2-D model's view (and each neuron's picture) is computed on."""
CURVE = 120
"""Points a 1-D model's fitted curve is computed at."""
WIDTH, HEIGHT = 360, 320
BOX = (60.0, 10.0, 60.0 + WIDTH, 10.0 + HEIGHT)  # left, top, right, bottom of the plot area


class DataView:
    """The data panel of one run: its static SVG, and per snapshot what changes in it."""

    def __init__(self, recording: Recording, replayer: Replayer, grid: int = GRID) -> None:
        self.rec = recording
        self.replayer = replayer
        inputs = recording.inputs or []
        self.points = inputs
        self.targets = list(recording.targets or [])
        self.width = len(inputs[0]) if inputs else 0
        self.kind = {0: "none", 1: "line", 2: "plane"}.get(self.width, "scores")
        self.classifier = recording.task == "classification"
        self.classes = sorted(set(self.targets)) if self.classifier else []
        self.signed = -1 in self.classes
        self.grid = grid
        left, top, right, bottom = BOX
        if self.kind in ("plane", "line"):
            self.x = Scale(*padded([p[0] for p in inputs]), left, right)
        if self.kind == "plane":
            self.y = Scale(*padded([p[1] for p in inputs]), bottom, top)
            step_x = (self.x.hi - self.x.lo) / grid
            step_y = (self.y.hi - self.y.lo) / grid
            self.grid_x = [self.x.lo + (i + 0.5) * step_x for i in range(grid)]
            self.grid_y = [self.y.hi - (j + 0.5) * step_y for j in range(grid)]
            self.probes = [[gx, gy] for gy in self.grid_y for gx in self.grid_x]
        elif self.kind == "line":
            self.y = Scale(*padded(self.targets, 0.12), bottom, top)
            self.curve_x = [self.x.lo + (self.x.hi - self.x.lo) * i / (CURVE - 1) for i in range(CURVE)]
            self.probes = [[v] for v in self.curve_x]
        else:
            self.probes = []
        self.value_scale = max((abs(t) for t in self.targets), default=1.0) or 1.0

    # --- the model at one snapshot

    def evaluate(self, snapshot: Snapshot) -> Optional[List[List[List[float]]]]:
        """Every layer's outputs on the probes then the data points, or None if the model overflowed."""
        if not self.replayer.can_evaluate or not self.points:
            return None
        try:
            return self.replayer.outputs(snapshot, self.probes + self.points)
        except (ArithmeticError, ValueError):
            return None

    def _scores(self, last: List[List[float]], i: int) -> List[float]:
        return [column[i] for column in last]

    def colour_index(self, cls: Any) -> int:
        return self.classes.index(cls) if cls in self.classes else len(self.classes) + int(cls)

    def decision(self, scores: List[float]) -> Tuple[Any, float]:
        """The class the scores pick and how sure the model is (the margin over the runner-up)."""
        if len(scores) == 1:
            return predicted_class(scores[0], self.signed), abs(scores[0])
        top = predicted_class(scores)
        others = [s for k, s in enumerate(scores) if k != top]
        return top, scores[top] - max(others, default=scores[top])

    def frame(self, outputs: Optional[List[List[List[float]]]]) -> Dict[str, Any]:
        """What the data panel shows at one snapshot: ``image`` (data URI), ``line`` (SVG path),
        ``wrong`` (one ``0``/``1`` per point), ``moves`` (the points' positions, for ``scores``)."""
        n = len(self.probes)
        empty = {"image": "", "line": "", "wrong": "0" * len(self.points), "moves": []}
        if outputs is None:
            return empty
        last = outputs[-1]
        if any(not math.isfinite(v) for column in last for v in column):
            return empty
        out: Dict[str, Any] = dict(empty)
        if self.classifier:
            out["wrong"] = "".join(
                "0" if self.decision(self._scores(last, n + i))[0] == t else "1" for i, t in enumerate(self.targets))
        if self.kind == "plane":
            out["image"], out["line"] = self._plane(last)
        elif self.kind == "line":
            out["line"] = self._curves(last)
            if self.classifier:
                out["image"] = self._band(last)
        elif self.kind == "scores":
            out["moves"] = self._moves(last)
        return out

    def _plane(self, last: List[List[float]]) -> Tuple[str, str]:
        g = self.grid
        pixels = []
        for k in range(g * g):
            scores = self._scores(last, k)
            if not self.classifier:
                pixels.append((*diverging(scores[0], self.value_scale), 200))
                continue
            cls, sure = self.decision(scores)
            r, gg, b = class_colour(self.colour_index(cls))
            pixels.append((r, gg, b, 50 + 8 * round(15 * (1 - math.exp(-abs(sure))))))  # 16 shades
        image = data_uri(png(g, g, pixels))
        if not self.classifier:
            return image, ""
        xs = [self.x(v) for v in self.grid_x]
        ys = [self.y(v) for v in self.grid_y]
        if len(last) == 1:
            field = [[last[0][j * g + i] for i in range(g)] for j in range(g)]
            return image, contour(field, xs, ys)
        lines = []
        for c in range(len(last)):
            field = [[last[c][j * g + i] - max(last[o][j * g + i] for o in range(len(last)) if o != c)
                      for i in range(g)] for j in range(g)]
            lines.append(contour(field, xs, ys))
        return image, "".join(lines)

    def _curves(self, last: List[List[float]]) -> str:
        return "".join(polyline([(self.x(x), self.y.clamped(column[i])) for i, x in enumerate(self.curve_x)])
                       for column in last)

    def _band(self, last: List[List[float]]) -> str:
        pixels = []
        for k in range(CURVE):
            cls, _ = self.decision(self._scores(last, k))
            pixels.append((*class_colour(self.colour_index(cls)), 70))
        return data_uri(png(CURVE, 1, pixels))

    def _moves(self, last: List[List[float]]) -> List[float]:
        n = len(self.probes)
        moves = []
        for i, t in enumerate(self.targets):
            scores = self._scores(last, n + i)
            if not self.classifier:
                moves.append(round(self.y.clamped(scores[0]), 1))
                continue
            if len(scores) == 1:
                value = scores[0]
            else:
                own = int(t) if 0 <= int(t) < len(scores) else 0
                value = scores[own] - max((s for k, s in enumerate(scores) if k != own), default=scores[own])
            moves.append(round(self.x.clamped(value, 6.0), 1))
        return moves

    def prepare_scores(self, frames: Sequence[Optional[List[List[List[float]]]]]) -> None:
        """Set the axes of a ``scores`` view from every snapshot's outputs (the points move along it)."""
        if self.kind != "scores":
            return
        left, top, right, bottom = BOX
        n = len(self.probes)
        values: List[float] = []
        for outputs in frames:
            if outputs is None:
                continue
            last = outputs[-1]
            for i, t in enumerate(self.targets):
                scores = self._scores(last, n + i)
                if len(scores) == 1 or not self.classifier:
                    values.append(abs(scores[0]))
                else:
                    own = int(t) if 0 <= int(t) < len(scores) else 0
                    values.append(abs(scores[own] - max(s for k, s in enumerate(scores) if k != own)))
        finite = sorted(v for v in values if math.isfinite(v))
        reach = max(1.0, finite[int(0.95 * (len(finite) - 1))] * 1.1) if finite else 1.0
        if self.classifier:
            self.x = Scale(-reach, reach, left, right)
            self.y = Scale(-0.5, len(self.classes) - 0.5, bottom, top)
        else:
            self.x = Scale(*padded(self.targets), left, right)
            self.y = Scale(*padded(self.targets), bottom, top)

    # --- the static picture

    def svg(self, run: int, graph_points: Sequence[int], point_names: Sequence[str]) -> str:
        """The panel's SVG: axes, the image and line the page swaps per snapshot, the points."""
        if self.kind == "none":
            return '<p class="note">The recording holds no data to draw.</p>'
        left, top, right, bottom = BOX
        names = self.rec.input_names
        out = [f'<svg class="view" viewBox="0 0 {right + 12:.0f} {bottom + 44:.0f}" role="img" '
               f'aria-label="{esc(self.caption())}">',
               f'<clipPath id="clip-{run}"><rect x="{left}" y="{top}" width="{right - left}" '
               f'height="{bottom - top}"/></clipPath>']
        if self.kind == "plane":
            out.append(axes(self.x, self.y, BOX, names[0], names[1]))
        elif self.kind == "line":
            out.append(axes(self.x, self.y, BOX, names[0], self.rec.output_name))
        elif self.classifier:
            title = "the model's score" if len(self.classes) <= 2 else "score of its own class minus the best other"
            out.append(axes(self.x, self.y, BOX, f"{title} (right of the line: predicted right)", "class",
                            y_text=self._class_label))
        else:
            name = self.rec.output_name
            out.append(axes(self.x, self.y, BOX, f"target {name}", f"the model's {name}"))
        out.append(f'<image class="regions" id="regions-{run}" x="{left}" y="{top}" width="{right - left}" '
                   f'height="{bottom - top}" preserveAspectRatio="none"/>')
        if self.kind == "scores":
            if self.classifier:
                out.append(f'<line class="threshold" x1="{self.x(0.0):.1f}" y1="{top}" x2="{self.x(0.0):.1f}" '
                           f'y2="{bottom}"/>')
            else:
                lo, hi = self.x.lo_value, self.x.hi_value
                out.append(f'<line class="threshold" x1="{self.x(lo):.1f}" y1="{self.y(lo):.1f}" '
                           f'x2="{self.x(hi):.1f}" y2="{self.y(hi):.1f}"/>')
        out.append(f'<path class="model-line" id="line-{run}" clip-path="url(#clip-{run})" d=""/>')
        chosen = set(graph_points)
        every = len(chosen) == len(self.points)  # no ring needed when every point has its graph
        for i, (p, t) in enumerate(zip(self.points, self.targets)):
            cx, cy = self._position(p, t, i)
            if self.classifier:
                fill = hex_colour(class_colour(self.colour_index(t)))
            else:  # its place shows the target; on a plane, its colour does
                fill = hex_colour(diverging(t, self.value_scale)) if self.kind == "plane" else "#3b6ea5"
            extra = (f' tabindex="0" role="button" aria-label="{esc(point_names[i])}: show its graph"'
                     if i in chosen else "")
            kind = ("point pick every" if every else "point pick") if i in chosen else "point"
            radius = 4.5 if i in chosen else 3.6
            out.append(f'<circle class="{kind}" data-i="{i}" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" '
                       f'fill="{fill}"{extra}><title>{esc(point_names[i])}</title></circle>')
        out.append("</svg>")
        return "".join(out)

    def _position(self, p: Sequence[float], t: Any, i: int) -> Tuple[float, float]:
        if self.kind == "plane":
            return self.x(p[0]), self.y(p[1])
        if self.kind == "line":
            return self.x(p[0]), self.y(t)
        if self.classifier:
            jitter = ((i * 0.6180339887) % 1.0 - 0.5) * 0.6
            return self.x(0.0), self.y(self.classes.index(t) + jitter)
        return self.x(t), self.y(t)

    def _class_label(self, v: float) -> str:
        k = round(v)
        if abs(v - k) > 1e-9 or not 0 <= k < len(self.classes):
            return ""
        return self.rec.class_name(self.classes[k])

    def caption(self) -> str:
        if self.kind == "plane":
            what = ("the regions where the model predicts each class, and the boundary between them"
                    if self.classifier else "the model's output as colour")
            return f"The training points over {what}"
        if self.kind == "line":
            return f"The training points and the model's {self.rec.output_name} as a curve"
        return "Each training point placed by the model's output"

    def legend(self) -> str:
        """HTML under the panel: the classes' colours and what the marks mean."""
        parts = []
        for c in self.classes:
            colour = hex_colour(class_colour(self.colour_index(c)))
            parts.append(f'<span class="key"><span class="dot" style="background:{colour}"></span>'
                         f'{esc(self.rec.class_name(c))}</span>')
        if self.classifier:
            parts.append('<span class="key"><span class="dot wrong-dot"></span>predicted wrong at this snapshot</span>')
        if self.kind == "line":
            parts.append('<span class="key"><span class="bar"></span>the model</span>')
        if self.kind == "plane" and not self.classifier:
            parts.append(f'<span class="key">colour: the model\'s {esc(self.rec.output_name)} (points: their '
                         'target), blue above 0, orange below</span>')
        return "".join(parts)

    def point_name(self, i: int) -> str:
        """``point 17 (x0 = 0.53, x1 = -0.21), class +1``."""
        names = self.rec.input_names
        where = ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, self.points[i]))
        t = self.targets[i]
        what = f"class {self.rec.class_name(t)}" if self.classifier else f"{self.rec.output_name} = {t:.4g}"
        return f"point {i} ({where}), {what}"
