"""Grade your students' engines: every engine in a folder checked against tracegrad.

Each student hands in a module with a micrograd-style ``Value`` class (here ``demos/students/``:
Alice's is right, Bob's, Carol's and Dan's each have a classic mistake). ``check_engine`` finds
which ops each one has, runs each op alone, the classic traps (``a + a``, ``a * a``, a diamond, a
2,000-deep chain, ``backward()`` twice) and 200 random graphs built in both engines; for a wrong
gradient it prints the smallest graph that shows it, as code the student can paste, and names
the likely cause. This demo prints one line per student and writes each full report to
``out/grade_engines/NAME.txt``.

In a course's own test suite the same check is one assertion (``pytest`` shows the report)::

    from tracegrad.testing import assert_engine

    def test_engine():
        assert_engine(Value, allow=["a 2,000-deep chain"])   # recursion is allowed this term

Run: python demos/grade_engines.py [--out FOLDER] [--students FOLDER]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import output_dir

from tracegrad.files import write_atomic
from tracegrad.testing import EngineReport, check_engine

STUDENTS = Path(__file__).resolve().parent / "students"


@dataclass
class Outcome:
    reports: Dict[str, EngineReport]
    files: List[Path]


def load(path: Path) -> type:
    """The ``Value`` class of a student's module, loaded from its file."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so the printed examples can import it
    spec.loader.exec_module(module)
    return module.Value  # type: ignore[no-any-return]


def grade(report: EngineReport) -> str:
    """One line: what is wrong, by check, with the likely causes."""
    if not report.findings:
        return "passes everything"
    parts = []
    for finding in report.findings:
        what = finding.cause or finding.severity
        parts.append(f"{finding.check} ({what})" if finding.severity != "note" else f"note: {finding.check}")
    return "; ".join(parts)


def main(argv: Optional[Sequence[str]] = None, max_examples: int = 200) -> Outcome:
    parser = argparse.ArgumentParser(description="Grade the engines in a folder against tracegrad.")
    parser.add_argument("--out", help="folder for the reports (default: out/grade_engines)")
    parser.add_argument("--students", default=str(STUDENTS), help="folder of students' modules")
    args = parser.parse_args(argv)
    out = output_dir("grade_engines", args.out, quiet=True)
    reports: Dict[str, EngineReport] = {}
    files = []
    paths = sorted(p for p in Path(args.students).glob("*.py") if not p.name.startswith("_"))
    print(f"grading {len(paths)} engines with {max_examples} random graphs each\n")
    print(f"{'student':<8} {'ops found':<32} result")
    for path in paths:
        report = check_engine(load(path), max_examples=max_examples, say=None)
        reports[path.stem] = report
        files.append(Path(write_atomic(out / f"{path.stem}.txt", str(report) + "\n")))
        print(f"{path.stem:<8} {' '.join(report.found):<32} {grade(report)}")
    print(f"\nfull reports, with the code to paste: {', '.join(str(f) for f in files)}")
    return Outcome(reports, files)


if __name__ == "__main__":
    main()
