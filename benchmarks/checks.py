"""How long the checks take: check_engine on micrograd 0.1.0 and on the test suite's engines with
a planted bug, gradcheck_model on micrograd's demo MLP, and gradcheck with and without kinks.

    python benchmarks/checks.py             # 5 repetitions of each, medians and minimums
    python benchmarks/checks.py --reps 3
    python benchmarks/checks.py --seeds 100 # each planted bug under seeds 0..99: the cause named
                                            # and the op nodes left in the shrunk graph

The checks are what a teacher or a model's author waits for; the numbers are wall-clock seconds
on whatever machine runs this (a shared machine is noisy: read the medians and minimums).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from typing import Any, Callable, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from tracegrad.check import gradcheck, gradcheck_model  # noqa: E402
from tracegrad.nn import MLP  # noqa: E402
from tracegrad.nn.data import moons  # noqa: E402
from tracegrad.nn.losses import hinge  # noqa: E402
from tracegrad.testing import check_engine  # noqa: E402

import learner_engines  # noqa: E402


def timed(fn: Callable[[], Any], reps: int) -> List[float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def engines() -> Dict[str, Any]:
    found: Dict[str, Any] = {}
    try:
        from micrograd.engine import Value

        found["micrograd 0.1.0"] = Value
    except ImportError:
        print("micrograd is not installed (pip install micrograd==0.1.0): left out")
    for name in ("Good", "Equals", "DoubleVisit", "WrongTanh", "SignSub", "SignDiv"):
        found[f"tests/learner_engines.{name}"] = getattr(learner_engines, name)
    return found


def seeds(count: int) -> None:
    """check_engine's random graphs on each planted bug under ``count`` seeds."""
    for name in ("Equals", "DoubleVisit", "WrongTanh", "SignSub", "SignDiv"):
        causes: Counter[Any] = Counter()
        sizes: Counter[int] = Counter()
        times = []
        for seed in range(count):
            start = time.perf_counter()
            (finding,) = check_engine(getattr(learner_engines, name), seed=seed, checks=["random graphs"],
                                      say=None).findings
            times.append(time.perf_counter() - start)
            causes[finding.cause] += 1
            sizes[sum(1 for line in finding.example.splitlines() if line.startswith(("t", "out =")))] += 1
        print(f"{name:<12} causes {dict(causes)}  op nodes left {dict(sorted(sizes.items()))}  "
              f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=0, help="sweep the planted bugs over this many seeds")
    args = parser.parse_args()
    if args.seeds:
        seeds(args.seeds)
        return
    reps = args.reps
    rows = []
    for name, cls in engines().items():
        report = check_engine(cls, say=None)
        verdicts = ", ".join(f"{f.check}: {f.cause or f.severity}" for f in report.findings) or "no findings"
        rows.append((f"check_engine({name})", timed(lambda cls=cls: check_engine(cls, say=None), reps), verdicts))
    data = moons(8, seed=1, signed=True)
    for fused in (True, False):
        model = MLP(2, [16, 16, 1], rng=1, fused=fused)
        label = f"MLP(2, [16, 16, 1], fused={fused}), 8 points"
        for method, fast in (("auto", False), ("central", False), ("auto", True)):
            def check(m: Any = model, k: str = method, f: bool = fast) -> Any:
                return gradcheck_model(m, hinge, data, method=k, fast=f)

            rows.append((f"gradcheck_model({label}, method={method!r}, fast={fast})", timed(check, reps), ""))

    def smooth(x: Any, w: Any, b: Any) -> Any:
        return ((x * w + b).tanh() * 2.0 - x).sigmoid()

    def kinked(x: Any, w: Any, b: Any) -> Any:
        return ((x * w + b).relu() * 2.0 - x).abs()

    for label, f in (("smooth", smooth), ("a relu at its kink", kinked)):
        point = [1.0, 2.0, -2.0]  # x * w + b = 0
        rows.append((f"gradcheck({label})", timed(lambda f=f, p=point: gradcheck(f, p), reps * 20), ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  median     min        findings")
    for what, times, verdicts in rows:
        print(f"{what:<{width}}  {_seconds(statistics.median(times)):<9}  {_seconds(min(times)):<9}  {verdicts}")


def _seconds(t: float) -> str:
    return f"{t:.3f} s" if t >= 0.1 else f"{t * 1000:.2f} ms"


if __name__ == "__main__":
    main()
