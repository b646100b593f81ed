"""The benchmark's chain rows: a 100,000-step chain built and backpropagated, the bytes a Value
takes, and the deepest chain each engine backpropagates at Python's default recursion limit."""

from __future__ import annotations

import gc
import statistics
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable, Dict, List, Tuple

import report

Row = Dict[str, Any]


def chain(value: Callable[[float], Any], n: int) -> Tuple[Any, Any]:
    x = value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0001
    return x, y


def with_big_stack(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` in a thread with a 1 GB stack and a high recursion limit (micrograd recurses)."""
    result: List[Any] = []
    old_size = threading.stack_size(1 << 30)
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10**6)
    try:
        thread = threading.Thread(target=lambda: result.append(fn()))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_size)
        sys.setrecursionlimit(old_limit)
    return result[0]


def time_chain(value: Callable[[float], Any], n: int, recursive: bool) -> float:
    def run() -> float:
        start = time.perf_counter()
        x, y = chain(value, n)
        y.backward()
        elapsed = time.perf_counter() - start
        if abs(x.grad - 1.0001**n) > 1e-6 * 1.0001**n:
            raise SystemExit(f"chain: gradient {x.grad!r}, expected {1.0001**n!r}")
        return elapsed

    gc.collect()
    return with_big_stack(run) if recursive else run()  # type: ignore[no-any-return]


def bytes_per_value(value: Callable[[float], Any], recursive: bool, n: int = 10_000) -> float:
    """Traced memory held by an ``n``-step chain after its backward, per Value (4 per step).

    (10,000 steps: micrograd under tracemalloc slows down sharply on longer chains.)
    """

    def run() -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        x, y = chain(value, n)
        y.backward()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del x, y
        return (after - before) / (4 * n + 1)  # per step: 1.0001, the product, 0.0001, the sum

    return with_big_stack(run) if recursive else run()  # type: ignore[no-any-return]


def deep_chain(value: Callable[[float], Any], n: int) -> Tuple[Any, Any]:
    """``y = y + 0.0001``, ``n`` ops deep."""
    x = value(1.0)
    y = x
    for _ in range(n):
        y = y + 0.0001
    return x, y


def deepest_backward(value: Callable[[float], Any], limit: int) -> int:
    """The deepest chain ``value`` backpropagates at the default recursion limit (bisection)."""
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        x, y = deep_chain(value, mid)
        try:
            y.backward()
            lo = mid
        except RecursionError:
            hi = mid - 1
        del x, y
    return lo


def rows(micrograd: Callable[[float], Any], tracegrad: Callable[[float], Any], reps: int, deep: bool) -> List[Row]:
    """The chain, bytes-per-Value and deepest-chain rows, micrograd against tracegrad."""
    result: List[Row] = []
    n = 100_000
    times: Dict[str, List[float]] = {"micrograd 0.1.0": [], "tracegrad eager": []}
    for _ in range(max(3, reps // 2)):
        times["micrograd 0.1.0"].append(time_chain(micrograd, n, recursive=True))
        times["tracegrad eager"].append(time_chain(tracegrad, n, recursive=False))
    base = statistics.median(times["micrograd 0.1.0"])
    for name, ts in times.items():
        note = "(micrograd needs its recursion limit raised)" if "micro" in name else ""
        result.append({"workload": "chain y = y*1.0001 + 0.0001, 100,000 steps, build + backward", "engine": name,
                       "median": report.ms(statistics.median(ts)), "min": report.ms(min(ts)),
                       "ratio": f"{base / statistics.median(ts):.1f}×", "seconds": ts, "target": note})
    for name, value in (("micrograd 0.1.0", micrograd), ("tracegrad eager", tracegrad)):
        ours = name.startswith("tracegrad")
        b = bytes_per_value(value, recursive=not ours)
        result.append({"workload": "bytes per Value after backward (tracemalloc)", "engine": name,
                       "median": f"{b:.0f} B", "target": "≤ 150 B" if ours else "",
                       "met": ("yes" if b <= 150 else "no") if ours else ""})
    depth = deepest_backward(micrograd, 5000)
    result.append({"workload": "deepest chain backward at the default recursion limit", "engine": "micrograd 0.1.0",
                   "median": f"{depth:,} ops"})
    deep_n = 10_000_000 if deep else 1_000_000
    x, y = deep_chain(tracegrad, deep_n)
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    ok = x.grad == 1.0
    del x, y
    result.append({"workload": "deepest chain backward at the default recursion limit", "engine": "tracegrad eager",
                   "median": f"{deep_n:,} ops ({seconds:.1f} s backward)", "target": "10,000,000 (run with --deep)",
                   "met": ("yes" if deep else "ok") if ok else "no"})
    return result
