"""The progress bar of training: a widget bar in a notebook that has widgets, else one text line.

``tqdm.auto`` shows a notebook widget where ipywidgets is installed, but where it is not, it
prints a red warning about the missing package and then a text bar on stderr, which a notebook
shows with a red background. Here a notebook without widgets gets tqdm's text bar on stdout
instead: one plain line that the notebook updates in place (its ``\\r`` rewrites the line).
tqdm is imported only when a bar is wanted.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any, Iterable


def in_notebook() -> bool:
    """Whether this runs in a notebook kernel (Jupyter, JupyterLab, VS Code, Colab)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_widgets() -> bool:
    """Whether the notebook's widget package (ipywidgets) is installed."""
    return importlib.util.find_spec("ipywidgets") is not None


def progress_bar(iterable: Iterable[Any], **options: Any) -> Any:
    """``tqdm(iterable, **options)`` of the kind that suits where the code runs (see the module docstring)."""
    if in_notebook():
        if has_widgets():
            from tqdm.notebook import tqdm as notebook_bar

            return notebook_bar(iterable, **options)
        from tqdm.std import tqdm as text_bar

        return text_bar(iterable, file=sys.stdout, ncols=100, mininterval=0.5, **options)
    from tqdm.std import tqdm as terminal_bar

    return terminal_bar(iterable, **options)
