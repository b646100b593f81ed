"""tracegrad against micrograd 0.1.0, side by side in one run: `make bench` (or python benchmarks/run.py).

The engines take turns (alternating, several repetitions) and the result is the ratio of the
medians. Each turn of the training step runs in a fresh process holding that engine alone, so
that no engine's garbage, and no other library's objects (PyTorch's), are billed to another by
the cyclic garbage collector. Every turn times its first step apart and reports the steps after
it. The batch-size rows (benchmarks/scaling.py) run each engine and batch in a fresh process too,
with BLAS and PyTorch pinned to one thread. Results go to benchmarks/results/ as JSON and Markdown.

    python benchmarks/run.py            # everything but the 10,000,000-node chain (several minutes)
    python benchmarks/run.py --deep     # also the 10,000,000-node chain and the fine-grained batch rows
    python benchmarks/run.py --reps 3   # fewer repetitions
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import chains  # noqa: E402
import report  # noqa: E402
import scaling  # noqa: E402
import workloads as wl  # noqa: E402

import tracegrad.engine as tg  # noqa: E402
from tracegrad.compile import compile as tg_compile  # noqa: E402
from tracegrad.files import write_atomic  # noqa: E402

try:
    import micrograd.engine as mg
except ImportError:  # pragma: no cover - make bench installs it
    sys.exit("micrograd is not installed: `pip install micrograd==0.1.0` (make bench does it)")

Row = Dict[str, Any]


# --- (1) the training step of micrograd's demo, every engine


class Trainer:
    """One engine training micrograd's demo model: ``step()`` is forward, backward and update."""

    def __init__(self, value: Callable[[float], Any], model: Any = None, compiled: Optional[Dict[str, Any]] = None
                 ) -> None:
        self.value = value
        self.X, self.y = wl.moons()
        self.model = model if model is not None else wl.ScalarMLP(value, wl.init_weights())
        self.params = self.model.parameters()
        self.initial = [p.data for p in self.params]
        self.compiled = None if compiled is None else tg_compile(lambda X, y: wl.svm_loss(self.model, X, y), **compiled)

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

    def __init__(self, fn: Callable[..., float]) -> None:
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

        torch.set_num_threads(1)
        self.torch = torch
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


def _mlp() -> Any:
    return wl.tracegrad_mlp(wl.init_weights())


ENGINES: Dict[str, Callable[[], Any]] = {
    "micrograd 0.1.0": lambda: Trainer(mg.Value),
    "micrograd 0.1.0, collector off": lambda: Trainer(mg.Value),
    "tracegrad eager": lambda: Trainer(tg.Value),
    "tracegrad eager, fused: MLP(fused=True)": lambda: Trainer(tg.Value, _mlp()),
    "tracegrad compiled, NumPy (the default)": lambda: Trainer(tg.Value, _mlp(), {}),
    "tracegrad compiled, loop (vectorise=False)": lambda: Trainer(tg.Value, _mlp(), {"vectorise": False}),
    "tracegrad compiled, straight-line (batch=False)": lambda: Trainer(tg.Value, _mlp(), {"batch": False}),
    "minimal eager engine (a floor)": lambda: Trainer(wl.MinimalValue),
    "plain floats, forward + loss": lambda: FloatForward(wl.float_forward_loss),
    "plain floats with builtins, forward + loss": lambda: FloatForward(wl.float_forward_loss_builtin),
    "PyTorch scalar tensors": lambda: TorchScalars(),
}
EAGER_TARGETS = {"tracegrad eager": 17, "tracegrad eager, fused: MLP(fused=True)": 80}


def worker(name: str, budget: float, check: bool) -> Dict[str, Any]:
    """One turn of one engine, in this process: the first step, the 10 losses (``check``), then
    timed steps after the first (wall clock and CPU time)."""
    if name.endswith("collector off"):
        gc.disable()
    start = time.perf_counter()
    trainer = ENGINES[name]()
    trainer.reset()
    first = time.perf_counter()
    trainer.step(0.0)  # the first step (a compiled engine traces and writes its code here)
    result: Dict[str, Any] = {"first_seconds": time.perf_counter() - first,
                              "setup_seconds": time.perf_counter() - start}
    if check:
        trainer.reset()
        result["losses"] = [trainer.step(wl.learning_rate(k)) for k in range(10)]
    times: List[float] = []
    cpu: List[float] = []
    if gc.isenabled():
        gc.collect()
    while len(times) < 3 or sum(times) < budget:  # micrograd's steps swing with its collector: three at least
        trainer.reset()
        start, start_cpu = time.perf_counter(), time.process_time()
        trainer.step(0.5)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    result["times"], result["cpu"] = times, cpu
    return result


