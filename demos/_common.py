"""Helpers the demos share: where pictures go, matplotlib without a display, atomic saving."""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from tracegrad.files import write_atomic

PathLike = Union[str, "os.PathLike[str]"]

PAGES: List[Tuple[Path, float, float, float]] = []
"""Every training page written so far: its path, its size in MB, the seconds it took and the
seconds of CPU (on a shared machine the first swings with the load, the second much less)."""


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


def save_page(page: Any, path: Path, quiet: bool = False, **options: Any) -> Path:
    """Write a training page (from a recorded History, or runs side by side from a dict of them)
    and say where, how large it is and how long it took to make."""
    import time

    from tracegrad.viz.learning import replay

    start, cpu = time.perf_counter(), time.process_time()
    made = replay(page, **options)
    made.save_html(path)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    PAGES.append((path, path.stat().st_size / 1e6, seconds, cpu))
    if not quiet:
        print(f"training page: {path} ({path.stat().st_size / 1e6:.2f} MB, made in {seconds:.1f} s)")
    return path


def parse_args(description: str, argv: Optional[Sequence[str]] = None, out: bool = True) -> argparse.Namespace:
    """The demos' command line: ``--out FOLDER`` for those that write pictures, and nothing else
    (an unknown argument is an error, never silently ignored or taken for a folder)."""
    parser = argparse.ArgumentParser(description=description)
    if out:
        parser.add_argument("--out", help="folder for the pictures (default: out/NAME)")
    return parser.parse_args(argv)
