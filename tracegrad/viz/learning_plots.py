"""The recording of training as matplotlib pictures: a summary figure and an animated GIF.

``history.plot()`` draws the loss and accuracy curves and the model's view of the data at the
last snapshot; ``history.save_gif(path)`` animates the model's view and the loss, snapshot by
snapshot, for slides and course pages (matplotlib's animation writer with Pillow, which
matplotlib installs). The numbers come from the same replay as the training page.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, List, Optional, Sequence, Tuple

from ..files import write_atomic
from ..nn.record import Recording, Snapshot
from ..nn.replay import Replayer
from .learning_views import GRID, DataView
from .svgplot import class_colour

MAX_FRAMES = 60
"""Frames a GIF holds at most by default (snapshots are picked evenly, the last always)."""


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot, save_gif: matplotlib is needed; `pip install tracegrad[demo]` "
                          "(or `pip install matplotlib`)") from None
    return plt


def _recording(history: Any) -> Recording:
    rec: Optional[Recording] = getattr(history, "recording", None)
    if rec is None or not rec.snapshots:
        raise ValueError("plot, save_gif: the history has no recording; train with fit(..., record=True)")
    return rec


def _rgb(index: int) -> Tuple[float, float, float]:
    r, g, b = class_colour(index)
    return r / 255, g / 255, b / 255


class _View:
    """The model's view of the data drawn on a matplotlib axes, redrawn per snapshot."""

    def __init__(self, ax: Any, rec: Recording, replayer: Replayer, grid: int) -> None:
        self.ax, self.rec = ax, rec
        self.view = DataView(rec, replayer, grid)
        self.artists: List[Any] = []
        v = self.view
        if v.kind == "scores":
            v.prepare_scores([v.evaluate(s) for s in rec.snapshots])
        self.points = None
        if v.kind in ("plane", "line") and v.points:
            xs = [p[0] for p in v.points]
            ys = [p[1] for p in v.points] if v.kind == "plane" else list(v.targets)
            colours = ([_rgb(v.colour_index(t)) for t in v.targets] if v.classifier else "#333333")
            self.points = ax.scatter(xs, ys, c=colours, s=22, edgecolors="white", linewidths=0.6, zorder=3)
            ax.set_xlim(v.x.lo_value, v.x.hi_value)
            ax.set_ylim(v.y.lo_value, v.y.hi_value)
            ax.set_xlabel(rec.input_names[0])
            ax.set_ylabel(rec.input_names[1] if v.kind == "plane" else rec.output_name)

    def draw(self, snapshot: Snapshot) -> List[Any]:
        for artist in self.artists:
            artist.remove()
        self.artists = []
        v, ax = self.view, self.ax
        outputs = v.evaluate(snapshot)
        if outputs is None:
            return self.artists
        last = outputs[-1]
        n = len(v.probes)
        if v.kind == "plane":
            g = v.grid
            image = []
            for j in range(g):
                row = []
                for i in range(g):
                    scores = [column[j * g + i] for column in last]
                    if v.classifier:
                        cls, sure = v.decision(scores)
                        row.append((*_rgb(v.colour_index(cls)), 0.25 + 0.4 * min(1.0, abs(sure))))
                    else:
                        row.append((0.5, 0.5, 0.9, 0.5))
                image.append(row)
            extent = (v.x.lo, v.x.hi, v.y.lo, v.y.hi)
            self.artists.append(ax.imshow(image, extent=extent, origin="upper", aspect="auto", zorder=1,
                                          interpolation="bilinear"))
            if v.classifier and len(last) == 1:
                field = [[last[0][j * g + i] for i in range(g)] for j in range(g)]
                self.artists.append(ax.contour(v.grid_x, v.grid_y, field, levels=[0.0], colors="black",
                                               linewidths=1.5, zorder=2))
        elif v.kind == "line":
            for column in last:
                (line,) = ax.plot(v.curve_x, column[:n], color="black", linewidth=2, zorder=2)
                self.artists.append(line)
        elif v.kind == "scores":
            frame = v.frame(outputs)
            moves = frame["moves"]
            if v.classifier:
                rows = [v.classes.index(t) for t in v.targets]
                xs = [v.x.lo_value + (m - v.x.start) / (v.x.end - v.x.start) * (v.x.hi_value - v.x.lo_value)
                      for m in moves]
                colours = [_rgb(v.colour_index(t)) for t in v.targets]
                self.artists.append(ax.scatter(xs, rows, c=colours, s=22, zorder=3))
                self.artists.append(ax.axvline(0.0, color="black", linestyle="--"))
        return self.artists


