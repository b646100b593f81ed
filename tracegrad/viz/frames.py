"""Every frame of a :class:`~tracegrad.viz.steps.Trace` as a picture of its own, for slides.

The graph is laid out once (:mod:`tracegrad.viz.stage`) and each frame is that layout drawn in
the frame's looks (:mod:`tracegrad.viz.looks`), so nodes never move between frames: the node
being processed is orange, the input receiving a gradient blue, the edge of the current step red
with ``local × upstream = contribution``; gradients still being summed are yellow, finished ones
green, unknown ones show ``?``. The step-through page does not draw these: it holds one drawing
and restyles it (:mod:`tracegrad.viz.html`); n frames of a graph of size n are inherent here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

from ..files import staged_folder, write_atomic
from .looks import Look
from .render import Renderer, find_renderer
from .stage import lay_out, split_svgs
from .steps import StepRecord, Trace
from .timeline import timeline


@dataclass
class Frame:
    """One picture of the step-through.

    Attributes:
        index: 0 for the first frame.
        kind: ``"forward"``, ``"seed"`` or ``"backward"``.
        title: ``"Forward 3 / 10"``, ``"Backward step 2 / 9"``.
        text: the step as an equation (``∂L/∂x += ∂n/∂x × ∂L/∂n = 0.5 × 1 = 0.5``).
        words: the same in a sentence.
        step: the backward step shown, if any.
        source: the frame's DOT text (positions pinned).
        svg: the rendered SVG (filled in by :func:`frames`).
        grads: each Value's gradient as known at this frame, by topological number.
    """

    index: int
    kind: str
    title: str
    text: str
    words: str
    step: Optional[StepRecord]
    source: str = ""
    svg: str = ""
    grads: Dict[int, float] = field(default_factory=dict)


def frames(t: Trace, *, renderer: Union[Renderer, str, None] = None, render: bool = True) -> List[Frame]:
    """Every frame of the step-through: the forward pass, the seed, then each backward step.

    The layout is computed once; each frame pins it. With ``render=False`` only the DOT sources
    are made (no SVG), which needs no renderer beyond the one layout call.

    Raises:
        RendererNotFound: no Graphviz renderer (the text table, :func:`~tracegrad.viz.steps.explain`, needs none).
    """
    chosen = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
    layout = lay_out(t, chosen)
    looks: Dict[str, Look] = {}
    grads: Dict[int, float] = {}
    result: List[Frame] = []
    for moment in timeline(t):
        looks.update(moment.changes)
        grads.update(moment.grads)
        source = layout.styled(looks, f"f{moment.index}_").source("backprop")
        result.append(Frame(moment.index, moment.kind, moment.title, moment.text, moment.words, moment.step,
                            source, grads=dict(grads)))
    if render and result:
        svgs = split_svgs(chosen.run("".join(f.source for f in result), "svg", engine="neato", args=["-n2"]))
        if len(svgs) != len(result):
            raise RuntimeError(f"frames: {chosen.name} returned {len(svgs)} pictures for {len(result)} frames")
        for frame, svg in zip(result, svgs):
            frame.svg = svg
    return result


def save_frames(
    t: Trace, folder: Any, format: str = "svg", *, renderer: Union[Renderer, str, None] = None
) -> List[str]:
    """Write one picture per frame (``frame-001.svg``, ...) into ``folder``; returns the paths.

    The set appears all at once or not at all: the frames are written into a temporary folder
    and moved into place only when every one is made (see :func:`tracegrad.files.staged_folder`).
    Frames of this format from an earlier, longer trace in that folder are removed; other files
    are left alone.

    Raises:
        ValueError: a format other than ``"svg"`` or ``"png"``.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"save_frames: format must be 'svg' or 'png', got {format!r}")
    chosen = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
    made = frames(t, renderer=chosen, render=format == "svg")
    folder = os.fspath(folder)
    names = [f"frame-{frame.index + 1:03d}.{format}" for frame in made]
    ours = re.compile(rf"frame-\d{{3,}}\.{format}")
    with staged_folder(folder, stale=lambda name: ours.fullmatch(name) is not None) as stage:
        for frame, name in zip(made, names):
            data: Union[str, bytes] = frame.svg
            if format == "png":
                data = chosen.run(frame.source, "png", engine="neato", args=["-n2"])
            write_atomic(os.path.join(stage, name), data)
    return [os.path.join(folder, name) for name in names]
