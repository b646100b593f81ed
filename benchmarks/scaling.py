"""Batch-size rows of the benchmark: micrograd's step on N = 100, 1,000 and 10,000 points.

For each engine and N, a fresh process (``python benchmarks/scaling.py ENGINE N GRAPH``) builds
the data and the model, times the first call (for compile: trace, analysis, code and one run) and
the growth of its peak memory, then the steps after the first, and compares the loss and the
gradients with the eager engine's on the same batch. BLAS and PyTorch run on one thread
(:func:`pinned_env`), as a shared 2-core machine needs for steady numbers; the library itself
leaves threads alone.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import workloads as wl  # noqa: E402

Row = Dict[str, Any]
SIZES = (100, 1_000, 10_000)
ENGINES = ("straight-line (batch=False)", "loop (vectorise=False)", "NumPy (the default)", "NumPy, arrays in",
           "plain floats, forward + loss only", "PyTorch float64 tensors")
STRAIGHT_LINE_LIMIT = 1_000  # at 10,000 the straight-line program needs more memory than the machine has


def pinned_env() -> Dict[str, str]:
    """The environment for a worker: BLAS on one thread."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _model(graph: str) -> Any:
    from tracegrad import Value

    weights = wl.init_weights()
    return wl.tracegrad_mlp(weights) if graph == "fused" else wl.ScalarMLP(Value, weights)


def _eager(model: Any, X: Any, y: Any) -> List[float]:
    """The eager engine's loss and gradients on the batch (the collector paused: same numbers, faster)."""
    from tracegrad import Value

    params = model.parameters()
    for p in params:
        p.grad = 0.0
    gc.disable()
    loss = wl.svm_loss(model, [[Value(a) for a in row] for row in X], y)
    loss.backward()
    result = [loss.data] + [p.grad for p in params]
    del loss
    gc.enable()
    return result