def _curves(ax: Any, history: Any, rec: Recording) -> None:
    steps = range(1, len(history.batch_loss) + 1)
    ax.plot(list(steps), history.batch_loss, color="#333333", linewidth=1.2, label="loss")
    values = [x for x in history.batch_loss if x > 0]
    if values and max(values) / min(values) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("step" if rec.steps_per_epoch > 1 else "epoch")
    ax.set_ylabel("loss")


def plot(history: Any, *, grid: int = GRID, model: Any = None, loss: Any = None) -> Any:
    """A figure of the run: the model's view at the last snapshot, the loss, the accuracy."""
    plt = _pyplot()
    rec = _recording(history)
    classifier = rec.task == "classification"
    fig, axes = plt.subplots(1, 3 if classifier else 2, figsize=(13 if classifier else 9, 3.8))
    view = _View(axes[0], rec, Replayer(rec, model=model, loss=loss), grid)
    view.draw(rec.snapshots[-1])
    axes[0].set_title(f"the model's view at step {rec.snapshots[-1].step + 1}", fontsize=10)
    _curves(axes[1], history, rec)
    axes[1].set_title("loss during training", fontsize=10)
    if classifier:
        ends = [(e + 1) * rec.steps_per_epoch for e in range(len(history.accuracy))]
        axes[2].plot(ends, [a if a is not None else float("nan") for a in history.accuracy], color="#2a8a3a")
        axes[2].set_ylim(0, 1.02)
        axes[2].set_title("accuracy during training", fontsize=10)
        axes[2].set_xlabel("step" if rec.steps_per_epoch > 1 else "epoch")
    fig.tight_layout()
    return fig


def _chosen(snapshots: Sequence[Snapshot], frames: Optional[int]) -> List[Snapshot]:
    most = MAX_FRAMES if frames is None else max(1, frames)
    if len(snapshots) <= most:
        return list(snapshots)
    picks = sorted({round(k * (len(snapshots) - 1) / (most - 1)) for k in range(most)})
    return [snapshots[k] for k in picks]


def save_gif(history: Any, path: Any, *, fps: int = 8, frames: Optional[int] = None, dpi: int = 80,
             grid: int = GRID, model: Any = None, loss: Any = None) -> str:
    """Animate the recording (the model's view and the loss with the current step) as a GIF.

    Args:
        path: where to write it (atomically).
        fps: frames per second.
        frames: at most this many snapshots (evenly picked; default 60).
        dpi: the resolution (80 makes an image about 880 × 320 pixels).

    Returns:
        The path written.
    """
    plt = _pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    rec = _recording(history)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    view = _View(left, rec, Replayer(rec, model=model, loss=loss), grid)
    _curves(right, history, rec)
    (marker,) = right.plot([], [], "o", color="#e69138", markersize=8)
    title = fig.suptitle("")
    shown = _chosen(rec.snapshots, frames)
    total = rec.epochs * rec.steps_per_epoch

    def update(k: int) -> List[Any]:
        s = shown[k]
        marker.set_data([s.step + 1], [s.loss])
        title.set_text(f"step {s.step + 1} of {total}: loss {s.loss:.4g}"
                       + (f", accuracy {s.accuracy:.0%}" if s.accuracy is not None else ""))
        return [*view.draw(s), marker, title]

    animation = FuncAnimation(fig, update, frames=len(shown), blit=False)
    handle, temporary = tempfile.mkstemp(suffix=".gif")
    os.close(handle)
    try:
        animation.save(temporary, writer=PillowWriter(fps=fps), dpi=dpi)
        with open(temporary, "rb") as f:
            data = f.read()
    finally:
        plt.close(fig)
        os.unlink(temporary)
    return write_atomic(path, data)
