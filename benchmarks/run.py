"""tracegrad against micrograd 0.1.0, side by side in one run: `make bench` (or python benchmarks/run.py).

The engines take turns (alternating, several repetitions, a collection of the cyclic garbage
before each engine's turn so that nobody's garbage is billed to the other) and the result is the
ratio of the medians. Results go to benchmarks/results/ as JSON and as a Markdown table.

    python benchmarks/run.py            # everything but the 10,000,000-node chain (a few minutes)
    python benchmarks/run.py --deep     # also backpropagate the 10,000,000-node chain (~1.5 GB)
    python benchmarks/run.py --reps 3   # fewer repetitions
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import workloads as wl  # noqa: E402

import tracegrad.engine as tg  # noqa: E402
from tracegrad.compile import compile as tg_compile  # noqa: E402

try:
    import micrograd.engine as mg
except ImportError:  # pragma: no cover - make bench installs it
    sys.exit("micrograd is not installed: `pip install micrograd==0.1.0` (make bench does it)")

Row = Dict[str, Any]


def median_min_max(times: List[float]) -> Tuple[float, float, float]:
    return statistics.median(times), min(times), max(times)


# --- (1) the training step


class Trainer:
    """One engine training micrograd's demo model: ``step()`` is forward, backward and update."""

    def __init__(self, name: str, value: Callable[[float], Any], linear: Any = None, compiled: bool = False) -> None:
        self.name = name
        self.value = value
        self.X, self.y = wl.moons()
        self.weights = wl.init_weights()
        self.model = wl.ScalarMLP(value, self.weights, linear)
        self.params = self.model.parameters()
        self.initial = [p.data for p in self.params]
        self.compiled = tg_compile(lambda X, y: wl.svm_loss(self.model, X, y)) if compiled else None

    def reset(self) -> None:
        for p, w in zip(self.params, self.initial):
            p.data = w

    def step(self, lr: float) -> float:
        if self.compiled is None:
            return wl.train_step(self.model, self.value, self.X, self.y, lr)
        for p in self.params:
            p.grad = 0.0
        loss = self.compiled(self.X, self.y)
        for p in self.params:
            p.data -= lr * p.grad
        return loss


class FloatForward:
    """The plain-float limit: the same network and loss, forward only, in straight float code."""

    def __init__(self, name: str, fn: Callable[..., float]) -> None:
        self.name = name
        self.fn = fn
        self.X, self.y = wl.moons()
        self.weights = wl.init_weights()

    def reset(self) -> None:
        pass

    def step(self, lr: float) -> float:
        return self.fn(self.weights, self.X, self.y)


