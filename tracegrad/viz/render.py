"""Finding a Graphviz renderer and turning DOT text into SVG, PNG or a layout.

Two renderers are known: the system Graphviz ``dot`` on PATH, and ``graphviz-pure`` (a
self-contained port of dot installed by ``pip install tracegrad[viz]``). The first one found is
used unless one is asked for by name. DOT text itself (``draw(root).source``) needs neither.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Union

from ..engine.errors import TracegradError
from ..files import write_atomic

FORMATS = ("svg", "png", "jpeg", "json", "dot", "plain")
"""Output formats :func:`render` accepts."""

INSTALL_HINT = (
    "install Graphviz (e.g. `apt install graphviz`, `brew install graphviz`) so `dot` is on PATH, "
    "or `pip install tracegrad[viz]` for graphviz-pure"
)


class RendererNotFound(TracegradError, RuntimeError):
    """Neither the system Graphviz ``dot`` nor ``graphviz-pure`` could be found."""


class RenderError(TracegradError, RuntimeError):
    """The renderer ran but failed on the DOT text."""


@dataclass(frozen=True)
class Renderer:
    """A program that lays out and draws DOT text.

    Attributes:
        name: ``"dot"`` (system Graphviz) or ``"graphviz-pure"``.
        path: the executable.
    """

    name: str
    path: str

    def run(self, source: str, fmt: str = "svg", *, engine: str = "dot", args: Sequence[str] = ()) -> bytes:
        """The output of this renderer for ``source`` in format ``fmt`` (``-T``), with layout ``engine`` (``-K``).

        Raises:
            ValueError: an unknown format.
            RenderError: the renderer failed; the message holds what it printed.
        """
        if fmt not in FORMATS:
            raise ValueError(f"render: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        command = [self.path, f"-K{engine}", f"-T{fmt}", *args]
        try:
            done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"render: running {self.name} failed: {exc}") from exc
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip()
            raise RenderError(f"render: {self.name} exited with {done.returncode}: {message}")
        return done.stdout


def _pure_path() -> Optional[str]:
    found = shutil.which("graphviz-pure")
    if found:
        return found
    # a virtual environment's scripts folder need not be on PATH
    beside = os.path.join(os.path.dirname(sys.executable), "graphviz-pure" + (".exe" if os.name == "nt" else ""))
    return beside if os.path.isfile(beside) and os.access(beside, os.X_OK) else None


def available_renderers() -> List[Renderer]:
    """Every renderer present on this machine, the preferred one first."""
    found: List[Renderer] = []
    dot = shutil.which("dot")
    if dot:
        found.append(Renderer("dot", dot))
    pure = _pure_path()
    if pure:
        found.append(Renderer("graphviz-pure", pure))
    return found


def find_renderer(name: Optional[str] = None) -> Renderer:
    """The renderer called ``name``, or the first available one.

    Raises:
        RendererNotFound: with how to install one.
    """
    renderers = available_renderers()
    if name is not None:
        for renderer in renderers:
            if renderer.name == name:
                return renderer
        raise RendererNotFound(f"render: renderer {name!r} is not available; {INSTALL_HINT}")
    if not renderers:
        raise RendererNotFound(
            f"render: no Graphviz renderer found; {INSTALL_HINT}. The DOT text (.source) works without one."
        )
    return renderers[0]


Source = Union[str, Any]  # DOT text or anything with a ``.source`` (a graphviz.Digraph)


def _text(source: Source) -> str:
    return source if isinstance(source, str) else str(source.source)


def render(
    source: Source, fmt: str = "svg", *, renderer: Union[Renderer, str, None] = None, engine: str = "dot"
) -> bytes:
    """Render DOT text (or a ``graphviz.Digraph``) to ``fmt`` bytes with the first renderer found.

    >>> svg = render(draw(x * y))  # doctest: +SKIP
    """
    chosen = renderer if isinstance(renderer, Renderer) else find_renderer(renderer)
    return chosen.run(_text(source), fmt, engine=engine)


def layout(source: Source, *, renderer: Union[Renderer, str, None] = None) -> Dict[str, Any]:
    """The positions dot computes for a graph, as the parsed ``-Tjson`` output."""
    data: Dict[str, Any] = json.loads(render(source, "json", renderer=renderer).decode("utf-8"))
    return data


def save(source: Source, path: Any, fmt: Optional[str] = None, *, renderer: Union[Renderer, str, None] = None) -> str:
    """Render a graph (``draw(root)``) to a file, atomically; the format comes from the suffix by default.

    >>> save(draw(loss), "loss.svg")  # doctest: +SKIP
    """
    target = os.fspath(path)
    chosen_fmt = fmt or os.path.splitext(target)[1].lstrip(".").lower() or "svg"
    if chosen_fmt == "gv":
        chosen_fmt = "dot"
    if chosen_fmt == "dot" and fmt is None:
        return write_atomic(target, _text(source))
    return write_atomic(target, render(source, chosen_fmt, renderer=renderer))
