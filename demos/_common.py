"""Helpers the demos share: where pictures go, matplotlib without a display, atomic saving."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from tracegrad.files import write_atomic

PathLike = Union[str, "os.PathLike[str]"]


def output_dir(name: str, out: Optional[PathLike] = None, quiet: bool = False) -> Path:
    """The demo's output folder (``out/NAME`` unless given), created, and announced."""
    path = Path(out) if out is not None else Path("out") / name
    path.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"{name}: writing pictures to {path}/")
    return path


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend: works with no display, e.g. on a server or in CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Write a figure as PNG atomically (a temporary file in the same folder, then a rename)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    write_atomic(path, buffer.getvalue())
    return path


def parse_args(description: str, argv: Optional[Sequence[str]] = None, out: bool = True) -> argparse.Namespace:
    """The demos' command line: ``--out FOLDER`` for those that write pictures, and nothing else
    (an unknown argument is an error, never silently ignored or taken for a folder)."""
    parser = argparse.ArgumentParser(description=description)
    if out:
        parser.add_argument("--out", help="folder for the pictures (default: out/NAME)")
    return parser.parse_args(argv)