class TorchScalars:
    """PyTorch on 0-d tensors with the same fine-grained graph, for context."""

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.name = "PyTorch scalar tensors"
        self.X, self.y = wl.moons()
        t = lambda x: torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
        self.model = wl.ScalarMLP(t, wl.init_weights())
        self.params = self.model.parameters()
        self.initial = [p.item() for p in self.params]

    def reset(self) -> None:
        with self.torch.no_grad():
            for p, w in zip(self.params, self.initial):
                p.fill_(w)

    def step(self, lr: float) -> float:
        torch = self.torch
        inputs = [[torch.tensor(a, dtype=torch.float64) for a in row] for row in self.X]
        scores = [self.model(x) for x in inputs]
        losses = [torch.relu(1 + -yi * si) for yi, si in zip(self.y, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + wl.ALPHA * sum(p * p for p in self.params)
        for p in self.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        return loss.item()


def check_losses(trainers: List[Any], steps: int = 10) -> List[List[float]]:
    """Train every engine ``steps`` steps from the same weights: the losses must agree to 1e-12."""
    curves = []
    for t in trainers:
        t.reset()
        curves.append([t.step(wl.learning_rate(k)) for k in range(steps)])
        t.reset()
    reference = curves[0]
    for t, curve in zip(trainers, curves):
        worst = max(abs(a - b) for a, b in zip(curve, reference))
        if worst > 1e-12:
            raise SystemExit(f"{t.name}: loss differs from {trainers[0].name} by {worst:.3g} within {steps} steps")
    return curves


def time_steps(trainers: List[Any], reps: int, budget: float = 0.3) -> Dict[str, List[float]]:
    """Per-step times, engines alternating; each turn times steps from the same initial weights."""
    times: Dict[str, List[float]] = {t.name: [] for t in trainers}
    for _ in range(reps):
        for t in trainers:
            gc.collect()
            spent = 0.0
            while spent < budget or not times[t.name]:
                t.reset()
                start = time.perf_counter()
                t.step(0.5)
                elapsed = time.perf_counter() - start
                times[t.name].append(elapsed)
                spent += elapsed
                if spent >= budget:
                    break
    return times


# --- (2) the 100,000-step chain, (3) bytes per Value, (4) the deepest chain


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
    return with_big_stack(run) if recursive else run()


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

    return with_big_stack(run) if recursive else run()


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


# --- the report


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds >= 0.01 else f"{seconds * 1e3:.2f} ms"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def write_atomic(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def markdown(rows: List[Row], meta: Dict[str, Any]) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; `{meta['command']}`.",
        "Ratios are of medians, measured side by side in one run (engines alternating).",
        "",
        "| workload | engine | median | min–max | × faster than micrograd | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['engine']} | {r['median']} | {r['range']} | {r.get('ratio', '')} "
            f"| {r.get('target', '')} | {r.get('met', '')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each alternating round (default 5)")
    parser.add_argument("--deep", action="store_true", help="also backpropagate a 10,000,000-node chain")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for results.json and results.md")
    args = parser.parse_args(argv)

    rows: List[Row] = []
    results: Dict[str, Any] = {}
    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python benchmarks/run.py" + " ".join([""] + (argv if argv is not None else sys.argv[1:])),
        "gc_thresholds": gc.get_threshold(),
    }
    print(meta["machine"])

    # (1) the training step, (5) the plain-float limit, (6) PyTorch
    start = time.perf_counter()
    compiled = Trainer("tracegrad compiled (fused)", tg.Value, tg.linear, compiled=True)
    compiled.step(0.0)
    compile_seconds = time.perf_counter() - start
    compiled_fine = Trainer("tracegrad compiled (fine-grained)", tg.Value, compiled=True)
    start = time.perf_counter()
    compiled_fine.step(0.0)
    compile_fine_seconds = time.perf_counter() - start
    trainers: List[Any] = [
        Trainer("micrograd 0.1.0", mg.Value),
        Trainer("tracegrad eager", tg.Value),
        Trainer("tracegrad eager, fused", tg.Value, tg.linear),
        compiled,
        compiled_fine,
    ]
    check_losses(trainers)
    print("losses agree to 1e-12 over 10 steps:", ", ".join(t.name for t in trainers))
    floats = [FloatForward("plain floats, forward + loss", wl.float_forward_loss),
              FloatForward("plain floats with builtins, forward + loss", wl.float_forward_loss_builtin)]
    for f in floats:
        got, want = f.step(0.0), trainers[1].step(0.0)
        trainers[1].reset()
        if abs(got - want) > 1e-12:
            raise SystemExit(f"{f.name}: loss {got!r} differs from the engines' {want!r}")
    others: List[Any] = list(floats)
    try:
        others.append(TorchScalars())
    except ImportError:
        print("PyTorch is not installed: skipping its row")

    times = time_steps(trainers + others[:2], args.reps)
    if len(others) > 2:
        times.update(time_steps(others[2:], max(2, args.reps // 2), budget=0.0))
    base = statistics.median(times["micrograd 0.1.0"])
    plain = statistics.median(times["plain floats, forward + loss"])
    targets = {
        "tracegrad eager": 20,
        "tracegrad eager, fused": 120,
        "tracegrad compiled (fused)": 400,
    }
    for name, ts in times.items():
        med, lo, hi = median_min_max(ts)
        row: Row = {"workload": "training step (65,818 nodes)", "engine": name, "median": fmt_ms(med),
                    "range": f"{fmt_ms(lo)} – {fmt_ms(hi)}", "ratio": f"{base / med:.1f}×",
                    "seconds": ts}
        if name in targets:
            row["target"] = f"≥ {targets[name]}×"
            row["met"] = "yes" if base / med >= targets[name] else "no"
        if name == "tracegrad compiled (fused)":
            row["target"] += ", ≤ 1.5× plain floats"
            row["met"] = ("yes" if base / med >= 400 and med <= 1.5 * plain else "no") + f" ({med / plain:.2f}× plain)"
        rows.append(row)
    rows.append({"workload": "compiling the training step", "engine": "tracegrad compile, fused / fine-grained",
                 "median": f"{compile_seconds:.2f} s / {compile_fine_seconds:.2f} s", "range": "", "target": "seconds",
                 "met": "yes" if max(compile_seconds, compile_fine_seconds) < 10 else "no"})

    # the 100-step moons demo, compiled
    compiled.reset()
    start = time.perf_counter()
    for k in range(100):
        compiled.step(wl.learning_rate(k))
    demo = time.perf_counter() - start
    compiled.reset()
    rows.append({"workload": "moons demo, 100 steps", "engine": "tracegrad compiled (fused)", "median": f"{demo:.2f} s",
                 "range": "", "target": "< 1 s", "met": "yes" if demo < 1.0 else "no"})
    print(f"100-step moons demo compiled: {demo:.2f} s")

    # (2) the chain
    n = 100_000
    chain_times: Dict[str, List[float]] = {"micrograd 0.1.0": [], "tracegrad eager": []}
    for _ in range(max(3, args.reps // 2)):
        chain_times["micrograd 0.1.0"].append(time_chain(mg.Value, n, recursive=True))
        chain_times["tracegrad eager"].append(time_chain(tg.Value, n, recursive=False))
    cbase = statistics.median(chain_times["micrograd 0.1.0"])
    for name, ts in chain_times.items():
        med, lo, hi = median_min_max(ts)
        note = "(micrograd needs its recursion limit raised)" if "micro" in name else ""
        rows.append({"workload": "chain y = y*1.0001 + 0.0001, 100,000 steps, build + backward", "engine": name,
                     "median": fmt_ms(med), "range": f"{fmt_ms(lo)} – {fmt_ms(hi)}", "ratio": f"{cbase / med:.1f}×",
                     "seconds": ts, "target": note})

    # (3) bytes per Value
    for name, value in (("micrograd 0.1.0", mg.Value), ("tracegrad eager", tg.Value)):
        ours = name.startswith("tracegrad")
        b = bytes_per_value(value, recursive=not ours)
        rows.append({"workload": "bytes per Value after backward (tracemalloc)", "engine": name,
                     "median": f"{b:.0f} B", "range": "", "target": "≤ 150 B" if ours else "",
                     "met": ("yes" if b <= 150 else "no") if ours else ""})

    # (4) the deepest chain at the default recursion limit
    depth = deepest_backward(mg.Value, 5000)
    print(f"micrograd backpropagates a chain {depth} ops deep at the default recursion limit")
    rows.append({"workload": "deepest chain backward at the default recursion limit", "engine": "micrograd 0.1.0",
                 "median": f"{depth:,} ops", "range": ""})
    deep_n = 10_000_000 if args.deep else 1_000_000
    x, y = deep_chain(tg.Value, deep_n)
    start = time.perf_counter()
    y.backward()
    deep_seconds = time.perf_counter() - start
    ok = x.grad == 1.0
    del x, y
    rows.append({"workload": "deepest chain backward at the default recursion limit", "engine": "tracegrad eager",
                 "median": f"{deep_n:,} ops ({deep_seconds:.1f} s backward)", "range": "",
                 "target": "10,000,000 (run with --deep)",
                 "met": ("yes" if args.deep else "ok") if ok else "no"})

    results = {"meta": meta, "rows": rows}
    write_atomic(os.path.join(args.out, "results.json"), json.dumps(results, indent=2) + "\n")
    table = markdown(rows, meta)
    write_atomic(os.path.join(args.out, "results.md"), table)
    print()
    print(table)
    print(f"written to {os.path.join(args.out, 'results.md')} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
