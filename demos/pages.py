"""The training pages of the demos, with the size of each and the time it took to make it.

Runs the demos that write training pages (their other output is hidden) and prints a table.

Run: python demos/pages.py [--out FOLDER]
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import celsius
import driving_test
import moons
import perceptron
import softmax
from _common import PAGES, parse_args

if __name__ == "__main__":
    out = Path(parse_args(__doc__).out or "out")
    for demo in (moons, perceptron, celsius, driving_test, softmax):
        name = demo.__name__
        with contextlib.redirect_stdout(io.StringIO()):
            demo.main(str(out / name), **({"progress": False} if demo is moons else {}))  # type: ignore[operator]
    print(f"{'page':<56} {'size':>8} {'made in':>8} {'CPU':>7}")
    for path, megabytes, seconds, cpu in PAGES:
        print(f"{path!s:<56} {megabytes:>5.2f} MB {seconds:>6.1f} s {cpu:>5.1f} s")