def run_worker(name: str, budget: float, check: bool) -> Dict[str, Any]:
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, "--budget", str(budget)]
    if check:
        command.append("--check")
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=scaling.pinned_env())
    if done.returncode != 0:
        raise SystemExit(f"{name}: the benchmark worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def training_steps(names: List[str], reps: int, budget: float) -> Dict[str, Dict[str, Any]]:
    """Every engine's turn in a fresh process, engines alternating, ``reps`` rounds."""
    results: Dict[str, Dict[str, Any]] = {name: {"times": [], "cpu": [], "first": []} for name in names}
    for rep in range(reps):
        for name in names:
            out = run_worker(name, budget, check=rep == 0)
            results[name]["times"].extend(out.pop("times"))
            results[name]["cpu"].extend(out.pop("cpu"))
            results[name]["first"].append(out.pop("first_seconds"))
            results[name].update(out)
        print(f"round {rep + 1}/{reps} done", flush=True)
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


def step_rows(steps: Dict[str, Dict[str, Any]]) -> List[Row]:
    base = steps["micrograd 0.1.0"]
    base_med, base_min = statistics.median(base["times"]), min(base["times"])
    base_cpu = statistics.median(base["cpu"])
    rows: List[Row] = []
    for name, r in steps.items():
        med, lo, cpu = statistics.median(r["times"]), min(r["times"]), statistics.median(r["cpu"])
        row: Row = {"workload": "training step of micrograd's demo (steps after the first)", "engine": name,
                    "median": report.ms(med), "min": report.ms(lo), "cpu": report.ms(cpu),
                    "first": report.ms(statistics.median(r["first"])), "ratio": f"{base_med / med:.1f}×",
                    "ratio_min": f"{base_min / lo:.1f}×", "ratio_cpu": f"{base_cpu / cpu:.1f}×",
                    "seconds": r["times"]}
        if name in EAGER_TARGETS:
            target = EAGER_TARGETS[name]
            row["target"] = f"≥ {target}×"
            row["met"] = "yes" if base_med / med >= target else "no"
        rows.append(row)
    return rows


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each alternating round (default 5)")
    parser.add_argument("--deep", action="store_true",
                        help="also the 10,000,000-node chain, and the fine-grained graph's batch rows")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="folder for results.json and results.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=1.0,
                        help="seconds of timed steps per engine turn (default 1.0; at least one step)")
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-batches", action="store_true", help="leave out the batch-size rows")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.budget, args.check)))
        return 0

    meta = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": report.machine(),
        "command": "python benchmarks/run.py" + " ".join([""] + (argv if argv is not None else sys.argv[1:])),
        "gc_thresholds": gc.get_threshold(),
    }
    print(meta["machine"], flush=True)
    names = list(ENGINES)
    if importlib.util.find_spec("torch") is None:  # not imported here: its objects would slow the GC
        names.remove("PyTorch scalar tensors")
        print("PyTorch is not installed: skipping its rows")
    steps = training_steps(names, args.reps, budget=args.budget)
    print("losses agree to 1e-12 over 10 steps:", ", ".join(names))
    rows = step_rows(steps)
    batch_rows = [] if args.skip_batches else scaling.rows(deep=args.deep, rounds=min(args.reps, 3))
    rows += chains.rows(mg.Value, tg.Value, args.reps, args.deep)

    results = {"meta": meta, "rows": rows, "batches": batch_rows}
    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "results.json"), json.dumps(results, indent=2) + "\n")
    table = report.markdown(rows, batch_rows, meta)
    write_atomic(os.path.join(args.out, "results.md"), table)
    print()
    print(table)
    print(f"written to {os.path.join(args.out, 'results.md')} and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
