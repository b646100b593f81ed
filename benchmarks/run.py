"""tracegrad against micrograd 0.1.0, side by side in one run: `make bench` (or python benchmarks/run.py).

The engines take turns (alternating, several repetitions) and the result is the ratio of the
medians. Each turn of the training step runs in a fresh process holding that engine alone, so
that no engine's garbage, and no other library's objects (PyTorch's), are billed to another by
the cyclic garbage collector. Results go to benchmarks/results/ as JSON and a Markdown table.

    python benchmarks/run.py            # everything but the 10,000,000-node chain (a few minutes)
    python benchmarks/run.py --deep     # also backpropagate the 10,000,000-node chain (~1.5 GB)
    python benchmarks/run.py --reps 3   # fewer repetitions
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
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
from tracegrad.files import write_atomic  # noqa: E402

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


ENGINES: Dict[str, Callable[[], Any]] = {
    "micrograd 0.1.0": lambda: Trainer("micrograd 0.1.0", mg.Value),
    "tracegrad eager": lambda: Trainer("tracegrad eager", tg.Value),
    "tracegrad eager, fused": lambda: Trainer("tracegrad eager, fused", tg.Value, tg.linear),
    "tracegrad compiled (fused)": lambda: Trainer("tracegrad compiled (fused)", tg.Value, tg.linear, compiled=True),
    "tracegrad compiled (fine-grained)": lambda: Trainer("tracegrad compiled (fine-grained)", tg.Value, compiled=True),
    "minimal eager engine (the floor)": lambda: Trainer("minimal eager engine (the floor)", wl.MinimalValue),
    "minimal eager engine, fused (the floor)": lambda: Trainer(
        "minimal eager engine, fused (the floor)", wl.MinimalValue, wl.MinimalValue.linear),
    "plain floats, forward + loss": lambda: FloatForward("plain floats, forward + loss", wl.float_forward_loss),
    "plain floats with builtins, forward + loss": lambda: FloatForward(
        "plain floats with builtins, forward + loss", wl.float_forward_loss_builtin),
    "PyTorch scalar tensors": lambda: TorchScalars(),
}


def worker(name: str, budget: float, check: bool) -> Dict[str, Any]:
    """One turn of one engine, in this process: the 10 losses (``check``), then timed steps."""
    start = time.perf_counter()
    trainer = ENGINES[name]()
    trainer.reset()
    trainer.step(0.0)  # the first call traces and compiles
    result: Dict[str, Any] = {"setup_seconds": time.perf_counter() - start}
    if check:
        trainer.reset()
        result["losses"] = [trainer.step(wl.learning_rate(k)) for k in range(10)]
        if name == "tracegrad compiled (fused)":
            trainer.reset()
            start = time.perf_counter()
            for k in range(100):
                trainer.step(wl.learning_rate(k))
            result["demo_seconds"] = time.perf_counter() - start
    times: List[float] = []
    spent = 0.0
    gc.collect()
    while not times or spent < budget:
        trainer.reset()
        start = time.perf_counter()
        trainer.step(0.5)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    result["times"] = times
    return result


def run_worker(name: str, budget: float, check: bool) -> Dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, "--budget", str(budget)]
    if check:
        command.append("--check")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the benchmark worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def training_steps(names: List[str], reps: int, budget: float) -> Dict[str, Dict[str, Any]]:
    """Every engine's turn in a fresh process, engines alternating, ``reps`` rounds."""
    results: Dict[str, Dict[str, Any]] = {name: {"times": []} for name in names}
    for rep in range(reps):
        for name in names:
            out = run_worker(name, budget, check=rep == 0)
            results[name]["times"].extend(out.pop("times"))
            results[name].update(out)
        print(f"round {rep + 1}/{reps} done")
        if rep == 0:
            check_losses(names, results)
    return results


def check_losses(names: List[str], results: Dict[str, Dict[str, Any]]) -> None:
    """Every engine's 10 training losses agree with the first engine's to 1e-12."""
    reference = results[names[0]]["losses"]
    for name in names:
        # the plain-float rows compute the forward only, at the initial weights: the first loss
        n = 1 if name.startswith("plain floats") else len(reference)
        worst = max(abs(a - b) for a, b in zip(results[name]["losses"][:n], reference[:n]))
        if worst > 1e-12:
            raise SystemExit(f"{name}: loss differs from {names[0]} by {worst:.3g} within 10 steps")
    return results


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
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=1.0,
                        help="seconds of timed steps per engine turn (default 1.0; at least one step)")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.budget, args.check)))
        return 0

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
    names = list(ENGINES)
    if importlib.util.find_spec("torch") is None:  # not imported here: its objects would slow the GC
        names.remove("PyTorch scalar tensors")
        print("PyTorch is not installed: skipping its row")
    steps = training_steps(names, args.reps, budget=args.budget)
    print("losses agree to 1e-12 over 10 steps:", ", ".join(names))
    times = {name: steps[name]["times"] for name in names}
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
            row["met"] = (f"{'yes' if base / med >= 400 else 'no'}; "
                          f"{'yes' if med <= 1.5 * plain else 'no'} ({med / plain:.2f}× plain)")
        rows.append(row)
    fused_s = steps["tracegrad compiled (fused)"]["setup_seconds"]
    fine_s = steps["tracegrad compiled (fine-grained)"]["setup_seconds"]
    rows.append({"workload": "compiling the training step (trace, generate, first call)",
                 "engine": "tracegrad compile, fused / fine-grained",
                 "median": f"{fused_s:.2f} s / {fine_s:.2f} s", "range": "", "target": "seconds",
                 "met": "yes" if max(fused_s, fine_s) < 10 else "no"})
    demo = steps["tracegrad compiled (fused)"]["demo_seconds"]
    rows.append({"workload": "moons demo, 100 steps", "engine": "tracegrad compiled (fused)", "median": f"{demo:.2f} s",
                 "range": "", "target": "< 1 s", "met": "yes" if demo < 1.0 else "no"})

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
    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "results.json"), json.dumps(results, indent=2) + "\n")
    table = markdown(rows, meta)
    write_atomic(os.path.join(args.out, "results.md"), table)
    print()
    print(table)
    print(f"written to {os.path.join(args.out, 'results.md')} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