def _torch_step(X: Any, y: Any) -> Callable[[], float]:
    import torch

    torch.set_num_threads(1)
    Xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    params = []
    for layer in wl.init_weights():
        params.append(torch.tensor([ws for ws, _ in layer], dtype=torch.float64, requires_grad=True))
        params.append(torch.tensor([b for _, b in layer], dtype=torch.float64, requires_grad=True))

    def step() -> float:
        h = Xt
        for i in range(0, len(params), 2):
            h = h @ params[i].T + params[i + 1]
            h = torch.relu(h) if i < len(params) - 2 else h
        loss = torch.relu(1 - yt * h[:, 0]).sum() * (1.0 / len(yt)) + wl.ALPHA * sum((p * p).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.0 * p.grad
        return float(loss.item())

    return step


def worker(engine: str, n: int, graph: str, budget: float = 1.0) -> Row:
    """One engine at batch ``n`` in this process."""
    X, y = wl.moons(n)
    result: Row = {"engine": engine, "batch": n, "graph": graph}
    before = _peak_mb()
    model: Any = None
    if engine.startswith("plain floats"):
        weights = wl.init_weights()
        step: Callable[[], Any] = lambda: wl.float_forward_loss(weights, X, y)
    elif engine.startswith("PyTorch"):
        step = _torch_step(X, y)
    else:
        from tracegrad.compile import compile

        model = _model(graph)
        params = model.parameters()
        options = {"straight": {"batch": False}, "loop (": {"vectorise": False}}
        kw = next((v for k, v in options.items() if engine.startswith(k)), {})
        compiled = compile(lambda X, y: wl.svm_loss(model, X, y), **kw)
        args: Tuple[Any, ...] = (X, y)
        if engine.endswith("arrays in"):
            import numpy

            args = (numpy.asarray(X, dtype=float), numpy.asarray(y, dtype=float))

        def step() -> Any:
            for p in params:
                p.grad = 0.0
            return compiled(*args)

    start, cpu = time.perf_counter(), time.process_time()
    if model is not None:
        compiled.prepare(*args)  # trace, analysis and code, not yet run
    result["compile_seconds"] = time.perf_counter() - start
    result["compile_cpu"] = time.process_time() - cpu
    step()  # the first call
    result["memory_mb"] = _peak_mb() - before
    if model is not None:
        result["lines"] = compiled.source.count("\n")
        result["plan"] = compiled.plan
        got = [step()] + [p.grad for p in model.parameters()]
        want = _eager(model, X, y)
        scale = max(abs(g) for g in want[1:]) or 1.0
        result["vs_eager"] = max(abs(a - b) for a, b in zip(got, want)) / scale
    times: List[float] = []
    cpu: List[float] = []
    while len(times) < 5 or (sum(times) < budget and len(times) < 200):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    result["times"], result["cpu"] = times, cpu
    return result


def _run(engine: str, n: int, graph: str) -> Row:
    command = [sys.executable, os.path.abspath(__file__), engine, str(n), graph]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=pinned_env())
    if done.returncode != 0:
        raise SystemExit(f"{engine} at {n}: the benchmark worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def rows(deep: bool = False, rounds: int = 3) -> List[Row]:
    """Every engine at every batch size (the fine-grained graph too with ``deep``), with targets.

    The engines of a batch size alternate, ``rounds`` times over, each turn in a fresh process;
    a row pools its turns' steps (compile time: the median turn's; memory: the largest)."""
    have_torch = _has("torch")
    found: Dict[Tuple[str, int, str], Row] = {}
    plans = [("fused", engine, n) for n in SIZES for engine in ENGINES]
    if deep:
        plans += [("fine", engine, n) for n in SIZES for engine in ENGINES[1:3]]
    runs: Dict[Tuple[str, int, str], List[Row]] = {}
    for size in sorted({n for _, _, n in plans}):
        for turn in range(rounds):
            for graph, engine, n in plans:
                if n != size or (engine.startswith("PyTorch") and not have_torch):
                    continue
                if engine.startswith("NumPy") and not _has("numpy"):
                    continue
                if engine.startswith("straight") and (n > STRAIGHT_LINE_LIMIT or (graph == "fine" and n > 100)):
                    found[(engine, n, graph)] = {"engine": engine, "batch": n, "graph": graph, "skipped": True}
                    continue
                print(f"batch {n:,}, round {turn + 1} of {rounds}: {engine} ({graph})", flush=True)
                runs.setdefault((engine, n, graph), []).append(_run(engine, n, graph))
    found.update({key: _pooled(turns) for key, turns in runs.items()})
    order = sorted(found, key=lambda key: (key[1], key[2] != "fused", ENGINES.index(key[0])))
    return [_row(found[key], found) for key in order]


def _pooled(turns: List[Row]) -> Row:
    """One engine's turns at one batch size as one result."""
    row = dict(turns[0])
    row["times"] = [t for r in turns for t in r["times"]]
    row["cpu"] = [t for r in turns for t in r["cpu"]]
    if "lines" in row:
        by_time = sorted(turns, key=lambda r: r["compile_seconds"])
        row["compile_seconds"] = by_time[len(by_time) // 2]["compile_seconds"]
        row["compile_cpu"] = by_time[len(by_time) // 2]["compile_cpu"]
        row["memory_mb"] = max(r["memory_mb"] for r in turns)
        row["vs_eager"] = max(r["vs_eager"] for r in turns)
    return row


def _has(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _median(r: Optional[Row]) -> Optional[float]:
    """The median CPU time of a step: what the targets compare (less swayed by other processes)."""
    return statistics.median(r["cpu"]) if r and "cpu" in r else None


def _row(r: Row, found: Dict[Tuple[str, int, str], Row]) -> Row:
    engine, n, graph = r["engine"], r["batch"], r["graph"]
    name = engine + (", fine-grained graph" if graph == "fine" else "")
    if r.get("skipped"):
        reason = "not run: needs more memory than the machine has (see N = 1,000)" if n > 1000 else "not run"
        return {"batch": n, "engine": name, "compile": reason}
    wall, med = statistics.median(r["times"]), statistics.median(r["cpu"])
    row: Row = {"batch": n, "engine": name, "step": f"{wall * 1e3:.2f} ({min(r['times']) * 1e3:.2f})",
                "cpu": f"{med * 1e3:.2f}", "per_sample": f"{med * 1e6 / n:.2f}", "seconds": r["times"]}
    if "lines" in r:
        compile_wall, compile_cpu = r["compile_seconds"], r["compile_cpu"]
        row.update(compile=f"{compile_wall:.2f} s (CPU {compile_cpu:.2f} s)",
                   memory=f"{r['memory_mb']:.0f} MB", lines=f"{r['lines']:,}", plan=r["plan"],
                   vs_eager="exact" if r["vs_eager"] == 0 else f"{r['vs_eager']:.1e}")
    targets: List[str] = []
    met: List[bool] = []
    if "lines" in r and not engine.startswith("straight"):
        targets.append("same numbers as eager to 1e-12")
        met.append(r["vs_eager"] <= 1e-12)
    if n == 10_000 and "lines" in r and not engine.startswith("straight"):
        targets.append("compiles in < 3 s and < 300 MB")
        met.append(compile_wall < 3.0 and r["memory_mb"] < 300)
        small = _median(found.get((engine, 100, graph)))
        if small is not None:
            targets.append("per sample at least as fast as at N = 100")
            met.append(med / n <= small / 100)
    if engine == "NumPy (the default)" and n == 1_000:
        straight = _median(found.get(("straight-line (batch=False)", 1_000, graph)))
        if straight is not None:
            targets.append(f"≥ 20× straight-line ({straight / med:.0f}×)")
            met.append(straight / med >= 20)
    if engine.startswith("NumPy") and n == 10_000:
        torch = _median(found.get(("PyTorch float64 tensors", 10_000, "fused")))
        if torch is not None:
            targets.append(f"within 3× of PyTorch ({med / torch:.2f}×)")
            met.append(med <= 3 * torch)
    if targets:
        row["target"] = "; ".join(targets)
        row["met"] = "yes" if all(met) else "no (" + ", ".join("yes" if m else "no" for m in met) + ")"
    return row


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
