"""The training page's loss and accuracy curves, with the place of each snapshot on them.

The loss is drawn per step (the batch's loss); with several batches per epoch the epoch's mean
is drawn over it. The scale turns logarithmic when the loss spans more than a hundredfold (a
diverging run), and runs compared side by side share one scale.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..nn.record import Recording
from .svgplot import Scale, axes, esc, number_text, polyline

WIDTH = 380.0
LOSS_BOX = (70.0, 10.0, 70.0 + WIDTH, 190.0)
ACCURACY_BOX = (70.0, 236.0, 70.0 + WIDTH, 326.0)


def loss_range(histories: Sequence[Any]) -> Tuple[float, float, bool]:
    """``(lo, hi, log)`` covering every run's losses per epoch; log scale when they span over 100×.

    The losses of single batches swing far more than the epochs' (a batch of one point may cost
    nothing): they are drawn faintly, and cut where they leave this range. A run that blows up is
    cut at 100 times the largest first loss, so that the others stay readable beside it.
    """
    values = [x for h in histories for x in (h.loss or h.batch_loss) if math.isfinite(x)]
    if not values:
        return 0.0, 1.0, False
    starts = [(h.loss or h.batch_loss)[0] for h in histories if (h.loss or h.batch_loss)]
    ceiling = 100 * max(abs(x) for x in starts if math.isfinite(x)) if starts else math.inf
    lo, hi = min(values), min(max(values), ceiling or math.inf)
    if lo > 0 and hi / lo > 100:
        return 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi)), True
    low = min(0.0, lo)
    return low, hi + (hi - low) * 0.05 or 1.0, False


class Curves:
    """One run's curves: the static SVG, and where each snapshot sits on them."""

    def __init__(self, history: Any, recording: Recording, shared: Optional[Tuple[float, float, bool]] = None) -> None:
        self.history = history
        self.rec = recording
        self.per_epoch = recording.steps_per_epoch
        self.total = max(1, recording.epochs * recording.steps_per_epoch)
        left, top, right, bottom = LOSS_BOX
        self.x = Scale(1.0, float(self.total), left, right) if self.total > 1 else Scale(0.5, 1.5, left, right)
        lo, hi, log = shared or loss_range([history])
        self.y = Scale(lo, hi, bottom, top, log=log)
        self.classifier = recording.task == "classification"
        a_left, a_top, a_right, a_bottom = ACCURACY_BOX
        self.ax = Scale(self.x.lo_value, self.x.hi_value, a_left, a_right)
        self.ay = Scale(0.0, 1.0, a_bottom, a_top)

    def _epoch_end(self, epoch: int) -> float:
        return float((epoch + 1) * self.per_epoch)

    def svg(self, run: int) -> str:
        left, top, right, bottom = LOSS_BOX
        height = ACCURACY_BOX[3] + 44 if self.classifier else bottom + 44
        x_title = "epoch" if self.per_epoch == 1 else f"step ({self.per_epoch} steps an epoch)"
        y_title = "loss (log scale)" if self.y.log else "loss"
        out = [f'<svg class="curves" viewBox="0 0 {right + 14:.0f} {height:.0f}" role="img" '
               f'aria-label="{esc(self._caption())}">',
               f'<clipPath id="curve-clip-{run}"><rect x="{left}" y="{top - 6}" width="{right - left + 6}" '
               f'height="{bottom - top + 12}"/></clipPath>',
               axes(self.x, self.y, LOSS_BOX, x_title, y_title)]
        clip = f'clip-path="url(#curve-clip-{run})"'
        h = self.history
        batch = [(self.x(k + 1.0), self.y.clamped(v)) for k, v in enumerate(h.batch_loss)]
        if self.per_epoch > 1:
            out.append(f'<path class="loss faint" {clip} d="{polyline(batch)}"/>')
            means = [(self.x(self._epoch_end(e)), self.y.clamped(v)) for e, v in enumerate(h.loss)]
            out.append(f'<path class="loss" {clip} d="{polyline(means)}"/>')
        else:
            out.append(f'<path class="loss" {clip} d="{polyline(batch)}"/>')
        if self.rec.stopped and h.batch_loss:
            x, y = batch[-1]
            y = min(max(y, top + 12), bottom)
            out.append(f'<text class="stopped-mark" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">✕</text>')
        out.append(f'<line class="marker" id="marker-{run}" x1="0" y1="{top}" x2="0" y2="{bottom}"/>'
                   f'<circle class="marker-dot" id="marker-loss-{run}" r="4.5" cx="0" cy="0"/>')
        if self.classifier:
            out.append(axes(self.ax, self.ay, ACCURACY_BOX, x_title, "accuracy", y_text=lambda v: f"{v:.0%}"))
            points = [(self.ax(self._epoch_end(e)), self.ay(a)) for e, a in enumerate(h.accuracy) if a is not None]
            out.append(f'<path class="accuracy" d="{polyline(points)}"/>')
            a_top, a_bottom = ACCURACY_BOX[1], ACCURACY_BOX[3]
            out.append(f'<line class="marker" id="marker-acc-line-{run}" x1="0" y1="{a_top}" x2="0" '
                       f'y2="{a_bottom}"/><circle class="marker-dot acc" id="marker-acc-{run}" r="4.5" cx="0" cy="0"/>')
        out.append("</svg>")
        return "".join(out)

    def marks(self, snapshots: Sequence[Any]) -> List[List[float]]:
        """For each snapshot ``[x, y of its loss, y of its accuracy]`` in the SVG's pixels."""
        out = []
        for s in snapshots:
            x = self.x(s.step + 1.0)
            acc = self.ay(s.accuracy) if s.accuracy is not None else -100.0
            out.append([round(x, 1), round(self.y.clamped(s.loss, 30.0), 1), round(acc, 1)])
        return out

    def _caption(self) -> str:
        what = "The loss and the accuracy" if self.classifier else "The loss"
        return f"{what} as training went on; the marker shows the current snapshot"


def readouts(history: Any, recording: Recording, snapshots: Sequence[Any]) -> List[Dict[str, str]]:
    """What the page says at each snapshot: where training is, the loss, the accuracy."""
    total = recording.epochs * recording.steps_per_epoch
    out = []
    for k, s in enumerate(snapshots):
        where = f"step {s.step + 1} of {total} · " if recording.steps_per_epoch > 1 else ""
        texts = {"status": f"{where}epoch {s.epoch + 1} of {recording.epochs}",
                 "loss": number_text(s.loss),
                 "accuracy": "—" if s.accuracy is None else f"{s.accuracy:.1%}",
                 "epochLoss": "", "note": ""}
        ends_epoch = (s.step + 1) % recording.steps_per_epoch == 0
        if recording.steps_per_epoch > 1 and ends_epoch and s.epoch < len(history.loss):
            texts["epochLoss"] = number_text(history.loss[s.epoch])
        if k == len(snapshots) - 1 and (recording.stopped or s.step < total - 1):
            texts["note"] = f"Training stopped after this step: {recording.stopped or 'it was interrupted'}"
        out.append(texts)
    return out
