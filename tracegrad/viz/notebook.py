"""Showing a page inline in a notebook: the whole page inside one sandboxed ``<iframe srcdoc>``.

Notebooks sanitise HTML output and do not run scripts written into it, but they show an iframe;
inside it the page is a document of its own that runs its own script. The sandbox allows scripts
and nothing else: no access to the notebook, no forms, no pop-ups, no navigation; the page's own
Content-Security-Policy forbids every network request. Jupyter Notebook, JupyterLab, VS Code and
Colab read ``_repr_html_`` / ``_repr_mimebundle_``; marimo reads ``_mime_``.
"""

from __future__ import annotations

import html
from typing import Any, Dict, Optional, Tuple

SANDBOX = "allow-scripts"
"""What the embedded page may do: run its own script, nothing more (notably not ``allow-same-origin``)."""


def iframe(page: str, *, height: int, title: str, width: str = "100%") -> str:
    """``page`` (a whole HTML document) as one iframe element that shows it inline.

    Args:
        page: the self-contained HTML page.
        height: the frame's height in CSS pixels (an iframe does not size itself to its content;
            the caller computes what its page needs).
        title: the frame's accessible name, read by screen readers.
        width: a CSS width; the default fills the notebook's column.
    """
    if isinstance(height, bool) or not isinstance(height, int) or height <= 0:
        raise ValueError(f"iframe: height must be a positive number of pixels, got {height!r}")
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="{SANDBOX}" '
        f'title="{html.escape(title, quote=True)}" '
        f'style="width:{html.escape(width, quote=True)};height:{height}px;border:1px solid #ddd;border-radius:6px" '
        'loading="eager"></iframe>'
    )


class NotebookPage:
    """Mixin for an object that a notebook shows as its interactive page.

    A subclass implements :meth:`notebook_page`; the display methods below follow from it.
    """

    def notebook_page(self) -> Tuple[str, int, str]:
        """``(page html, height in CSS pixels, title)`` of what the notebook shows."""
        raise NotImplementedError

    def _iframe(self) -> str:
        page, height, title = self.notebook_page()
        return iframe(page, height=height, title=title)

    def _repr_html_(self) -> str:
        return self._iframe()

    def _repr_mimebundle_(self, include: Optional[Any] = None, exclude: Optional[Any] = None) -> Dict[str, str]:
        return {"text/html": self._iframe(), "text/plain": repr(self)}

    def _mime_(self) -> Tuple[str, str]:
        return "text/html", self._iframe()
